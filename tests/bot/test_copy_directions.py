"""The copy (/mydata) for a right-to-left reader: an answer in Latin letters or digits keeps its
order inside the Persian line, as a bidi renderer lays it out."""

from __future__ import annotations

import pytest
from bidi import get_display

from bot.dialogs.mycopy import answer_line
from programme.forms import INTERVIEW
from wording.languages import create_i18n

PHONE = next(question for question in INTERVIEW.questions if question.id == "phone")


@pytest.mark.parametrize("locale", ["fa", "ps", "ur"])
def test_a_phone_number_in_the_copy_reads_in_its_own_order(locale: str) -> None:
    i18n = create_i18n()
    with i18n.context(), i18n.use_locale(locale):
        line = answer_line(PHONE, "+994501234567", locale)
    assert "+994501234567" in get_display(line)


def test_a_left_to_right_reader_gets_the_answer_as_it_is() -> None:
    i18n = create_i18n()
    with i18n.context(), i18n.use_locale("en"):
        assert answer_line(PHONE, "+994501234567", "en") == "  Phone: +994501234567"
