"""An inline month calendar and slot times in the person's language, formatted by Babel."""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time, get_day_names
from babel.numbers import format_decimal

from bot.conversation import Row

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
    # A skeleton, not get_month_names(context="stand-alone"): Babel 2.18 resolves stand-alone
    # aliases into data its locales share, so after one locale another may get its names.
    return format_skeleton("yMMMM", dt.date(year, month, 1), locale=locale)


def weekday_header(locale: str) -> list[str]:
    first = Locale.parse(locale).first_week_day
    names = get_day_names("abbreviated", locale=locale)
    return [names[(first + offset) % 7] for offset in range(7)]


def day_label(day: dt.date, locale: str) -> str:
    return format_decimal(day.day, locale=locale)


def month_rows(year: int, month: int, free: set[dt.date], locale: str) -> list[Row]:
    """Weekday names, then one row per week; only days with a free slot can be tapped."""
    weeks = calendar.Calendar(firstweekday=Locale.parse(locale).first_week_day).monthdatescalendar(
        year, month
    )
    rows: list[Row] = [[(name, NOOP) for name in weekday_header(locale)]]
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


def time_label(start: dt.datetime, zone: zoneinfo.ZoneInfo, locale: str) -> str:
    return format_time(start, format="short", tzinfo=zone, locale=locale)


def date_label(start: dt.datetime | dt.date, zone: zoneinfo.ZoneInfo, locale: str) -> str:
    day = start.astimezone(zone).date() if isinstance(start, dt.datetime) else start
    return format_date(day, format="full", locale=locale)
