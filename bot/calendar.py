"""An inline month calendar in the person's language, formatted by Babel with the locale of the
reader's language (wording.languages.format_locale: Dari's for "fa"); dates and times in a line
are wording.dates'.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo

from babel import Locale
from babel.dates import format_skeleton, get_day_names
from babel.numbers import format_decimal

from bot.conversation import Row
from texts.width import fits
from wording.languages import RIGHT_TO_LEFT, format_locale

# Non-tappable cells: a day without a free slot, and the padding outside the month.
NO_SLOT = "·"
PADDING = " "
NOOP = "x"


def day_value(day: dt.date) -> str:
    return "d" + day.strftime("%Y%m%d")


def parse_day(value: str) -> dt.date | None:
    if not value.startswith("d") or len(value) != 9:
        return None
    try:
        return dt.datetime.strptime(value[1:], "%Y%m%d").date()
    except ValueError:
        return None


def month_value(year: int, month: int) -> str:
    return f"m{year:04d}{month:02d}"


def parse_month(value: str) -> tuple[int, int] | None:
    if not value.startswith("m") or len(value) != 7 or not value[1:].isdigit():
        return None
    year, month = int(value[1:5]), int(value[5:])
    return (year, month) if 1 <= month <= 12 else None


def slot_value(start: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    # The office's wall-clock time: unique within a day, because offices are not open in the
    # small hours when a DST change repeats an hour.
    return "s" + start.astimezone(zone).strftime("%H%M")


def month_title(year: int, month: int, locale: str) -> str:
    # The language's own pattern for a month and its year (Russian's stand-alone «март 2026 г.»,
    # Pashto's year first), not a month name and a year put together here.
    return format_skeleton("yMMMM", dt.date(year, month, 1), locale=format_locale(locale))


def first_week_day(locale: str) -> int:
    return Locale.parse(format_locale(locale)).first_week_day


def weekday_header(locale: str) -> list[str] | None:
    """The days of the week as a calendar heads its columns, each whole in a seventh of a phone's
    width: CLDR's narrow names where they tell the days apart (Dari's ی د س چ پ ج ش: a Persian
    calendar's own heading), else its short ones (пн, Pt); written in the language's own script.
    None where CLDR has neither (Pashto, Urdu: their short names are the whole words and their
    narrow ones Latin letters): a column headed "جمعر…" reads wrong, and the day chosen is then
    shown with its weekday in full."""
    first = first_week_day(locale)
    for width in ("narrow", "short"):
        # Stand-alone: a column's heading, not a weekday inside a date (Azerbaijani's «B.E.», not
        # «B.e.»); names Babel keeps per locale (wording.languages: Babel's shared aliases).
        names = get_day_names(width, context="stand-alone", locale=format_locale(locale))
        header = [names[(first + offset) % 7] for offset in range(7)]
        latin = locale in RIGHT_TO_LEFT and any("a" <= char.lower() <= "z" for char in "".join(header))
        # Azerbaijani's narrow names are 1 to 7: a heading of digits over the days' numbers.
        words = all(any(char.isalpha() for char in name) for name in header)
        if len(set(header)) == 7 and fits(header) and words and not latin:
            return header
    return None


def day_label(day: dt.date, locale: str) -> str:
    return format_decimal(day.day, locale=format_locale(locale))


def month_rows(year: int, month: int, free: set[dt.date], locale: str) -> list[Row]:
    """Weekday names, then one row per week; only days with a free slot can be tapped."""
    weeks = calendar.Calendar(firstweekday=first_week_day(locale)).monthdatescalendar(year, month)
    header = weekday_header(locale)
    rows: list[Row] = [[(name, NOOP) for name in header]] if header else []
    for week in weeks:
        row: Row = []
        for day in week:
            if day.month != month:
                row.append((PADDING, NOOP))
            elif day in free:
                row.append((day_label(day, locale), day_value(day)))
            else:
                row.append((NO_SLOT, NOOP))
        rows.append(row)
    return rows
