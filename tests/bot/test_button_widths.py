"""Every button the bot shows fits a narrow phone whole, in every language.

Telegram gives the buttons of a row equal widths and cuts a label that does not fit with "…": a
cut "Yes, without my name…" can read as its opposite. Each row of every keyboard is built from the
dialogs' own labels and checked against a width budget (texts.width: graphemes, an emoji two).
"""

from __future__ import annotations

import datetime as dt

import pytest
from aiogram.utils.i18n import gettext as _
from babel.dates import get_day_names

from bot import calendar
from bot.dialogs import consent, interview, menu, screening
from programme.appointments import APPOINTMENT_TYPES
from programme.forms import INTERVIEW, SCREENING
from programme.handoff import TOPICS
from texts.width import fits, label_width
from wording.languages import LANGUAGES, create_i18n, format_locale


def labels(rows: list[list[tuple[str, str]]]) -> list[list[str]]:
    return [[label for label, _value in row] for row in rows]


def every_row(locale: str) -> list[list[str]]:
    """The rows of every keyboard the bot sends, as a reader of `locale` gets them."""
    rows: list[list[str]] = [[_(label) for label in row] for row in menu.ROWS]
    rows += [[name] for name in LANGUAGES.values()]
    rows += [[_("Continue")], [_("Skip")]]
    for question in SCREENING.bot_questions():
        everything = [option.value for option in question.options]
        rows += labels(screening.QUESTIONNAIRE.rows(question, [])) + labels(
            screening.QUESTIONNAIRE.rows(question, everything)
        )
    for question in INTERVIEW.bot_questions():
        everything = [option.value for option in question.options]
        rows += labels(interview.QUESTIONNAIRE.rows(question, [])) + labels(
            interview.QUESTIONNAIRE.rows(question, everything)
        )
    rows += labels(consent.yes_no_rows()) + labels(consent.publicity_rows())
    rows += [[_("I have read it")], [_("Give my consent again")], [_("Change my choices")]]
    rows += [[_("Withdraw my consent")], [_("Yes, withdraw my consent")], [_("No, keep my consent")]]
    rows += [[_(label)] for _value, label in TOPICS]
    rows += [["📄 " + _("Get a copy of my data")], ["✏️ " + _("Correct my data")], ["🤝 " + _("My consent")]]
    rows += [["✋ " + _("Stop taking part")], ["🗑 " + _("Delete my data")], [_("Yes, send the file")]]
    rows += [[_("No, not now")], [_("Yes, delete everything")], [_("Yes, delete")], [_("No, keep my data")]]
    # Appointments: the list, the booking steps, the calendar and the reminders.
    rows += [
        ["✖️ " + _("Cancel {number}").format(number=3), "🔁 " + _("Reschedule {number}").format(number=3)]
    ]
    rows += [["📅 " + _("Book an appointment")], [_("Close")], [_("⬅️ Back")], [_("⬅️ Another time")]]
    rows += [[_(label)] for label in APPOINTMENT_TYPES.values()]
    rows += [[_("◀️ Previous month"), _("Next month ▶️")], ["✅ " + _("Confirm")]]
    rows += [[_("Yes, cancel it")], [_("No, keep it")], ["📅 " + _("Choose a new time")]]
    rows += [
        ["✖️ " + _("Cancel"), "🔁 " + _("Reschedule")],
        ["✅ " + _("Accept")],
        ["🗓 " + _("Choose another time")],
    ]
    days = {dt.date(2026, 3, day) for day in range(1, 32)}
    rows += labels(calendar.month_rows(2026, 3, days, locale))
    return rows


@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_button_label_fits_its_row_on_a_narrow_phone(locale: str) -> None:
    i18n = create_i18n()
    with i18n.context(), i18n.use_locale(locale):
        rows = every_row(locale)
    too_wide = [[(label, label_width(label)) for label in row] for row in rows if not fits(row)]
    assert too_wide == []


def test_the_width_counts_graphemes_and_emoji_as_two() -> None:
    assert label_width("Ali") == 3
    assert label_width("💬 Ali") == 6
    assert label_width("⬅️ Geri") == 7
    assert label_width("👩\u200d💻") == 2
    assert label_width("\u200f\u2068/start\u2069") == 6
    assert label_width("سه\u200cشنبه") == 6
    assert label_width("e\u0301") == 1  # e and a combining acute
    assert not fits(["Yes, a photo only with my age or country, or a false name"])


@pytest.mark.parametrize("locale", LANGUAGES)
def test_the_calendar_heads_its_week_with_weekdays_that_fit_but_in_pashto_and_urdu(locale: str) -> None:
    """Pashto's and Urdu's calendars have no weekday row, by design (docs/bot.md): CLDR's narrow
    names for them are Latin letters and its short ones the whole words, too wide for a seventh of
    the row; the day chosen is then named in full (tests/bot/test_appointments.py)."""
    first_row = calendar.month_rows(2026, 3, {dt.date(2026, 3, day) for day in range(1, 32)}, locale)[0]
    header = calendar.weekday_header(locale)
    babel = format_locale(locale)
    if locale in ("ps", "ur"):
        assert header is None
        narrow = get_day_names("narrow", context="stand-alone", locale=babel).values()
        short = get_day_names("short", context="stand-alone", locale=babel).values()
        assert all(name.isascii() for name in narrow) and not fits(list(short))
        assert all(value != calendar.NOOP or label == calendar.PADDING for label, value in first_row)
    else:
        assert header is not None and len(set(header)) == 7 and fits(header)
        assert [label for label, _value in first_row] == header
        assert all(value == calendar.NOOP for _label, value in first_row)
