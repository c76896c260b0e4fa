"""A person reads where their case is in plain words ("We are making a plan with you"), in every
language; the guidelines' names of the stages ("Intervention planning", read as "interference" in
Persian and Russian) are the console's and never reach the bot."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.dialogs.mycopy import STAGE_PLAIN, stage_line
from caseworker_console import i18n as console
from programme.cycle import STAGE_LABELS, Stage
from wording.languages import LANGUAGES, LOCALES_DIR, create_i18n

# "New" and "Closed" are words anyone reads as they are ("Your case is closed."); the other names
# are the guidelines' own.
PLAIN_ALREADY = frozenset({Stage.NEW, Stage.CLOSED})


def console_names(stage: Stage) -> set[str]:
    """The stage's name as the console shows it, in every console language."""
    if stage in PLAIN_ALREADY:
        return set()
    return {
        Translations.load(console.LOCALES_DIR, [language], console.DOMAIN).gettext(STAGE_LABELS[stage])
        for language in console.LANGUAGES
    }


def bot_ids() -> set[str]:
    with (LOCALES_DIR / "messages.pot").open("rb") as pot:
        return {message.id for message in read_po(pot) if isinstance(message.id, str)}


def test_every_stage_has_a_plain_description() -> None:
    assert set(STAGE_PLAIN) == set(Stage)
    assert set(STAGE_PLAIN.values()) <= bot_ids()


def test_the_bot_catalogs_do_not_hold_the_console_names_of_the_stages() -> None:
    # "Screening" is also the title of the screening questions, which the copy lists by title.
    names = {label for stage, label in STAGE_LABELS.items() if stage not in {Stage.SCREENING, *PLAIN_ALREADY}}
    assert bot_ids().isdisjoint(names)


@pytest.mark.parametrize("locale", LANGUAGES)
@pytest.mark.parametrize("stage", list(Stage))
def test_the_copy_says_where_the_case_is_in_plain_words_never_by_the_console_name(
    locale: str, stage: Stage
) -> None:
    i18n = create_i18n()
    with i18n.context(), i18n.use_locale(locale):
        line = stage_line(stage.value)
        plain = i18n.gettext(STAGE_PLAIN[stage])
    assert line is not None and plain in line
    if locale != "en":
        assert plain != STAGE_PLAIN[stage], "translate the plain description"
    assert not [name for name in console_names(stage) if name.casefold() in line.casefold()]


def test_a_stage_this_version_does_not_know_is_left_out_of_the_copy() -> None:
    i18n = create_i18n()
    with i18n.context(), i18n.use_locale("fa"):
        assert stage_line("peer_review") is None
