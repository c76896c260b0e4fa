"""Queries of the reminder schedule: scheduling at booking, dropping, the due scan, no-show follow-ups."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Sequence

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from programme.reminders import NO_SHOW_WINDOW, ReminderPolicy, due_times
from storage.models import Beneficiary, Case, OutboxMessage
from storage.models_appointments import Appointment
from storage.models_reminders import BEFORE, CONFIRMED, DROPPED, ENQUEUED, NO_SHOW, PENDING, Reminder
from storage.outbox import Status
from storage.queries import dialect_insert

DEFAULT_POLICY = ReminderPolicy()
# Why a reminder (or a queued campaign message) did not go: the person stopped taking part.
WITHDRAWN = "withdrawn"


async def schedule_reminders(
    session: AsyncSession,
    *,
    appointment: Appointment,
    zone: zoneinfo.ZoneInfo,
    policy: ReminderPolicy,
    now: dt.datetime,
) -> list[Reminder]:
    """The reminders of a newly booked appointment (see programme.reminders for when)."""
    reminders = [
        Reminder(
            id=uuid.uuid4(),
            appointment_id=appointment.id,
            kind=BEFORE,
            offset_minutes=minutes,
            due_at=due,
            status=PENDING,
            created_at=now,
        )
        for minutes, due in due_times(policy, starts_at=appointment.starts_at, zone=zone, now=now)
    ]
    session.add_all(reminders)
    await session.flush()
    return reminders


async def drop_reminders(session: AsyncSession, *, appointment_ids: Sequence[uuid.UUID], reason: str) -> int:
    """Drop the appointments' reminders not sent yet: pending ones, and enqueued ones whose outbox
    row the sender has not taken (those rows are cancelled). Returns how many were dropped."""
    if not appointment_ids:
        return 0
    of = Reminder.appointment_id.in_(appointment_ids)
    pending = await session.execute(
        update(Reminder)
        .where(of, Reminder.status == PENDING)
        .values(status=DROPPED, reason=reason)
        .execution_options(synchronize_session=False)
    )
    dropped: int = pending.rowcount  # type: ignore[attr-defined]
    queued = select(Reminder.outbox_id).where(
        of, Reminder.status == ENQUEUED, Reminder.outbox_id.is_not(None)
    )
    outbox_ids = (await session.execute(queued)).scalars().all()
    if outbox_ids:
        cancelled = (
            (
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.status == Status.PENDING)
                    .values(status=Status.CANCELLED, error=f"reminder {reason}")
                    .returning(OutboxMessage.id)
                    .execution_options(synchronize_session=False)
                )
            )
            .scalars()
            .all()
        )
        if cancelled:
            await session.execute(
                update(Reminder)
                .where(Reminder.outbox_id.in_(cancelled))
                .values(status=DROPPED, reason=reason)
                .execution_options(synchronize_session=False)
            )
            dropped += len(cancelled)
    return dropped


async def drop_unsent_reminders(session: AsyncSession, dropped: Sequence[tuple[uuid.UUID, str]]) -> None:
    """Reminders the sender took out of the outbox unsent, with why: (reminder id, reason)."""
    for reason in {reason for _, reason in dropped}:
        await session.execute(
            update(Reminder)
            .where(Reminder.id.in_([reminder_id for reminder_id, why in dropped if why == reason]))
            .values(status=DROPPED, reason=reason)
            .execution_options(synchronize_session=False)
        )


async def drop_case_reminders(session: AsyncSession, *, case_id: uuid.UUID, reason: str) -> int:
    ids = (
        (await session.execute(select(Appointment.id).where(Appointment.case_id == case_id))).scalars().all()
    )
    return await drop_reminders(session, appointment_ids=ids, reason=reason)


async def add_no_show_follow_ups(session: AsyncSession, *, now: dt.datetime) -> int:
    """One follow-up per appointment marked no-show in the last NO_SHOW_WINDOW, due now; the unique
    key (appointment, kind, offset) makes a second one impossible on every engine."""
    missing = ~exists().where(Reminder.appointment_id == Appointment.id, Reminder.kind == NO_SHOW)
    ids = (
        (
            await session.execute(
                select(Appointment.id).where(
                    Appointment.status == "no_show",
                    Appointment.starts_at >= now - NO_SHOW_WINDOW,
                    Appointment.starts_at <= now,
                    missing,
                )
            )
        )
        .scalars()
        .all()
    )
    added = 0
    for appointment_id in ids:
        statement = (
            dialect_insert(session, Reminder)
            .values(
                id=uuid.uuid4(),
                appointment_id=appointment_id,
                kind=NO_SHOW,
                offset_minutes=0,
                due_at=now,
                status=PENDING,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(Reminder.id)
        )
        if (await session.execute(statement)).scalar_one_or_none() is not None:
            added += 1
    return added


async def due_reminders(
    session: AsyncSession, *, now: dt.datetime, limit: int
) -> list[tuple[Reminder, Appointment | None, Case | None, Beneficiary | None]]:
    """Pending reminders due by `now`, earliest first, with their appointment, case and person."""
    statement = (
        select(Reminder)
        .where(Reminder.status == PENDING, Reminder.due_at <= now)
        .order_by(Reminder.due_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    reminders = (await session.execute(statement)).scalars().all()
    if not reminders:
        return []
    rows = await session.execute(
        select(Appointment, Case, Beneficiary)
        .join(Case, Case.id == Appointment.case_id)
        .join(Beneficiary, Beneficiary.id == Case.beneficiary_id)
        .where(Appointment.id.in_({reminder.appointment_id for reminder in reminders}))
    )
    found = {appointment.id: (appointment, case, person) for appointment, case, person in rows.unique()}
    return [(reminder, *found.get(reminder.appointment_id, (None, None, None))) for reminder in reminders]


async def has_upcoming_booking(session: AsyncSession, *, case_id: uuid.UUID, now: dt.datetime) -> bool:
    statement = select(
        exists().where(
            Appointment.case_id == case_id, Appointment.status == "booked", Appointment.starts_at > now
        )
    )
    return bool((await session.execute(statement)).scalar())


async def reminder_by_token(
    session: AsyncSession, *, token: str, beneficiary_id: uuid.UUID
) -> tuple[Reminder, Appointment] | None:
    """The reminder whose buttons carry `token`, only when it was sent to this person."""
    statement = (
        select(Reminder, Appointment)
        .join(Appointment, Appointment.id == Reminder.appointment_id)
        .join(Case, Case.id == Appointment.case_id)
        .where(Reminder.tap_token == token, Case.beneficiary_id == beneficiary_id)
    )
    row = (await session.execute(statement)).unique().one_or_none()
    return (row[0], row[1]) if row is not None else None


async def confirmations(
    session: AsyncSession, *, appointment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dt.datetime]:
    """When the person confirmed each appointment with a reminder's button (the first time)."""
    if not appointment_ids:
        return {}
    statement = (
        select(Reminder.appointment_id, Reminder.answered_at)
        .where(Reminder.appointment_id.in_(appointment_ids), Reminder.answer == CONFIRMED)
        .order_by(Reminder.answered_at.desc())
    )
    return {appointment_id: at for appointment_id, at in (await session.execute(statement)).all()}
