"""One word per term: the bot's and the console's catalogs use each language's word for the
programme's terms, as bot/locales/glossary.toml chooses it (stems, so inflection is fine)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from caseworker_console import i18n as console
from wording.languages import LANGUAGES, LOCALES_DIR

GLOSSARY = tomllib.loads((LOCALES_DIR / "glossary.toml").read_text(encoding="utf-8"))
# What the reader does not read as words: commands (/consent), placeholders, markup.
NOT_WORDS = re.compile(r"(?<![\w/])/\w+|\{\w*\}|%\(\w+\)s|<[^>]+>")


def fold(text: str) -> str:
    # Turkish and Azerbaijani «İ» folds to i and a dot; spelling with or without the non-joiner is
    # the same word.
    return text.casefold().replace("\u0307", "").replace("\u200c", "")


def catalogs() -> list[tuple[str, Path]]:
    bot = [(language, LOCALES_DIR / language / "LC_MESSAGES" / "messages.po") for language in LANGUAGES]
    staff = [
        (language, console.LOCALES_DIR / language / "LC_MESSAGES" / f"{console.DOMAIN}.po")
        for language in console.LANGUAGES
    ]
    return [(language, path) for language, path in bot + staff if language != "en"]


def pairs(path: Path) -> list[tuple[str, str]]:
    """(msgid, msgstr) for every entry, each plural form with its own English."""
    with path.open("rb") as po:
        found = []
        for message in read_po(po):
            if not message.id:
                continue
            ids = [message.id] if isinstance(message.id, str) else list(message.id)
            strings = [message.string] if isinstance(message.string, str) else list(message.string)
            found += [(ids[min(index, len(ids) - 1)], string) for index, string in enumerate(strings)]
        return found


def chosen(term: str, language: str) -> re.Pattern[str]:
    """The language's word for the term: one of its stems at the start of a word."""
    return re.compile(r"(?<!\w)(?:" + "|".join(map(fold, GLOSSARY[term][language]["stems"])) + ")")


def misses(term: str, language: str, path: Path) -> list[str]:
    english = re.compile(GLOSSARY[term]["english"], re.IGNORECASE)
    word = chosen(term, language)
    return [
        msgid
        for msgid, msgstr in pairs(path)
        if english.search(NOT_WORDS.sub(" ", msgid)) and not word.search(fold(msgstr))
    ]


def test_the_glossary_has_every_term_in_every_translated_language() -> None:
    assert set(GLOSSARY) == {
        "case",
        "caseworker",
        "consent",
        "appointment",
        "plan",
        "beneficiary",
        "screening",
    }
    languages = {language for language, _path in catalogs()}
    for term, entry in GLOSSARY.items():
        assert set(entry) - {"english", "note"} == languages, term
        for language in languages:
            assert chosen(term, language).search(fold(entry[language]["word"])), (term, language)


@pytest.mark.parametrize(
    ("language", "path"), catalogs(), ids=lambda value: str(value).split("/locales/")[-1]
)
@pytest.mark.parametrize("term", list(GLOSSARY))
def test_every_catalog_uses_the_chosen_word_for_the_term(term: str, language: str, path: Path) -> None:
    assert misses(term, language, path) == [], f"use «{GLOSSARY[term][language]['word']}» for {term!r}"


def test_a_translation_with_another_word_is_found(tmp_path: Path) -> None:
    po = tmp_path / "ru.po"
    po.write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Your appointment is moved."\nmsgstr "Ваша запись перенесена."\n\n'
        'msgid "Past appointments"\nmsgstr "Прошедшие встречи"\n\n'
        'msgid "Book with /appointments"\nmsgstr "Запись: /appointments"\n',
        encoding="utf-8",
    )
    assert misses("appointment", "ru", po) == ["Your appointment is moved."]


def test_an_azerbaijani_case_is_never_bare_where_a_beneficiary_reads_it() -> None:
    """Azerbaijani «iş» is a case and also a job (glossary.toml, case.az): every line of the bot's
    that says a case says whose, with the caseworker or as a person's file («şəxsi iş»)."""
    english = re.compile(GLOSSARY["case"]["english"], re.IGNORECASE)
    case = chosen("case", "az")
    whose = re.compile(r"(?<!\w)(?:sosial işçi|şəxsi iş)")
    bare = [
        line
        for msgid, msgstr in pairs(LOCALES_DIR / "az" / "LC_MESSAGES" / "messages.po")
        if english.search(NOT_WORDS.sub(" ", msgid))
        for line in fold(msgstr).split("\n")
        if case.search(line) and not whose.search(line)
    ]
    assert bare == []
