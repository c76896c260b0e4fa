"""Queries of offices as the console keeps them: listing, finding one by a form's id, saving settings,
and the appointments a change of settings would leave outside the office's opening."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from programme.appointments import BOOKING_HORIZON_DAYS, Schedule, day_slots, free_slots
from programme.offices import DayOff, OfficeSettings
from storage.appointments import BOOKED, PENDING, PROPOSED, booked_counts, office_schedule
from storage.models import Case, utcnow
from storage.models_appointments import Appointment, AppointmentProposal, Office

ID_DIGITS = 9


async def all_offices(session: AsyncSession) -> Sequence[Office]:
    """Every office, active ones first, by name."""
    statement = select(Office).order_by(Office.active.desc(), func.lower(Office.name))
    return (await session.execute(statement)).scalars().all()


async def find_office(session: AsyncSession, *, office_id: object) -> Office | None:
    """An office by the id a form or link carries; None for anything that is not one."""
    raw = str(office_id or "")
    if not raw.isdigit() or len(raw) > ID_DIGITS:
        return None
    return await session.get(Office, int(raw))


async def name_taken(session: AsyncSession, *, name: str, other_than: int | None) -> bool:
    statement = select(Office.id).where(func.lower(Office.name) == name.lower())
    if other_than is not None:
        statement = statement.where(Office.id != other_than)
    return (await session.execute(statement)).first() is not None


def apply_settings(office: Office, settings: OfficeSettings) -> None:
    office.name = settings.name
    office.address = settings.address
    office.latitude = settings.latitude if settings.latitude is not None else 0.0
    office.longitude = settings.longitude if settings.longitude is not None else 0.0
    office.timezone = settings.timezone
    office.opening_hours = settings.stored_hours()
    office.slot_minutes = settings.slot_minutes
    office.capacity = settings.capacity
    office.appointment_types = list(settings.appointment_types)
    office.holidays = [holiday.as_stored() for holiday in settings.holidays]
    office.active = settings.active
    office.names = dict(settings.names)
    office.addresses = dict(settings.addresses)
    if office.closures is None:
        office.closures = []


def with_closure(office: Office, closure: DayOff) -> list[dict[str, str]]:
    return sorted(
        [*(office.closures or []), closure.as_stored()], key=lambda item: (item["start"], item["end"])
    )


@dataclasses.dataclass(frozen=True)
class Stranded:
    """An appointment the new settings leave outside the office's opening, and its case code.
    `proposal`: the pending proposal that holds it (for a proposed time), else None."""

    appointment: Appointment
    code: str
    proposal: AppointmentProposal | None


async def stranded(
    session: AsyncSession,
    *,
    office: Office,
    schedule: Schedule,
    active: bool,
    now: dt.datetime | None = None,
) -> list[Stranded]:
    """The office's appointments still to come (booked, or proposed and held) that `schedule`
    would not offer: on a holiday or closure, outside the new hours, off the new slot grid, or at
    an office no longer active."""
    now = now or utcnow()
    statement = (
        select(Appointment, Case.code, AppointmentProposal)
        .join(Case, Case.id == Appointment.case_id)
        .outerjoin(
            AppointmentProposal,
            (AppointmentProposal.appointment_id == Appointment.id) & (AppointmentProposal.status == PENDING),
        )
        .where(
            Appointment.office_id == office.id,
            Appointment.starts_at > now,
            Appointment.status.in_((BOOKED, PROPOSED)),
        )
        .order_by(Appointment.starts_at, Case.code)
    )
    found = []
    slots_of: dict[dt.date, set[dt.datetime]] = {}
    for appointment, code, proposal in (await session.execute(statement)).all():
        if appointment.status == PROPOSED and (proposal is None or proposal.expires_at <= now):
            continue  # an unanswered proposal that lapsed holds nothing
        day = appointment.starts_at.astimezone(schedule.zone).date()
        if day not in slots_of:
            slots_of[day] = set(day_slots(schedule, day))
        if not active or appointment.starts_at not in slots_of[day]:
            found.append(Stranded(appointment, code, proposal))
    return found


async def first_free_time(
    session: AsyncSession, *, office: Office, default_timezone: str, now: dt.datetime
) -> dt.datetime | None:
    """The office's earliest free slot within the booking horizon, or None."""
    schedule = office_schedule(office, default_timezone=default_timezone)
    today = now.astimezone(schedule.zone).date()
    for offset in range(BOOKING_HORIZON_DAYS + 1):
        day = today + dt.timedelta(days=offset)
        slots = day_slots(schedule, day)
        if not slots:
            continue
        held = await booked_counts(
            session, office_id=office.id, start=slots[0], end=slots[-1] + dt.timedelta(seconds=1), now=now
        )
        free = free_slots(schedule, day, booked=held, now=now)
        if free:
            return free[0]
    return None
