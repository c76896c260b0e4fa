"""The console's languages: choosing one before sign-in, and catalogs complete in every language."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup

from caseworker_console.i18n import DOMAIN, LANGUAGES, LOCALES_DIR, language_name, negotiate

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [locale for locale in LANGUAGES if locale != "en"]
# What a stray "%" looks like to the newstyle gettext of the templates, which %-formats every string.
BARE_PERCENT = re.compile(r"%(?!\(\w+\)s|%)")


def singular(msgid: str | tuple[str, ...]) -> str:
    """A msgid, or a plural entry's singular (its forms keep the singular's placeholders)."""
    return msgid if isinstance(msgid, str) else msgid[0]


def catalog(locale: str) -> dict[str, list[str]]:
    """Each msgid with its translation, or a plural entry's every form (as many as the language has)."""
    with (LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        return {
            singular(message.id): [message.string]
            if isinstance(message.string, str)
            else list(message.string)
            for message in read_po(po)
            if message.id
        }


def template_ids() -> set[str]:
    with (LOCALES_DIR / f"{DOMAIN}.pot").open("rb") as pot:
        return {singular(message.id) for message in read_po(pot) if message.id}


def source_ids() -> set[str]:
    """Every msgid the code and templates use now, extracted the way `make extract` does."""
    with (ROOT / "caseworker_console" / "babel.cfg").open() as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    keywords = {**DEFAULT_KEYWORDS, "N_": None, "NP_": (1, 2)}
    found: set[str] = set()
    for directory in ("caseworker_console", "programme"):
        for _, _, message, _, _ in extract_from_dir(
            ROOT / directory, method_map, options_map, keywords=keywords
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_template_holds_every_string_the_console_uses() -> None:
    assert source_ids() == template_ids(), "run `make extract` and translate what is new"


@pytest.mark.parametrize("locale", LANGUAGES)
def test_each_catalog_matches_the_template(locale: str) -> None:
    assert set(catalog(locale)) == template_ids()


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_msgid_is_translated(locale: str) -> None:
    untranslated = [
        msgid for msgid, forms in catalog(locale).items() if not all(form.strip() for form in forms)
    ]
    assert untranslated == []


@pytest.mark.parametrize("locale", TRANSLATED)
def test_no_translation_has_a_percent_sign_the_templates_would_misread(locale: str) -> None:
    # Placeholders themselves are checked with the bot's catalogs (tests/test_po_lint.py).
    assert [msgid for msgid, forms in catalog(locale).items() if any(map(BARE_PERCENT.search, forms))] == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", "en"),
        ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        ("de-DE,az;q=0.5,ru;q=0.4", "az"),
        ("en;q=0.2, ru;q=0.9", "ru"),
        ("ru;q=0, az", "az"),
        ("fa-IR", "en"),
        ("ru;q=bogus, az;q=0.1", "az"),
    ],
)
def test_accept_language_picks_the_best_console_language(header: str, expected: str) -> None:
    assert negotiate(header) == expected


@pytest.mark.parametrize(
    ("code", "locale", "expected"),
    [("en", "az", "İngilis"), ("ru", "az", "Rus"), ("en", "ru", "Английский"), ("fa", "en", "Persian")],
)
def test_a_language_is_named_with_the_capital_letter_of_the_readers_alphabet(
    code: str, locale: str, expected: str
) -> None:
    assert language_name(code, locale) == expected


def page_language(response: httpx.Response) -> tuple[str, str]:
    page = BeautifulSoup(response.text, "lxml")
    html, heading = page.select_one("html"), page.select_one("h1")
    assert html is not None
    assert heading is not None
    return str(html["lang"]), heading.get_text()


async def test_before_sign_in_the_language_comes_from_the_link_then_the_browser(
    client: httpx.AsyncClient,
) -> None:
    assert page_language(await client.get("/login")) == ("en", "Sign in")
    assert page_language(await client.get("/login", headers={"Accept-Language": "ru,en;q=0.5"})) == (
        "ru",
        "Войти",
    )
    chosen = await client.get("/login?lang=az", headers={"Accept-Language": "ru"})
    assert page_language(chosen) == ("az", "Daxil ol")
    # The form posts back to the same language, so an error comes back in it too.
    form = BeautifulSoup(chosen.text, "lxml").select_one("form[method=post]")
    assert form is not None
    assert form["action"] == "/login?lang=az"
    switcher = {
        link["lang"]: link["href"] for link in BeautifulSoup(chosen.text, "lxml").select(".languages a")
    }
    assert switcher == {"en": "/login?lang=en", "az": "/login?lang=az", "ru": "/login?lang=ru"}
