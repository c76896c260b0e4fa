"""When an appointment's reminders are due: offsets before it, moved earlier out of quiet hours.

Plain rules, no I/O. A reminder due in the office's quiet hours goes out before they begin (the
evening before), never after they end: a later reminder could arrive after the appointment began.
A reminder whose time has already passed when the appointment is booked is not scheduled at all:
the booking's confirmation was just shown, and a reminder on its heels would only be noise.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

# A reminder moved out of quiet hours is due this long before they begin, so that a busy sender
# still delivers it before the quiet time.
QUIET_MARGIN = dt.timedelta(minutes=15)
# A missed appointment older than this gets no follow-up (marked late, or the worker was away).
NO_SHOW_WINDOW = dt.timedelta(days=7)

_OFFSET = re.compile(r"(\d{1,4})\s*([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local times [start, end) without messages; start after end spans midnight (21:00–09:00)."""

    start: dt.time
    end: dt.time

    def contains(self, local: dt.time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def before(self, moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
        """`moment` itself when it is outside quiet hours, else a time before the quiet hours it
        falls in began (QUIET_MARGIN before their start)."""
        local = moment.astimezone(zone)
        if not self.contains(local.time().replace(tzinfo=None)):
            return moment
        began = dt.datetime.combine(local.date(), self.start, tzinfo=zone)
        if began > local:
            began = dt.datetime.combine(local.date() - dt.timedelta(days=1), self.start, tzinfo=zone)
        return (began - QUIET_MARGIN).astimezone(dt.UTC)

    def end_after(self, moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
        """When the quiet hours `moment` falls in end (UTC); `moment` itself outside them."""
        local = moment.astimezone(zone)
        if not self.contains(local.time().replace(tzinfo=None)):
            return moment
        end = dt.datetime.combine(local.date(), self.end, tzinfo=zone)
        if end <= local:
            end = dt.datetime.combine(local.date() + dt.timedelta(days=1), self.end, tzinfo=zone)
        # In the hour the clocks go back, lived twice, `moment` may be in its second pass: so is
        # their end (a comparison in one zone reads wall times, blind to which pass).
        ends = end.astimezone(dt.UTC)
        return ends if ends > moment else end.replace(fold=1).astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    offsets: tuple[dt.timedelta, ...] = (dt.timedelta(hours=24), dt.timedelta(hours=2))
    quiet_hours: QuietHours | None = QuietHours(dt.time(21), dt.time(9))


def due_times(
    policy: ReminderPolicy, *, starts_at: dt.datetime, zone: zoneinfo.ZoneInfo, now: dt.datetime
) -> list[tuple[int, dt.datetime]]:
    """(offset in minutes, due time in UTC) of each reminder to schedule, earliest first.

    Offsets whose (moved) time has passed are left out, and so is a second reminder that quiet
    hours moved onto the same time as another.
    """
    planned: dict[dt.datetime, int] = {}
    for offset in sorted(policy.offsets, reverse=True):
        due = starts_at - offset
        if policy.quiet_hours is not None:
            due = policy.quiet_hours.before(due, zone)
        if due > now and due < starts_at:
            planned.setdefault(due, int(offset.total_seconds() // 60))
    return sorted(((minutes, due) for due, minutes in planned.items()), key=lambda item: item[1])


def parse_offsets(text: str) -> tuple[dt.timedelta, ...]:
    """ "24h,2h" → (24 hours, 2 hours); units d, h, m; an empty text means no reminders."""
    offsets = []
    for part in (part.strip().lower() for part in text.split(",")):
        if not part:
            continue
        match = _OFFSET.fullmatch(part)
        if match is None:
            raise ValueError(f"{part!r} is not an offset like 24h, 90m or 2d")
        offset = dt.timedelta(**{_UNITS[match[2]]: int(match[1])})
        if not dt.timedelta(minutes=1) <= offset <= dt.timedelta(days=30):
            raise ValueError(f"{part!r} is not between 1 minute and 30 days")
        offsets.append(offset)
    return tuple(sorted(set(offsets), reverse=True))


def parse_quiet_hours(text: str) -> QuietHours | None:
    """ "21:00-09:00" → QuietHours; "off" or an empty text → none."""
    text = text.strip().lower()
    if text in ("", "off", "none"):
        return None
    start, separator, end = text.partition("-")
    first, last = _CLOCK.fullmatch(start.strip()), _CLOCK.fullmatch(end.strip())
    if not separator or first is None or last is None:
        raise ValueError("expected local times like 21:00-09:00, or off")
    hours = QuietHours(dt.time(int(first[1]), int(first[2])), dt.time(int(last[1]), int(last[2])))
    if hours.start == hours.end:
        raise ValueError("quiet hours need a start different from their end")
    return hours
