"""An office's settings as an administrator writes them: reading and checking each value, holidays
and closures as dates or ranges with a label, and a country's public holidays as a starting list.

Plain Python, no I/O. Every message is a msgid (with %-placeholders) translated where shown.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import holidays as public_holidays

from programme.appointments import Interval, Schedule, stored_hours
from programme.text import N_, NP_

NAME_MAX, ADDRESS_MAX, LABEL_MAX = 120, 300, 120
SLOT_MIN, SLOT_MAX = 5, 240
PLACES_MIN, PLACES_MAX = 1, 50
# Beyond these a form value is hostile or a mistake: it is refused before it is parsed.
HOURS_FIELD_MAX = 200
DAYS_OFF_FIELD_MAX = 20_000
DAYS_OFF_MAX = 200
# A holiday or closure lasts a year at most (a longer one is a deactivated office).
RANGE_DAYS_MAX = 366
# The country whose public holidays are offered as a starting list (the programme's, docs/programme.md).
COUNTRY = "AZ"

WEEKDAYS: tuple[str, ...] = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)

NAME_NEEDED = N_("Give the office's name (up to 120 characters).")
NAME_TAKEN = N_("Another office already has this name.")
ADDRESS_NEEDED = N_("Give the office's address (up to 300 characters).")
LATITUDE_WRONG = N_("Give the latitude as a number from -90 to 90, such as 40.3777.")
LONGITUDE_WRONG = N_("Give the longitude as a number from -180 to 180, such as 49.8400.")
TIMEZONE_WRONG = N_("Choose a time zone from the list, such as Asia/Baku.")
HOURS_FORMAT = N_(
    "Write the hours as 09:00-13:00, with a comma between the spans of a day (the gap between two "
    "spans is the break); leave the day empty when the office is closed."
)
HOURS_INVERTED = N_("%(span)s ends before it begins.")
HOURS_OVERLAP = N_("%(first)s and %(second)s overlap.")
HOURS_SHORT = NP_(
    "%(span)s is shorter than one slot (%(num)s minute).",
    "%(span)s is shorter than one slot (%(num)s minutes).",
)
NO_HOURS = N_("Give the opening hours of at least one day.")
SLOT_WRONG = N_("A slot lasts from 5 to 240 minutes (a whole number).")
PLACES_WRONG = N_("Places per slot: a whole number from 1 to 50.")
TYPES_NEEDED = N_("Choose at least one type of appointment.")
DAY_OFF_FORMAT = N_(
    "Line %(line)s: write a date (2027-01-01) or a range (2027-03-20 - 2027-03-24), then its name."
)
DAY_OFF_INVERTED = N_("Line %(line)s: the range ends before it begins.")
DAY_OFF_PAST = N_("Line %(line)s: %(date)s is in the past.")
DAY_OFF_LABEL = N_("Line %(line)s: give it a name (up to 120 characters).")
DAY_OFF_LONG = N_("Line %(line)s: a range lasts a year at most.")
DAYS_OFF_TOO_MANY = N_("Up to 200 lines.")
CLOSURE_DATES = N_("Give the first day of the closure, and its last day for a range.")
CLOSURE_INVERTED = N_("The closure ends before it begins.")
CLOSURE_PAST = N_("The closure cannot begin in the past.")
CLOSURE_LONG = N_("A closure lasts a year at most; deactivate the office instead.")
REASON_NEEDED = N_("Give the reason for the closure (up to 120 characters).")

Message = tuple[str, dict[str, Any]]

_TIME = r"([01]?\d|2[0-3])[:.]([0-5]\d)"
_SPAN = re.compile(rf"^{_TIME}\s*[-–—]\s*{_TIME}$")
_DATE = r"(\d{4}-\d{2}-\d{2})"
_DAY_OFF = re.compile(rf"^{_DATE}(?:\s*(?:[-–—]|\.\.)\s*{_DATE})?(?:\s+(.*))?$")


@dataclasses.dataclass(frozen=True, slots=True)
class DayOff:
    """A holiday or a closure: the days from `start` to `end` (both included), with a label or reason."""

    start: dt.date
    end: dt.date
    label: str

    def days(self) -> Iterable[dt.date]:
        day = self.start
        while day <= self.end:
            yield day
            day += dt.timedelta(days=1)

    def as_stored(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label}

    def as_line(self) -> str:
        if self.start == self.end:
            return f"{self.start.isoformat()} {self.label}".strip()
        return f"{self.start.isoformat()} - {self.end.isoformat()} {self.label}".strip()


def stored_days_off(entries: Iterable[Any]) -> list[DayOff]:
    """Holidays or closures as stored: {"start", "end", "label"}, or a bare ISO date (older rows)."""
    found = []
    for entry in entries or ():
        if isinstance(entry, str):
            day = dt.date.fromisoformat(entry)
            found.append(DayOff(day, day, ""))
        else:
            start = dt.date.fromisoformat(entry["start"])
            found.append(
                DayOff(
                    start, dt.date.fromisoformat(entry.get("end") or entry["start"]), entry.get("label", "")
                )
            )
    return sorted(found, key=lambda item: (item.start, item.end))


def closed_days(*lists: Iterable[DayOff]) -> frozenset[dt.date]:
    return frozenset(day for days_off in lists for item in days_off for day in item.days())


def span_text(span: Interval) -> str:
    return f"{span[0].strftime('%H:%M')}-{span[1].strftime('%H:%M')}"


def hours_text(spans: Sequence[Interval]) -> str:
    return ", ".join(span_text(span) for span in spans)


@dataclasses.dataclass
class OfficeSettings:
    """What the office form holds, read and checked; `errors` maps a field to its message."""

    name: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    timezone: str = ""
    hours: dict[int, tuple[Interval, ...]] = dataclasses.field(default_factory=dict)
    slot_minutes: int = 30
    capacity: int = 1
    appointment_types: list[str] = dataclasses.field(default_factory=list)
    holidays: list[DayOff] = dataclasses.field(default_factory=list)
    active: bool = True
    # The name and address per language (optional; `name` and `address` are the first given).
    names: dict[str, str] = dataclasses.field(default_factory=dict)
    addresses: dict[str, str] = dataclasses.field(default_factory=dict)
    errors: dict[str, Message] = dataclasses.field(default_factory=dict)

    def stored_hours(self) -> dict[str, list[list[str]]]:
        return stored_hours(self.hours)

    def schedule(self, *, closures: Iterable[DayOff] = ()) -> Schedule:
        return Schedule(
            timezone=self.timezone,
            hours=self.hours,
            holidays=closed_days(self.holidays, closures),
            slot_minutes=self.slot_minutes,
            capacity=self.capacity,
        )


def _one_line(value: Any) -> str:
    return " ".join(str(value or "").split())


def _number(value: str, low: float, high: float) -> float | None:
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        return None
    return number if low <= number <= high and number == number else None


def _whole(value: str, low: int, high: int) -> int | None:
    value = value.strip()
    if not value.isdigit() or len(value) > 4:
        return None
    number = int(value)
    return number if low <= number <= high else None


def read_hours(text: str) -> tuple[tuple[Interval, ...], Message | None]:
    """One weekday's spans ("09:00-13:00, 14:00-18:00"), sorted; an empty text is a closed day."""
    if len(text) > HOURS_FIELD_MAX:
        return (), (HOURS_FORMAT, {})
    spans: list[Interval] = []
    for part in re.split(r"[,;]", text):
        part = part.strip()
        if not part:
            continue
        match = _SPAN.match(part)
        if match is None:
            return (), (HOURS_FORMAT, {})
        opens = dt.time(int(match[1]), int(match[2]))
        closes = dt.time(int(match[3]), int(match[4]))
        if closes <= opens:
            return (), (HOURS_INVERTED, {"span": span_text((opens, closes))})
        spans.append((opens, closes))
    spans.sort()
    for first, second in itertools.pairwise(spans):
        if second[0] < first[1]:
            return (), (HOURS_OVERLAP, {"first": span_text(first), "second": span_text(second)})
    return tuple(spans), None


