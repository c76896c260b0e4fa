"""Queries of appointments: offices and their schedules, free places, booking, cancelling, the demo office."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from programme.appointments import APPOINTMENT_TYPES, Schedule, parse_hours
from programme.offices import closed_days, country_holidays, stored_days_off
from programme.reminders import ReminderPolicy
from storage.models import Case, utcnow
from storage.models_appointments import Appointment, AppointmentProposal, Office, SlotBooking
from storage.queries import dialect_insert, record_audit
from storage.reminders import DEFAULT_POLICY, drop_reminders, schedule_reminders

DEMO_OFFICE = "Integration Centre Baku"

# Appointment statuses: a proposed time holds a seat until answered (storage: AppointmentProposal).
PROPOSED, BOOKED, CANCELLED, ATTENDED, NO_SHOW = "proposed", "booked", "cancelled", "attended", "no_show"
MARKS = (ATTENDED, NO_SHOW)
# Proposal statuses.
PENDING, ACCEPTED, DECLINED, WITHDRAWN, EXPIRED = "pending", "accepted", "declined", "withdrawn", "expired"
# How long a proposal holds its seat for the person's answer (never past the time itself).
PROPOSAL_HOLD = dt.timedelta(hours=48)


def office_name(office: Office, locale: str) -> str:
    """The office's name in the person's language, else the first given."""
    return (office.names or {}).get(locale) or office.name


def office_address(office: Office, locale: str) -> str:
    return (office.addresses or {}).get(locale) or office.address


def office_schedule(office: Office, *, default_timezone: str) -> Schedule:
    return Schedule(
        timezone=office.timezone or default_timezone,
        hours=parse_hours(office.opening_hours),
        holidays=closed_days(stored_days_off(office.holidays), stored_days_off(office.closures)),
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


def _held(now: dt.datetime) -> ColumnElement[bool]:
    """A seat's appointment still holds it: booked, or a proposal not yet expired."""
    return or_(Appointment.hold_until.is_(None), Appointment.hold_until > now)


