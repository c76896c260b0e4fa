"""Catalogs: every msgid translated in every language, every state asked (placeholders and markup:
tests/test_po_lint.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiogram.fsm.state import StatesGroup
from babel.messages.extract import DEFAULT_KEYWORDS, extract, extract_from_dir
from babel.messages.pofile import read_po

from bot.conversation import STEPS
from bot.dialogs import DIALOGS
from wording.languages import LANGUAGES, LOCALES_DIR


def singular(msgid: str | tuple[str, ...]) -> str:
    """A msgid, or a plural entry's singular (its forms keep the singular's placeholders)."""
    return msgid if isinstance(msgid, str) else msgid[0]


def catalog(locale: str) -> list[tuple[str, list[str]]]:
    """Each msgid with its translation, or a plural entry's every form (as many as the language has)."""
    with Path(LOCALES_DIR, locale, "LC_MESSAGES", "messages.po").open("rb") as po:
        return [
            (
                singular(message.id),
                [message.string] if isinstance(message.string, str) else list(message.string),
            )
            for message in read_po(po)
            if message.id
        ]


def template_ids() -> set[str]:
    with (LOCALES_DIR / "messages.pot").open("rb") as pot:
        return {singular(message.id) for message in read_po(pot) if message.id}


@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_msgid_is_translated(locale: str) -> None:
    messages = catalog(locale)
    assert {msgid for msgid, _ in messages} == template_ids()
    assert [msgid for msgid, forms in messages if not all(forms)] == []


def test_every_dialog_state_can_be_asked_again() -> None:
    groups = [
        group
        for dialog in DIALOGS
        for group in vars(dialog).values()
        if isinstance(group, type) and issubclass(group, StatesGroup) and group.__module__ == dialog.__name__
    ]
    states = [state.state for group in groups for state in group.__all_states__]
    assert len(states) == len(set(states)) and set(states) == set(STEPS)
    assert [step.mark for step in STEPS.values() if step.mark] in (["first", "home"], ["home", "first"])


def bot_sources(root: Path) -> list[Path]:
    """The folders and modules whose strings beneficiaries read: the Makefile's BOT_SOURCES."""
    makefile = (root / "Makefile").read_text()
    listed = re.search(r"^BOT_SOURCES\s*:=(.*)$", makefile, re.MULTILINE)
    assert listed is not None, "the Makefile lists the bot's sources as BOT_SOURCES"
    return [root / source for source in listed.group(1).split()]


def test_the_bot_sources_include_every_package_that_writes_to_beneficiaries() -> None:
    root = Path(__file__).resolve().parents[2]
    assert {root / "bot", root / "wording"} <= set(bot_sources(root))


def test_the_template_holds_exactly_the_strings_of_the_source() -> None:
    keywords = {**DEFAULT_KEYWORDS, "__": None, "N_": None, "NP_": (1, 2)}
    root = Path(__file__).resolve().parents[2]
    found = set()
    for source in bot_sources(root):
        if source.is_dir():
            extracted = extract_from_dir(str(source), method_map=[("**.py", "python")], keywords=keywords)
            found.update(singular(message) for _filename, _line, message, _comments, _context in extracted)
            continue
        with source.open("rb") as code:
            found.update(
                singular(message)
                for _line, message, _comments, _context in extract("python", code, keywords=keywords)
            )
    assert found == template_ids(), "run `make extract` and translate the new strings"