def read_days_off(text: str, *, today: dt.date) -> tuple[list[DayOff], Message | None]:
    """Holidays, one a line: "2027-01-01 New Year's Day" or "2027-03-20 - 2027-03-24 Novruz"."""
    if len(text) > DAYS_OFF_FIELD_MAX:
        return [], (DAYS_OFF_TOO_MANY, {})
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > DAYS_OFF_MAX:
        return [], (DAYS_OFF_TOO_MANY, {})
    found = []
    for number, line in enumerate(lines, start=1):
        where = {"line": number}
        match = _DAY_OFF.match(line)
        try:
            start = dt.date.fromisoformat(match[1]) if match else None
            end = dt.date.fromisoformat(match[2]) if match and match[2] else start
        except ValueError:
            start = end = None
        if match is None or start is None or end is None:
            return [], (DAY_OFF_FORMAT, where)
        label = _one_line(match[3])
        if end < start:
            return [], (DAY_OFF_INVERTED, where)
        if end < today:
            return [], (DAY_OFF_PAST, {**where, "date": end.isoformat()})
        if (end - start).days >= RANGE_DAYS_MAX:
            return [], (DAY_OFF_LONG, where)
        if not label or len(label) > LABEL_MAX:
            return [], (DAY_OFF_LABEL, where)
        found.append(DayOff(start, end, label))
    return sorted(found, key=lambda item: (item.start, item.end)), None


