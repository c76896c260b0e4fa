"""Every translation of the bot's and the console's catalogs through translate-toolkit's checks
(pofilter's): placeholders ({name} and %(name)s), markup, doubled words, brackets, URLs and e-mail
addresses, escapes, white space. `make lint` runs this file, and `make test` with the rest.

Exceptions are few and each says why; a check the catalogs cannot meet is left out with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from translate.filters import checks

from caseworker_console import i18n as console
from wording.languages import LANGUAGES as BOT_LANGUAGES
from wording.languages import LOCALES_DIR as BOT_LOCALES

# Left out: endpunc, startpunc and puncspacing (Persian, Pashto and Urdu end a sentence with «۔»
# or «؟», Russian and Azerbaijani quote with «»), sentencecount and long/short (a careful
# translation may say it in more or fewer sentences), unchanged (a code or a name stays as it is),
# simplecaps, acronyms, accelerators, options (no such things in these catalogs).
CHECKS = (
    "pythonbraceformat",
    "printf",
    "xmltags",
    "doublewords",
    "brackets",
    "urls",
    "emails",
    "escapes",
    "newlines",
    "tabs",
    "startwhitespace",
    "endwhitespace",
    "doublespacing",
)
# Words these languages double on purpose: Turkish «ayrı ayrı», Urdu «الگ الگ» and Pashto
# «جلا جلا» (one by one, separately), Urdu «ابھی ابھی» (just now).
REDUPLICATED = frozenset({"ayrı", "الگ", "جلا", "ابھی"})
# Russian writes a past verb for either gender as «попросил(а)»: those brackets end a word.
EITHER_GENDER = re.compile(r"(?<=\w)\(а\)")
# (check, msgid start): why the check does not apply to that message.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("xmltags", "Telegram would refuse this text."): "it is about the characters < and > themselves",
    ("doublewords", "Telegram would refuse this text."): "«&lt;, > … &gt;,» leaves two commas as words",
    ("doublewords", "Code in the link"): "«A-Z, a-z» lists the capitals and the small letters",
    ("brackets", "Name in %(language)s"): "a field's label: the language goes in brackets",
    ("brackets", "Address in %(language)s"): "a field's label: the language goes in brackets",
}


def catalogs() -> list[tuple[str, Path]]:
    bot = [(language, BOT_LOCALES / language / "LC_MESSAGES" / "messages.po") for language in BOT_LANGUAGES]
    staff = [
        (language, console.LOCALES_DIR / language / "LC_MESSAGES" / f"{console.DOMAIN}.po")
        for language in console.LANGUAGES
        if language != "en"  # the console's English catalog leaves every msgstr empty
    ]
    return bot + staff


def pairs(path: Path) -> Iterator[tuple[str, str]]:
    """(msgid, msgstr) for every entry, each plural form against its own English."""
    with path.open("rb") as po:
        for message in read_po(po):
            if not message.id:
                continue
            ids = [message.id] if isinstance(message.id, str) else list(message.id)
            strings = [message.string] if isinstance(message.string, str) else list(message.string)
            for index, string in enumerate(strings):
                yield ids[min(index, len(ids) - 1)], string


def failures(language: str, msgid: str, msgstr: str) -> list[str]:
    checker = checks.StandardChecker(checkerconfig=checks.CheckerConfig(targetlanguage=language))
    found = []
    for name in CHECKS:
        if any(name == check and msgid.startswith(start) for check, start in EXCEPTIONS):
            continue
        target = EITHER_GENDER.sub("", msgstr) if name == "brackets" else msgstr
        try:
            getattr(checker, name)(msgid, target)
        except checks.FilterFailure as failure:
            messages = [str(message) for message in failure.messages]
            if name == "doublewords" and all(
                any(f"'{word}'" in message for word in REDUPLICATED) for message in messages
            ):
                continue
            found.append(f"{name}: {'; '.join(messages)} — {msgid[:60]!r}")
    return found


@pytest.mark.parametrize(
    ("language", "path"), catalogs(), ids=lambda value: str(value).split("/locales/")[-1]
)
def test_every_translation_passes_the_toolkit_checks(language: str, path: Path) -> None:
    assert [
        failure for msgid, msgstr in pairs(path) if msgstr for failure in failures(language, msgid, msgstr)
    ] == []


@pytest.mark.parametrize(
    ("msgid", "msgstr", "check"),
    [
        ("Case number: {code}", "Номер дела: {cod}", "pythonbraceformat"),
        ("Case %(code)s", "Дело %(kod)s", "printf"),
        ("<b>Your appointments</b>", "<b>Ваши встречи", "xmltags"),
        ("Your case is closed.", "Ваше дело дело закрыто.", "doublewords"),
        ("Reason (optional)", "Причина (необязательно", "brackets"),
        ("See https://example.org", "См. https://example.com", "urls"),
    ],
)
def test_the_checks_find_a_broken_translation(msgid: str, msgstr: str, check: str) -> None:
    assert [failure for failure in failures("ru", msgid, msgstr) if failure.startswith(check)]


def test_a_russian_verb_for_either_gender_and_a_reduplicated_word_pass() -> None:
    assert failures("ru", "Created by %(name)s", "Создал(а) %(name)s") == []
    assert failures("ur", "Choose them separately.", "انہیں الگ الگ چنیں۔") == []
