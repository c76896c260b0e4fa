"""Dates and times in the person's language, formatted by Babel with the locale of the reader's
language (wording.languages.format_locale: Dari's for "fa"). Every date and time a person reads,
from the bot or in a message the console sends, is formatted here or by the bot's calendar."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from babel.dates import format_date, format_time

from wording.languages import format_locale

# Times as the language writes them where CLDR's short time does not: Urdu's is "2:30 PM", Latin
# letters in an Urdu sentence that then says بجے ("o'clock") as well; Urdu names the part of the
# day first: "دوپہر 2:30" (and "دوپہر 2:30 بجے" in a sentence).
TIME_PATTERNS: dict[str, str] = {"ur": "B h:mm"}


def time_label(start: dt.datetime, zone: zoneinfo.ZoneInfo, locale: str) -> str:
    pattern = TIME_PATTERNS.get(locale, "short")
    return format_time(start, format=pattern, tzinfo=zone, locale=format_locale(locale))


def clock_time(at: dt.time, locale: str) -> str:
    """A time of day kept without a date (an opening hour), written as time_label writes times.
    Read as it is: Babel would otherwise move a time without a zone into the server's zone."""
    pattern = TIME_PATTERNS.get(locale, "short")
    return format_time(at, format=pattern, tzinfo=dt.UTC, locale=format_locale(locale))


def date_label(start: dt.datetime | dt.date, zone: zoneinfo.ZoneInfo, locale: str) -> str:
    """The full date with its weekday (Monday, 2 March 2026)."""
    day = start.astimezone(zone).date() if isinstance(start, dt.datetime) else start
    return format_date(day, format="full", locale=format_locale(locale))


def long_date(day: dt.datetime | dt.date, locale: str, zone: zoneinfo.ZoneInfo | None = None) -> str:
    """The date without its weekday (2 March 2026); a moment is read in `zone` when given."""
    if isinstance(day, dt.datetime) and zone is not None:
        day = day.astimezone(zone)
    return format_date(day, format="long", locale=format_locale(locale))


def weekday_time(at: dt.datetime, zone: zoneinfo.ZoneInfo, locale: str) -> str:
    """A weekday and a time within the coming week (Monday 09:00)."""
    weekday = format_date(at.astimezone(zone), format="EEEE", locale=format_locale(locale))
    return f"{weekday} {time_label(at, zone, locale)}"


def stamp(at: dt.datetime, zone: zoneinfo.ZoneInfo, locale: str) -> str:
    """A short date and a time, in the office's time zone (02.03.2026 14:30)."""
    day = format_date(at.astimezone(zone), format="short", locale=format_locale(locale))
    return f"{day} {time_label(at, zone, locale)}"
