"""Appointment types and free-slot computation from an office's schedule; plain Python, no I/O."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from programme.text import N_

APPOINTMENT_TYPES: dict[str, str] = {
    "first": N_("First meeting"),
    "assessment": N_("Assessment"),
    "review": N_("Plan review"),
    "other": N_("Other"),
}

# An appointment's status as the person reads it (their copy, /mydata).
APPOINTMENT_STATUSES: dict[str, str] = {
    "proposed": N_("Proposed to you, not yet answered"),
    "booked": N_("Booked"),
    "attended": N_("You came"),
    "no_show": N_("You did not come"),
    "cancelled": N_("Cancelled"),
}

# How far ahead a person may book, and how many upcoming appointments one person may hold
# (so no one can take every place of an office).
BOOKING_HORIZON_DAYS = 60
MAX_UPCOMING = 3

Interval = tuple[dt.time, dt.time]


@dataclass(frozen=True, slots=True)
class Schedule:
    """When an office receives people: local opening hours per weekday (0 = Monday)."""

    timezone: str
    hours: Mapping[int, tuple[Interval, ...]]
    holidays: frozenset[dt.date]
    slot_minutes: int
    capacity: int

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


def parse_hours(config: Mapping[str, list[list[str]]]) -> dict[int, tuple[Interval, ...]]:
    """Opening hours as configured (`{"0": [["09:00", "13:00"], ["14:00", "18:00"]]}`)."""
    return {
        int(weekday): tuple(
            (dt.time.fromisoformat(start), dt.time.fromisoformat(end)) for start, end in spans
        )
        for weekday, spans in config.items()
    }


def stored_hours(hours: Mapping[int, Sequence[Interval]]) -> dict[str, list[list[str]]]:
    """Opening hours as stored (parse_hours' inverse), a weekday without hours left out."""
    return {
        str(weekday): [[start.strftime("%H:%M"), end.strftime("%H:%M")] for start, end in spans]
        for weekday, spans in sorted(hours.items())
        if spans
    }


def _local(day: dt.date, time: dt.time, zone: zoneinfo.ZoneInfo) -> dt.datetime | None:
    """A wall-clock time as a UTC instant; None when the clocks skip it (the spring DST gap)."""
    local = dt.datetime.combine(day, time, tzinfo=zone)
    instant = local.astimezone(dt.UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def day_slots(schedule: Schedule, day: dt.date) -> list[dt.datetime]:
    """Every slot start of a day in UTC, whether free or not; none on a holiday or a closed day."""
    if day in schedule.holidays:
        return []
    step = dt.timedelta(minutes=schedule.slot_minutes)
    starts: list[dt.datetime] = []
    for opens, closes in schedule.hours.get(day.weekday(), ()):
        cursor = dt.datetime.combine(day, opens)
        # Wall-clock arithmetic: a slot is what the office's clock shows, even on a DST day.
        while cursor + step <= dt.datetime.combine(day, closes):
            instant = _local(day, cursor.time(), schedule.zone)
            if instant is not None:
                starts.append(instant)
            cursor += step
    return starts


def bookable(schedule: Schedule, day: dt.date, now: dt.datetime) -> bool:
    today = now.astimezone(schedule.zone).date()
    return today <= day <= today + dt.timedelta(days=BOOKING_HORIZON_DAYS)


def free_slots(
    schedule: Schedule, day: dt.date, *, booked: Mapping[dt.datetime, int], now: dt.datetime
) -> list[dt.datetime]:
    """Slot starts (UTC) of a day that still have a place and have not begun."""
    if not bookable(schedule, day, now):
        return []
    return [
        start
        for start in day_slots(schedule, day)
        if start > now and booked.get(start, 0) < schedule.capacity
    ]


def days_of_month(year: int, month: int) -> Iterator[dt.date]:
    day = dt.date(year, month, 1)
    while day.month == month:
        yield day
        day += dt.timedelta(days=1)


def free_days(
    schedule: Schedule, year: int, month: int, *, booked: Mapping[dt.datetime, int], now: dt.datetime
) -> set[dt.date]:
    return {day for day in days_of_month(year, month) if free_slots(schedule, day, booked=booked, now=now)}


def month_span(schedule: Schedule, year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants from the month's first local midnight to the next month's."""
    first = dt.date(year, month, 1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    zone = schedule.zone
    return (
        dt.datetime.combine(first, dt.time(), tzinfo=zone).astimezone(dt.UTC),
        dt.datetime.combine(following, dt.time(), tzinfo=zone).astimezone(dt.UTC),
    )


def bookable_months(schedule: Schedule, now: dt.datetime) -> list[tuple[int, int]]:
    """The months a calendar may show: from this month to the one the horizon ends in."""
    today = now.astimezone(schedule.zone).date()
    last = today + dt.timedelta(days=BOOKING_HORIZON_DAYS)
    months = []
    year, month = today.year, today.month
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
