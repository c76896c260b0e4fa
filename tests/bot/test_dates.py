"""Dates, times and weekdays as each reader writes them, checked for every language on one fixed day."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from bot import calendar
from texts.bidi import without_controls
from wording import dates
from wording.languages import LANGUAGES, RIGHT_TO_LEFT, create_i18n

BAKU = zoneinfo.ZoneInfo("Asia/Baku")
# Monday 2 March 2026, 14:30 in Baku.
AT = dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC)

# (full date, slot time, weekday and time, first column of the calendar) per language.
EXPECTED = {
    "en": ("Monday, March 2, 2026", "2:30\u202fPM", "Monday 2:30\u202fPM", "Mo"),
    "az": ("2 mart 2026, bazar ertəsi", "14:30", "bazar ertəsi 14:30", "B.E."),
    "ru": ("понедельник, 2 марта 2026\u202fг.", "14:30", "понедельник 14:30", "пн"),
    # Dari (Afghanistan): مارچ, not Iran's مارس; the week starts on Saturday (ش).
    "fa": ("دوشنبه 2 مارچ 2026", "14:30", "دوشنبه 14:30", "ش"),
    "ps": ("دونۍ د 2026 د مارچ 2", "14:30", "دونۍ 14:30", None),
    # The part of the day in Urdu, where CLDR's short time has "PM".
    "ur": ("پیر، 2 مارچ، 2026", "دوپہر 2:30", "پیر دوپہر 2:30", None),
    "tr": ("2 Mart 2026 Pazartesi", "14:30", "Pazartesi 14:30", "Pt"),
}


@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_language_writes_the_date_time_and_weekday_as_its_readers_do(locale: str) -> None:
    full, time, weekday_time, first_column = EXPECTED[locale]
    assert dates.date_label(AT, BAKU, locale) == full
    assert dates.time_label(AT, BAKU, locale) == time
    assert dates.weekday_time(AT, BAKU, locale) == weekday_time
    header = calendar.weekday_header(locale)
    assert (header[0] if header else None) == first_column
    rows = calendar.month_rows(2026, 3, {AT.date()}, locale)
    assert [label for row in rows for label, value in row if value != calendar.NOOP] == [
        calendar.day_label(AT.date(), locale)
    ]


@pytest.mark.parametrize("locale", LANGUAGES)
def test_a_date_at_a_time_says_the_time_once_in_the_readers_script(locale: str) -> None:
    when = without_controls(
        create_i18n()
        .gettext("{date} at {time}", locale=locale)
        .format(date=dates.date_label(AT, BAKU, locale), time=dates.time_label(AT, BAKU, locale))
    )
    if locale in RIGHT_TO_LEFT:
        assert not any("a" <= char.lower() <= "z" for char in when), when
    if locale == "ur":
        assert when == "پیر، 2 مارچ، 2026، دوپہر 2:30 بجے"
    if locale == "fa":
        assert "مارس" not in when and "ژانویه" not in when
