"""Queries of appointments: offices and their schedules, free places, booking, cancelling, the demo office."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from programme.appointments import APPOINTMENT_TYPES, Schedule, parse_hours
from storage.models import Case, utcnow
from storage.models_appointments import Appointment, Office, SlotBooking
from storage.queries import _insert, record_audit

DEMO_OFFICE = "Integration Centre Baku"


def office_schedule(office: Office, *, default_timezone: str) -> Schedule:
    return Schedule(
        timezone=office.timezone or default_timezone,
        hours=parse_hours(office.opening_hours),
        holidays=frozenset(dt.date.fromisoformat(day) for day in office.holidays),
        slot_minutes=office.slot_minutes,
        capacity=office.capacity,
    )


async def active_offices(session: AsyncSession, *, appointment_type: str | None = None) -> list[Office]:
    offices = (
        (await session.execute(select(Office).where(Office.active).order_by(Office.name))).scalars().all()
    )
    # The types are a short JSON list: filtered here rather than with engine-specific JSON operators.
    return [office for office in offices if appointment_type in (None, *office.appointment_types)]


async def get_office(session: AsyncSession, *, office_id: int) -> Office | None:
    office = await session.get(Office, office_id)
    return office if office is not None and office.active else None


async def booked_counts(
    session: AsyncSession, *, office_id: int, start: dt.datetime, end: dt.datetime
) -> Counter[dt.datetime]:
    """Seats taken per slot start in [start, end)."""
    statement = (
        select(SlotBooking.starts_at, func.count())
        .where(
            SlotBooking.office_id == office_id, SlotBooking.starts_at >= start, SlotBooking.starts_at < end
        )
        .group_by(SlotBooking.starts_at)
    )
    return Counter({starts_at: count for starts_at, count in (await session.execute(statement)).all()})


async def upcoming_appointments(
    session: AsyncSession, *, case_id: uuid.UUID, now: dt.datetime
) -> Sequence[Appointment]:
    statement = (
        select(Appointment)
        .where(Appointment.case_id == case_id, Appointment.status == "booked", Appointment.starts_at > now)
        .order_by(Appointment.starts_at)
    )
    return (await session.execute(statement)).scalars().all()


async def appointment_of_case(
    session: AsyncSession, *, appointment_id: uuid.UUID, case_id: uuid.UUID
) -> Appointment | None:
    """The appointment, only when it belongs to this case and is still booked."""
    statement = select(Appointment).where(
        Appointment.id == appointment_id, Appointment.case_id == case_id, Appointment.status == "booked"
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def _claim_seat(session: AsyncSession, *, appointment: Appointment, capacity: int) -> bool:
    """Take the first free seat of the appointment's slot. A seat another transaction holds is
    skipped: on PostgreSQL the insert waits for that transaction and then does nothing if it
    committed; SQLite's BEGIN IMMEDIATE already lets one writer in at a time."""
    for seat in range(capacity):
        statement = (
            _insert(session, SlotBooking)
            .values(
                office_id=appointment.office_id,
                starts_at=appointment.starts_at,
                seat=seat,
                appointment_id=appointment.id,
            )
            .on_conflict_do_nothing()
            .returning(SlotBooking.seat)
        )
        if (await session.execute(statement)).scalar_one_or_none() is not None:
            return True
    return False


async def book_appointment(
    session: AsyncSession,
    *,
    case: Case,
    office: Office,
    appointment_type: str,
    starts_at: dt.datetime,
    replaces: Appointment | None = None,
) -> Appointment | None:
    """Book a seat of a slot, or None when every seat is taken. A replaced appointment is
    cancelled in the same transaction, so a reschedule never leaves two bookings or none."""
    if appointment_type not in APPOINTMENT_TYPES:
        raise ValueError("unknown appointment type")
    appointment = Appointment(
        case_id=case.id,
        office_id=office.id,
        type=appointment_type,
        starts_at=starts_at,
        status="booked",
        created_at=utcnow(),
        replaces_id=replaces.id if replaces else None,
    )
    session.add(appointment)
    await session.flush()
    if not await _claim_seat(session, appointment=appointment, capacity=office.capacity):
        await session.delete(appointment)
        await session.flush()
        return None
    if replaces is not None:
        await _cancel(session, appointment=replaces)
    await record_audit(
        session,
        actor="bot",
        action="appointment.rescheduled" if replaces else "appointment.booked",
        object_type="case",
        object_id=case.code,
        details={"office": office.id, "type": appointment_type, "starts_at": starts_at.isoformat()},
    )
    return appointment


async def _cancel(session: AsyncSession, *, appointment: Appointment) -> None:
    appointment.status = "cancelled"
    appointment.cancelled_at = utcnow()
    seat = await session.execute(select(SlotBooking).where(SlotBooking.appointment_id == appointment.id))
    for booking in seat.scalars():
        await session.delete(booking)
    await session.flush()


async def cancel_appointment(session: AsyncSession, *, case: Case, appointment: Appointment) -> None:
    await _cancel(session, appointment=appointment)
    await record_audit(
        session,
        actor="bot",
        action="appointment.cancelled",
        object_type="case",
        object_id=case.code,
        details={"office": appointment.office_id, "starts_at": appointment.starts_at.isoformat()},
    )


async def ensure_demo_office(session: AsyncSession) -> Office:
    """An office for `intake demo` (added once): weekdays 09:00–13:00 and 14:00–18:00, every type."""
    office = (await session.execute(select(Office).where(Office.name == DEMO_OFFICE))).scalar_one_or_none()
    if office is not None:
        return office
    weekdays = [["09:00", "13:00"], ["14:00", "18:00"]]
    office = Office(
        name=DEMO_OFFICE,
        address="Nizami street 10, Baku",
        latitude=40.3777,
        longitude=49.8400,
        timezone=None,  # the programme's office time zone (INTAKE_TIMEZONE)
        opening_hours={str(weekday): weekdays for weekday in range(5)},
        holidays=[],
        slot_minutes=30,
        capacity=2,
        appointment_types=list(APPOINTMENT_TYPES),
        active=True,
        created_at=utcnow(),
    )
    session.add(office)
    await session.flush()
    return office
