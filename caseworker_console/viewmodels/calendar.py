"""An office's calendar as it is shown: a week (from the locale's first day) or a day, each day's
opening slots and bookings (case codes only, never names) with the seats left, on the office's clock."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gettext
from collections import defaultdict
from collections.abc import Sequence

from babel import Locale
from babel.dates import format_date, format_time

from caseworker_console import i18n
from caseworker_console.viewmodels.appointments import status_label, type_label
from programme.appointments import Schedule, day_slots
from programme.offices import stored_days_off
from storage.models_appointments import Appointment, Office


@dataclasses.dataclass(frozen=True)
class Span:
    """The days a calendar shows: from `first`, `count` days, moving `step` days back or on."""

    first: dt.date
    count: int
    step: int


def span(view: str, shown: dt.date, locale: str) -> Span:
    """The week around `shown` (starting on the locale's first day of the week), or that day."""
    if view != "week":
        return Span(shown, 1, 1)
    back = (shown.weekday() - Locale.parse(locale).first_week_day) % 7
    return Span(shown - dt.timedelta(days=back), 7, 7)


@dataclasses.dataclass(frozen=True)
class Booking:
    code: str
    type: str
    status: str
    status_code: str


@dataclasses.dataclass(frozen=True)
class SlotView:
    time: str
    at_iso: str
    bookings: list[Booking]
    free: int | None  # seats left; None for a time that has begun or is outside the opening hours


@dataclasses.dataclass(frozen=True)
class DayView:
    label: str
    iso: str
    today: bool
    slots: list[SlotView]
    closed: str | None = None  # the holiday's name or the closure's reason


@dataclasses.dataclass(frozen=True)
class CalendarView:
    days: list[DayView]
    zone: str
    previous: str
    following: str
    shown: str
    today: str
    title: str


@dataclasses.dataclass(frozen=True)
class Loaded:
    """What the calendar is built from, as storage gives it, for the office and the days shown."""

    office: Office
    schedule: Schedule
    appointments: Sequence[tuple[Appointment, str]]  # with each one's case code
    held: dict[dt.datetime, int]  # seats held at each time


def build_calendar(
    loaded: Loaded,
    *,
    days: Span,
    shown: dt.date,
    now: dt.datetime,
    translate: gettext.NullTranslations,
    locale: str,
) -> CalendarView:
    zone = loaded.schedule.zone
    today = now.astimezone(zone).date()
    by_time: dict[dt.datetime, list[Booking]] = defaultdict(list)
    for appointment, code in loaded.appointments:
        by_time[appointment.starts_at].append(
            Booking(
                code=code,
                type=type_label(appointment.type, translate),
                status=status_label(appointment.status, translate),
                status_code=appointment.status,
            )
        )
    days_off = {
        day: item.label
        for item in [*stored_days_off(loaded.office.holidays), *stored_days_off(loaded.office.closures)]
        for day in item.days()
    }
    shown_days = [
        _day(days.first + dt.timedelta(days=offset), loaded, by_time, days_off, now=now, locale=locale)
        for offset in range(days.count)
    ]
    return CalendarView(
        days=shown_days,
        zone=i18n.timezone_name(zone, locale=locale),
        previous=(days.first - dt.timedelta(days=days.step)).isoformat(),
        following=(days.first + dt.timedelta(days=days.step)).isoformat(),
        shown=shown.isoformat(),
        today=today.isoformat(),
        title=_title(days, locale),
    )


def _day(
    day: dt.date,
    loaded: Loaded,
    by_time: dict[dt.datetime, list[Booking]],
    days_off: dict[dt.date, str],
    *,
    now: dt.datetime,
    locale: str,
) -> DayView:
    """One day: its opening slots and any other time booked, with the seats left where a booking
    can still be made."""
    zone = loaded.schedule.zone
    opening = set(day_slots(loaded.schedule, day))
    times = sorted(opening | {at for at in by_time if at.astimezone(zone).date() == day})
    return DayView(
        label=format_date(day, "full", locale=locale),
        iso=day.isoformat(),
        today=day == now.astimezone(zone).date(),
        closed=days_off.get(day),
        slots=[
            SlotView(
                time=format_time(at, "short", tzinfo=zone, locale=locale),
                at_iso=at.isoformat(),
                bookings=by_time.get(at, []),
                free=max(loaded.office.capacity - loaded.held.get(at, 0), 0)
                if at in opening and at > now
                else None,
            )
            for at in times
        ],
    )


def _title(days: Span, locale: str) -> str:
    """A week as its first and last day, a day in full."""
    if days.count == 1:
        return format_date(days.first, "full", locale=locale)
    last = days.first + dt.timedelta(days=days.count - 1)
    return (
        f"{format_date(days.first, 'medium', locale=locale)} – {format_date(last, 'medium', locale=locale)}"
    )