async def booked_counts(
    session: AsyncSession,
    *,
    office_id: int,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime | None = None,
) -> Counter[dt.datetime]:
    """Seats taken per slot start in [start, end); an expired proposal's seat counts as free."""
    statement = (
        select(SlotBooking.starts_at, func.count())
        .join(Appointment, Appointment.id == SlotBooking.appointment_id)
        .where(
            SlotBooking.office_id == office_id,
            SlotBooking.starts_at >= start,
            SlotBooking.starts_at < end,
            _held(now or utcnow()),
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


async def _claim_seat(
    session: AsyncSession, *, appointment: Appointment, capacity: int, now: dt.datetime
) -> bool:
    """Take the first free seat of the appointment's slot. A seat another transaction holds is
    skipped: on PostgreSQL the insert waits for that transaction and then does nothing if it
    committed; SQLite's BEGIN IMMEDIATE already lets one writer in at a time."""
    await _release_expired(session, office_id=appointment.office_id, starts_at=appointment.starts_at, now=now)
    for seat in range(capacity):
        statement = (
            dialect_insert(session, SlotBooking)
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
    reminders: ReminderPolicy = DEFAULT_POLICY,
    default_timezone: str = "Asia/Baku",
    now: dt.datetime | None = None,
) -> Appointment | None:
    """Book a seat of a slot, or None when every seat is taken. A replaced appointment is
    cancelled in the same transaction, so a reschedule never leaves two bookings or none.
    The reminders are scheduled in the same transaction too (in the office's time zone, else
    `default_timezone`, INTAKE_TIMEZONE), from `now` (the caller's clock, else utcnow)."""
    now = now or utcnow()
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
    if not await _claim_seat(session, appointment=appointment, capacity=office.capacity, now=now):
        await session.delete(appointment)
        await session.flush()
        return None
    if replaces is not None:
        await _cancel(session, appointment=replaces)
    zone = office_schedule(office, default_timezone=default_timezone).zone
    await schedule_reminders(session, appointment=appointment, zone=zone, policy=reminders, now=now)
    await record_audit(
        session,
        actor="bot",
        action="appointment.rescheduled" if replaces else "appointment.booked",
        object_type="case",
        object_id=case.code,
        details={"office": office.id, "type": appointment_type, "starts_at": starts_at.isoformat()},
    )
    return appointment


async def _release_expired(
    session: AsyncSession, *, office_id: int, starts_at: dt.datetime, now: dt.datetime
) -> None:
    """Give back the seats of this slot's proposals nobody answered in time."""
    statement = select(AppointmentProposal).where(
        AppointmentProposal.status == PENDING,
        AppointmentProposal.expires_at <= now,
        AppointmentProposal.appointment_id.in_(
            select(Appointment.id).where(
                Appointment.office_id == office_id,
                Appointment.starts_at == starts_at,
                Appointment.status == PROPOSED,
            )
        ),
    )
    for proposal in (await session.execute(statement)).scalars():
        await _close_proposal(session, proposal=proposal, status=EXPIRED, at=now)


async def _cancel(session: AsyncSession, *, appointment: Appointment) -> None:
    appointment.status = "cancelled"
    appointment.cancelled_at = utcnow()
    seat = await session.execute(select(SlotBooking).where(SlotBooking.appointment_id == appointment.id))
    for booking in seat.scalars():
        await session.delete(booking)
    await session.flush()
    await drop_reminders(session, appointment_ids=[appointment.id], reason="cancelled")


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


# ── the console: calendar, marking, proposals ─────────────────────────────────────────────────────


async def office_appointments(
    session: AsyncSession, *, office_id: int, start: dt.datetime, end: dt.datetime
) -> Sequence[tuple[Appointment, str]]:
    """An office's appointments in [start, end) that hold a seat or were kept (not cancelled, not
    a proposal that expired), with their case codes."""
    statement = (
        select(Appointment, Case.code)
        .join(Case, Case.id == Appointment.case_id)
        .where(
            Appointment.office_id == office_id,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            Appointment.status != CANCELLED,
            _held(utcnow()),
        )
        .order_by(Appointment.starts_at, Case.code)
    )
    return [(appointment, code) for appointment, code in (await session.execute(statement)).all()]


async def case_appointments(session: AsyncSession, *, case_id: uuid.UUID) -> Sequence[Appointment]:
    """Every appointment of a case, latest time first (cancelled and proposed ones too)."""
    statement = (
        select(Appointment)
        .where(Appointment.case_id == case_id)
        .order_by(Appointment.starts_at.desc(), Appointment.created_at.desc())
    )
    return (await session.execute(statement)).scalars().all()


async def case_proposals(session: AsyncSession, *, case_id: uuid.UUID) -> Sequence[AppointmentProposal]:
    statement = (
        select(AppointmentProposal)
        .where(AppointmentProposal.case_id == case_id)
        .order_by(AppointmentProposal.created_at.desc(), AppointmentProposal.id)
    )
    return (await session.execute(statement)).scalars().all()


async def find_appointment(
    session: AsyncSession, *, case_id: uuid.UUID, appointment_id: str
) -> Appointment | None:
    """One appointment of the case by id; None for anything else (or not an id)."""
    try:
        wanted = uuid.UUID(appointment_id)
    except ValueError:
        return None
    statement = select(Appointment).where(Appointment.id == wanted, Appointment.case_id == case_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def find_proposal(
    session: AsyncSession, *, case_id: uuid.UUID, proposal_id: str
) -> AppointmentProposal | None:
    try:
        wanted = uuid.UUID(proposal_id)
    except ValueError:
        return None
    statement = select(AppointmentProposal).where(
        AppointmentProposal.id == wanted, AppointmentProposal.case_id == case_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def pending_proposal(session: AsyncSession, *, case_id: uuid.UUID) -> AppointmentProposal | None:
    statement = select(AppointmentProposal).where(
        AppointmentProposal.case_id == case_id, AppointmentProposal.status == PENDING
    )
    return (await session.execute(statement)).scalars().first()


def mark(appointment: Appointment, *, status: str, staff_id: int, at: dt.datetime) -> None:
    """Attended or no-show (a mistake may be corrected to the other); the caller checks the day."""
    if status not in MARKS or appointment.status not in (BOOKED, *MARKS):
        raise ValueError("not a mark for this appointment")
    appointment.status = status
    appointment.marked_at = at
    appointment.marked_by = staff_id


async def propose(
    session: AsyncSession,
    *,
    case: Case,
    office: Office,
    appointment_type: str,
    starts_at: dt.datetime,
    replaces: Appointment | None,
    staff_id: int | None,
    token: str,
    now: dt.datetime,
) -> AppointmentProposal | None:
    """Hold a seat of the slot for the person's answer; None when every seat is taken."""
    if appointment_type not in APPOINTMENT_TYPES:
        raise ValueError("unknown appointment type")
    expires_at = min(now + PROPOSAL_HOLD, starts_at)
    appointment = Appointment(
        case_id=case.id,
        office_id=office.id,
        type=appointment_type,
        starts_at=starts_at,
        status=PROPOSED,
        created_at=now,
        hold_until=expires_at,
    )
    session.add(appointment)
    await session.flush()
    if not await _claim_seat(session, appointment=appointment, capacity=office.capacity, now=now):
        await session.delete(appointment)
        await session.flush()
        return None
    proposal = AppointmentProposal(
        case_id=case.id,
        appointment_id=appointment.id,
        replaces_id=replaces.id if replaces else None,
        token=token,
        status=PENDING,
        proposed_by=staff_id,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(proposal)
    await session.flush()
    return proposal


async def _close_proposal(
    session: AsyncSession, *, proposal: AppointmentProposal, status: str, at: dt.datetime
) -> bool:
    """Settle a pending proposal once: the conditional update lets exactly one answer win (a second
    tap, or a tap racing a withdrawal, finds it no longer pending). Its seat is given back unless
    accepted."""
    result = await session.execute(
        update(AppointmentProposal)
        .where(AppointmentProposal.id == proposal.id, AppointmentProposal.status == PENDING)
        .values(status=status, answered_at=at)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        await session.refresh(proposal)
        return False
    await session.refresh(proposal)
    appointment = await session.get(Appointment, proposal.appointment_id)
    if appointment is not None and status != ACCEPTED:
        await _cancel(session, appointment=appointment)
    return True


async def proposal_by_token(session: AsyncSession, *, token: str) -> AppointmentProposal | None:
    statement = select(AppointmentProposal).where(AppointmentProposal.token == token)
    return (await session.execute(statement)).scalar_one_or_none()


async def accept_proposal(
    session: AsyncSession,
    *,
    proposal: AppointmentProposal,
    case: Case,
    now: dt.datetime,
    reminders: ReminderPolicy = DEFAULT_POLICY,
    default_timezone: str = "Asia/Baku",
) -> Appointment | None:
    """Book the proposed time (its seat is already held) and cancel the one it replaces; None when
    it is no longer open (answered, withdrawn, expired). Its reminders are scheduled as at booking."""
    if proposal.status == PENDING and proposal.expires_at <= now:
        await _close_proposal(session, proposal=proposal, status=EXPIRED, at=now)
        return None
    if not await _close_proposal(session, proposal=proposal, status=ACCEPTED, at=now):
        return None
    appointment = await session.get(Appointment, proposal.appointment_id)
    assert appointment is not None
    appointment.status = BOOKED
    appointment.hold_until = None
    replaced = await session.get(Appointment, proposal.replaces_id) if proposal.replaces_id else None
    if replaced is not None and replaced.status == BOOKED:
        appointment.replaces_id = replaced.id
        await _cancel(session, appointment=replaced)
    await session.flush()
    zone = office_schedule(appointment.office, default_timezone=default_timezone).zone
    await schedule_reminders(session, appointment=appointment, zone=zone, policy=reminders, now=now)
    await record_audit(
        session,
        actor="bot",
        action="appointment.proposal_accepted",
        object_type="case",
        object_id=case.code,
        details={
            "proposal": str(proposal.id),
            "office": appointment.office_id,
            "starts_at": appointment.starts_at.isoformat(),
            "replaces": str(replaced.id) if replaced else None,
        },
    )
    return appointment


async def decline_proposal(
    session: AsyncSession, *, proposal: AppointmentProposal, case: Case, now: dt.datetime
) -> bool:
    """The person wants another time: the proposed seat is freed; False when no longer open."""
    status = EXPIRED if proposal.expires_at <= now else DECLINED
    if not await _close_proposal(session, proposal=proposal, status=status, at=now):
        return False
    if status == DECLINED:
        await record_audit(
            session,
            actor="bot",
            action="appointment.proposal_declined",
            object_type="case",
            object_id=case.code,
            details={"proposal": str(proposal.id)},
        )
    return status == DECLINED


async def withdraw_proposal(
    session: AsyncSession, *, proposal: AppointmentProposal, now: dt.datetime
) -> bool:
    return await _close_proposal(session, proposal=proposal, status=WITHDRAWN, at=now)


def demo_office(*, today: dt.date | None = None) -> Office:
    """The office `intake demo` receives people at (not yet saved): weekdays 09:00–13:00 and
    14:00–18:00 in the programme's time zone, half-hour slots of two places, every type, closed
    on the country's public holidays of the coming year (from the `holidays` library)."""
    weekdays = [["09:00", "13:00"], ["14:00", "18:00"]]
    today = today or utcnow().date()
    holidays = country_holidays(today=today, language="en_US")
    return Office(
        name=DEMO_OFFICE,
        address="Nizami street 10, Baku",
        latitude=40.3777,
        longitude=49.8400,
        timezone=None,  # the programme's office time zone (INTAKE_TIMEZONE)
        opening_hours={str(weekday): weekdays for weekday in range(5)},
        holidays=[holiday.as_stored() for holiday in holidays],
        closures=[],
        slot_minutes=30,
        capacity=2,
        appointment_types=list(APPOINTMENT_TYPES),
        active=True,
        created_at=utcnow(),
    )


async def ensure_demo_office(session: AsyncSession) -> Office:
    """The demo's office (`demo_office`), added once."""
    office = (await session.execute(select(Office).where(Office.name == DEMO_OFFICE))).scalar_one_or_none()
    if office is not None:
        return office
    office = demo_office()
    session.add(office)
    await session.flush()
    return office