def read_office(
    form: Mapping[str, Any],
    *,
    types: Sequence[str],
    today: dt.date,
    zones: frozenset[str],
    languages: Sequence[str] = (),
) -> OfficeSettings:
    """The office form's values, each checked; a wrong one leaves its message in `errors` and
    every other value as read, so the form shows back what was typed."""
    found = OfficeSettings()
    errors = found.errors
    found.name = _one_line(form.get("name"))
    if not found.name or len(found.name) > NAME_MAX:
        errors["name"] = (NAME_NEEDED, {})
    found.address = _one_line(form.get("address"))
    if not found.address or len(found.address) > ADDRESS_MAX:
        errors["address"] = (ADDRESS_NEEDED, {})
    found.latitude = _number(str(form.get("latitude") or "")[:40], -90, 90)
    if found.latitude is None:
        errors["latitude"] = (LATITUDE_WRONG, {})
    found.longitude = _number(str(form.get("longitude") or "")[:40], -180, 180)
    if found.longitude is None:
        errors["longitude"] = (LONGITUDE_WRONG, {})
    found.timezone = str(form.get("timezone") or "").strip()[:64]
    if found.timezone not in zones:
        errors["timezone"] = (TIMEZONE_WRONG, {})
    slot = _whole(str(form.get("slot_minutes") or ""), SLOT_MIN, SLOT_MAX)
    if slot is None:
        errors["slot_minutes"] = (SLOT_WRONG, {})
    else:
        found.slot_minutes = slot
    places = _whole(str(form.get("capacity") or ""), PLACES_MIN, PLACES_MAX)
    if places is None:
        errors["capacity"] = (PLACES_WRONG, {})
    else:
        found.capacity = places
    for weekday in range(7):
        spans, error = read_hours(str(form.get(f"hours_{weekday}") or ""))
        if error is None and slot is not None:
            short = next((s for s in spans if _minutes(s) < slot), None)
            if short is not None:
                error = (HOURS_SHORT, {"span": span_text(short), "num": slot})
        if error is not None:
            errors[f"hours_{weekday}"] = error
        elif spans:
            found.hours[weekday] = spans
    if not found.hours and not any(key.startswith("hours_") for key in errors):
        errors["hours_0"] = (NO_HOURS, {})
    chosen = form.get("appointment_types") or []
    found.appointment_types = [value for value in types if value in chosen]
    if not found.appointment_types:
        errors["appointment_types"] = (TYPES_NEEDED, {})
    found.holidays, error = read_days_off(str(form.get("holidays") or ""), today=today)
    if error is not None:
        errors["holidays"] = error
    for language in languages:
        name = _one_line(form.get(f"name_{language}"))
        address = _one_line(form.get(f"address_{language}"))
        if len(name) > NAME_MAX:
            errors[f"name_{language}"] = (NAME_NEEDED, {})
        elif name:
            found.names[language] = name
        if len(address) > ADDRESS_MAX:
            errors[f"address_{language}"] = (ADDRESS_NEEDED, {})
        elif address:
            found.addresses[language] = address
    found.active = form.get("active") == "1"
    return found


def _minutes(span: Interval) -> int:
    return (span[1].hour * 60 + span[1].minute) - (span[0].hour * 60 + span[0].minute)


def read_closure(form: Mapping[str, Any], *, today: dt.date) -> tuple[DayOff | None, Message | None]:
    """A closure: a day, or a range from its first to its last day, with a reason."""
    raw_start = str(form.get("start") or "")[:10]
    raw_end = str(form.get("end") or "")[:10] or raw_start
    try:
        start, end = dt.date.fromisoformat(raw_start), dt.date.fromisoformat(raw_end)
    except ValueError:
        return None, (CLOSURE_DATES, {})
    if end < start:
        return None, (CLOSURE_INVERTED, {})
    if start < today:
        return None, (CLOSURE_PAST, {})
    if (end - start).days >= RANGE_DAYS_MAX:
        return None, (CLOSURE_LONG, {})
    reason = _one_line(form.get("reason"))
    if not reason or len(reason) > LABEL_MAX:
        return None, (REASON_NEEDED, {})
    return DayOff(start, end, reason), None


def _base_name(name: str) -> str:
    """ "Spring Festival (observed)" and "Spring Festival" are one holiday's days."""
    return name.split(" (")[0].strip()


def country_holidays(*, today: dt.date, language: str, days: int = 365) -> list[DayOff]:
    """The country's public holidays from today for `days`, from the `holidays` library (which
    knows the moving Islamic holidays and the days moved for a holiday on a weekend); a holiday's
    consecutive days, observed ones included, are one range."""
    calendar = public_holidays.country_holidays(
        COUNTRY, years=range(today.year, (today + dt.timedelta(days=days)).year + 1), language=language
    )
    last = today + dt.timedelta(days=days)
    found: list[DayOff] = []
    for day, name in sorted(calendar.items()):
        if not today <= day < last:
            continue
        label = _base_name(name)[:LABEL_MAX]
        if found and found[-1].end + dt.timedelta(days=1) == day and _base_name(found[-1].label) == label:
            found[-1] = DayOff(found[-1].start, day, found[-1].label)
        else:
            found.append(DayOff(day, day, label))
    return found


def holiday_language(locale: str) -> str:
    """The library's language nearest the reader's: Azerbaijani, else English."""
    return "az" if locale == "az" else "en_US"
