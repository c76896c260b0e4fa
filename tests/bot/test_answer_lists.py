"""Several answers in one line are joined as the reader's language joins them: a Persian, Pashto or
Urdu reader never gets a Latin comma between Persian words, a Russian one reads «и» before the last."""

from __future__ import annotations

import pytest

from bot.questionnaire import shown
from programme.forms import SCREENING
from wording.languages import create_i18n, listed

DIRECTIONS = next(q for q in SCREENING.questions if q.id == "directions")
CHOSEN = [option.value for option in DIRECTIONS.options[:3]]


@pytest.mark.parametrize(
    ("locale", "comma", "last"), [("fa", "،", " و "), ("ps", "،", " او "), ("ur", "،", " اور ")]
)
def test_right_to_left_readers_get_their_own_comma_and_word_for_and(
    locale: str, comma: str, last: str
) -> None:
    i18n = create_i18n()
    with i18n.context(), i18n.use_locale(locale):
        line = shown(DIRECTIONS, CHOSEN)
    assert "," not in line and comma in line and last in line
    assert [i18n.gettext(option.label, locale=locale) in line for option in DIRECTIONS.options[:3]] == [
        True
    ] * 3


def test_other_readers_get_their_word_for_and_and_nothing_chosen_reads_as_none() -> None:
    i18n = create_i18n()
    assert listed(["A", "B", "C"], "ru") == "A, B и C"
    assert listed(["A", "B"], "az") == "A və B"
    with i18n.context(), i18n.use_locale("tr"):
        assert shown(DIRECTIONS, []) == i18n.gettext("None of these", locale="tr")
