"""Numbers meet nouns through ngettext, in the bot and the console: every catalog declares its
language's plural forms as CLDR (Babel) has them, every plural entry has that many, and a count
placeholder followed by a counted noun is never a plain msgid (Russian needs three forms)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.questionnaire import too_long
from caseworker_console import i18n as console
from caseworker_console.accounts import AccountError, validate_password
from wording.languages import LOCALES_DIR as BOT_LOCALES
from wording.languages import create_i18n

BOT_DIRS = sorted(path for path in BOT_LOCALES.iterdir() if path.is_dir())
CATALOGS = [path / "LC_MESSAGES" / "messages.po" for path in BOT_DIRS] + [
    console.LOCALES_DIR / language / "LC_MESSAGES" / f"{console.DOMAIN}.po" for language in console.LANGUAGES
]
TEMPLATES = [BOT_LOCALES / "messages.pot", console.LOCALES_DIR / f"{console.DOMAIN}.pot"]
COUNTED = (
    "characters?|days?|hours?|minutes?|weeks?|months?|years?|appointments?|questions?|cases?|messages?"
    "|people|digits?|slots?|alerts?|campaigns?|recipients?|lines?|cities"
)
# A placeholder, perhaps a word or two such as "more short", then a counted noun.
NUMBER_MEETS_NOUN = re.compile(
    r"(?:\{\w+\}|%\(\w+\)s) (?:(?:more|short|free|new|other|full) ){0,2}(?:" + COUNTED + r")\b"
)


def short(path: Path) -> str:
    return "/".join(path.parts[-4:])


@pytest.mark.parametrize("path", CATALOGS, ids=short)
def test_each_catalog_declares_its_language_plural_forms_and_every_entry_has_them(path: Path) -> None:
    with path.open("rb") as po:
        catalog = read_po(po)
    expected = get_plural(str(catalog.locale))
    assert (catalog.num_plurals, catalog.plural_expr) == (expected.num_plurals, expected.plural_expr)
    plurals = [message for message in catalog if message.id and not isinstance(message.id, str)]
    assert plurals, "the catalog has plural entries"
    assert [message.id[0] for message in plurals if len(message.string) != expected.num_plurals] == []


@pytest.mark.parametrize("path", TEMPLATES, ids=short)
def test_a_number_before_a_counted_noun_is_a_plural_entry(path: Path) -> None:
    with path.open("rb") as pot:
        singular_only = [message.id for message in read_po(pot) if isinstance(message.id, str)]
    assert [msgid for msgid in singular_only if NUMBER_MEETS_NOUN.search(msgid)] == []


@pytest.mark.parametrize(
    ("count", "noun"), [(1, "символа"), (3, "символов"), (5, "символов"), (21, "символа"), (100, "символов")]
)
def test_the_bot_counts_in_russian_with_the_form_the_number_needs(count: int, noun: str) -> None:
    i18n = create_i18n()
    with i18n.context(), i18n.use_locale("ru"):
        assert too_long(count).endswith(f"{count} {noun}.")


@pytest.mark.parametrize(("count", "form"), [(1, "вопрос?"), (3, "вопроса?"), (12, "вопросов?")])
def test_the_offer_of_the_interview_counts_its_questions_in_russian(count: int, form: str) -> None:
    i18n = create_i18n()
    one, many = (
        "Can you answer {count} more short question? It takes about two minutes and helps the caseworker "
        "prepare. You can skip any question.",
        "Can you answer {count} more short questions? It takes about two minutes and helps the caseworker "
        "prepare. You can skip any question.",
    )
    text = i18n.gettext(one, many, count, locale="ru").format(count=count)
    assert f"на {count} коротк" in text and form in text


def test_the_console_counts_characters_in_russian_and_english() -> None:
    with pytest.raises(AccountError) as refused:
        validate_password("short")
    russian = Translations.load(console.LOCALES_DIR, ["ru"], console.DOMAIN)
    assert refused.value.translated(russian).endswith("не менее 8 символов.")
    assert str(refused.value) == "A password needs at least 8 characters."
