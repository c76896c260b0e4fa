"""An office's calendar as a view model, built from rows made by hand: no database, no HTTP."""

from __future__ import annotations

import datetime as dt
import gettext
import uuid

from caseworker_console.viewmodels.calendar import Loaded, build_calendar, span
from storage.appointments import office_schedule
from storage.models_appointments import Appointment, Office

# Wednesday 2 December 2026, 10:30 in Baku (UTC+4).
NOW = dt.datetime(2026, 12, 2, 6, 30, tzinfo=dt.UTC)
NINE = dt.datetime(2026, 12, 2, 5, 0, tzinfo=dt.UTC)
OFFICE = Office(
    id=1,
    name="North office",
    timezone="Asia/Baku",
    opening_hours={str(day): [["09:00", "12:00"]] for day in range(5)},
    holidays=[{"start": "2026-12-04", "end": "2026-12-04", "label": "Founding day"}],
    closures=[],
    slot_minutes=60,
    capacity=2,
)


def booked(at: dt.datetime, status: str = "booked") -> tuple[Appointment, str]:
    return Appointment(id=uuid.uuid4(), type="first", starts_at=at, status=status), "K7QX-42"


def build(view: str, shown: dt.date, locale: str = "en", **loaded: object) -> object:
    data = Loaded(
        office=OFFICE,
        schedule=office_schedule(OFFICE, default_timezone="UTC"),
        appointments=loaded.get("appointments", []),  # type: ignore[arg-type]
        held=loaded.get("held", {}),  # type: ignore[arg-type]
    )
    days = span(view, shown, locale)
    return build_calendar(
        data, days=days, shown=shown, now=NOW, translate=gettext.NullTranslations(), locale=locale
    )


def test_a_week_starts_on_the_locales_first_day() -> None:
    assert span("week", dt.date(2026, 12, 2), "en_US").first == dt.date(2026, 11, 29)  # a Sunday
    assert span("week", dt.date(2026, 12, 2), "ru").first == dt.date(2026, 11, 30)  # a Monday
    day = span("day", dt.date(2026, 12, 2), "ru")
    assert (day.first, day.count, day.step) == (dt.date(2026, 12, 2), 1, 1)


def test_a_day_shows_its_slots_with_bookings_by_case_code_and_the_seats_left() -> None:
    eleven = NINE + dt.timedelta(hours=2)
    # A booking outside the opening hours (made before they changed) still shows.
    late = NINE + dt.timedelta(hours=6)
    shown = build(
        "day",
        dt.date(2026, 12, 2),
        appointments=[booked(NINE, "attended"), booked(eleven), booked(late)],
        held={eleven: 1, late: 1},
    )
    (today,) = shown.days
    assert today.today and today.label == "Wednesday, December 2, 2026" and today.closed is None
    assert [slot.time for slot in today.slots] == [
        "9:00\u202fAM",
        "10:00\u202fAM",
        "11:00\u202fAM",
        "3:00\u202fPM",
    ]
    nine, ten, eleven_slot, three = today.slots
    # Times that have begun have no seats to offer; a time outside the hours never has.
    assert (nine.free, ten.free, eleven_slot.free, three.free) == (None, None, 1, None)
    assert [(b.code, b.status, b.type) for b in nine.bookings] == [("K7QX-42", "Attended", "First meeting")]
    assert three.bookings and shown.title == "Wednesday, December 2, 2026"
    assert (shown.previous, shown.following, shown.today) == ("2026-12-01", "2026-12-03", "2026-12-02")
    assert shown.zone


def test_a_week_names_its_holiday_and_its_weekend_has_no_slots() -> None:
    shown = build("week", dt.date(2026, 12, 2), locale="ru")
    assert shown.days[0].iso == "2026-11-30" and len(shown.days) == 7
    by_day = {day.iso: day for day in shown.days}
    assert by_day["2026-12-04"].closed == "Founding day" and by_day["2026-12-04"].slots == []
    assert by_day["2026-12-05"].slots == [] and by_day["2026-12-05"].closed is None
    assert len(by_day["2026-12-03"].slots) == 3 and all(slot.free == 2 for slot in by_day["2026-12-03"].slots)
    assert (shown.previous, shown.following) == ("2026-11-23", "2026-12-07")
    assert shown.title == "30 нояб. 2026\u202fг. – 6 дек. 2026\u202fг."
