"""An office's schedule from its stored settings: holidays and closures as ranges, older bare dates,
the country's public holidays from the `holidays` library, and the demo's office."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import text

from programme.appointments import day_slots
from programme.offices import country_holidays, read_hours, stored_days_off
from storage.appointments import demo_office, office_schedule
from storage.engine import create_engine
from storage.migrate import upgrade


def test_the_demo_office_takes_no_appointment_on_new_years_day_or_novruz() -> None:
    office = demo_office(today=dt.date(2026, 12, 7))
    schedule = office_schedule(office, default_timezone="Asia/Baku")
    new_year = dt.date(2027, 1, 1)  # a Friday
    assert new_year in schedule.holidays and day_slots(schedule, new_year) == []
    assert dt.date(2027, 3, 22) in schedule.holidays  # Novruz, a Monday
    assert len(day_slots(schedule, dt.date(2027, 1, 5))) == 16  # an ordinary Tuesday


def test_a_holidays_consecutive_days_are_one_range_and_other_holidays_stay_apart() -> None:
    found = country_holidays(today=dt.date(2027, 3, 1), language="en_US", days=30)
    novruz = [item for item in found if item.label == "Spring Festival"]
    assert [(item.start, item.end) for item in novruz] == [(dt.date(2027, 3, 20), dt.date(2027, 3, 26))]
    assert all(dt.date(2027, 3, 1) <= item.start for item in found)
    assert {item.label for item in country_holidays(today=dt.date(2027, 3, 1), language="az", days=30)} != {
        item.label for item in found
    }


def test_stored_ranges_and_older_bare_dates_both_close_their_days() -> None:
    days = stored_days_off(["2027-05-09", {"start": "2027-06-01", "end": "2027-06-03", "label": "Move"}])
    assert [(item.start, item.end) for item in days] == [
        (dt.date(2027, 5, 9), dt.date(2027, 5, 9)),
        (dt.date(2027, 6, 1), dt.date(2027, 6, 3)),
    ]
    assert list(days[1].days()) == [dt.date(2027, 6, 1), dt.date(2027, 6, 2), dt.date(2027, 6, 3)]


def test_hours_with_a_break_read_in_order_and_bad_ones_are_refused() -> None:
    spans, error = read_hours("14:00-18:00, 9.00 – 13:00")
    assert error is None and spans == ((dt.time(9), dt.time(13)), (dt.time(14), dt.time(18)))
    assert read_hours("")[0] == () and read_hours("")[1] is None
    assert read_hours("24:00-25:00")[1] is not None
    assert read_hours("10:00-10:00")[1] is not None


async def test_the_migration_turns_bare_holiday_dates_into_labelled_ranges(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(engine, "0010_retention")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO offices (name, address, latitude, longitude, opening_hours, holidays,"
                    " slot_minutes, capacity, appointment_types, active, created_at) VALUES ('Old', 'Street',"
                    " 40.4, 49.8, '{}', '[\"2027-01-01\"]', 30, 1, '[]', 1, '2026-12-01 00:00:00')"
                )
            )
        await upgrade(engine, "0011_offices")
        async with engine.connect() as connection:
            holidays, closures = (
                await connection.execute(text("SELECT holidays, closures FROM offices"))
            ).one()
    finally:
        await engine.dispose()
    assert json.loads(holidays) == [{"start": "2027-01-01", "end": "2027-01-01", "label": "Holiday"}]
    assert json.loads(closures) == []
