"""Query functions of the staff's alerts on their phones: what the bot notes for the worker, each
account's choice, who may get an alert, and the urgent alerts and handoffs the worker looks at."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from programme.staff_alerts import URGENT_KINDS, Choice, Kind, quiet_hours
from storage.models import Case, StaffUser, utcnow
from storage.models_journey import Alert, CaseMessage
from storage.models_staff_alerts import StaffAlertSettings, StaffNotice
from storage.models_staff_link import StaffTelegramLink

CLOSED = "closed"
SUPERVISOR = "supervisor"


def note(session: AsyncSession, *, case: Case, kind: Kind) -> None:
    """Something for the worker to tell staff of, in the transaction that saw it."""
    session.add(StaffNotice(kind=str(kind), case_id=case.id, created_at=utcnow()))


async def note_message(session: AsyncSession, *, case: Case) -> None:
    """A message came in (call before it is added): staff hear of the first one nobody has read yet,
    not of every message that follows it before they open the conversation."""
    unread = (
        select(CaseMessage.id)
        .where(CaseMessage.case_id == case.id, CaseMessage.direction == "in", CaseMessage.read_at.is_(None))
        .limit(1)
    )
    if (await session.execute(unread)).first() is None:
        note(session, case=case, kind=Kind.MESSAGE)


async def pending(session: AsyncSession, *, limit: int) -> Sequence[tuple[StaffNotice, Case]]:
    """The notices waiting for the worker, oldest first, with their case."""
    statement = (
        select(StaffNotice, Case)
        .join(Case, Case.id == StaffNotice.case_id)
        .order_by(StaffNotice.id)
        .limit(limit)
    )
    return [(notice, case) for notice, case in (await session.execute(statement)).all()]


async def done(session: AsyncSession, *, notice_ids: Sequence[int]) -> None:
    if notice_ids:
        await session.execute(delete(StaffNotice).where(StaffNotice.id.in_(list(notice_ids))))


@dataclasses.dataclass(frozen=True)
class Recipient:
    """An active account with a linked chat, and what it chose."""

    staff_user_id: int
    role: str
    language: str
    choice: Choice
    focal_point: bool = False


def _choice(settings: StaffAlertSettings | None) -> Choice:
    if settings is None:
        return Choice()
    return Choice(
        urgent=settings.urgent,
        messages=settings.messages,
        waiting=settings.waiting,
        feedback=settings.feedback,
        quiet=quiet_hours(settings.quiet_from, settings.quiet_until),
    )


async def recipients(
    session: AsyncSession, *, staff_ids: Sequence[int] = (), role: str | None = None, every: bool = False
) -> list[Recipient]:
    """The active accounts with a linked chat among `staff_ids`, or of `role`, or `every` one."""
    statement = (
        select(StaffUser, StaffAlertSettings)
        .join(StaffTelegramLink, StaffTelegramLink.staff_user_id == StaffUser.id)
        .outerjoin(StaffAlertSettings, StaffAlertSettings.staff_user_id == StaffUser.id)
        .where(StaffUser.active.is_(True))
        .order_by(StaffUser.id)
    )
    if role is not None:
        statement = statement.where(StaffUser.role == role)
    elif not every:
        statement = statement.where(StaffUser.id.in_(list(staff_ids)))
    return [
        Recipient(user.id, user.role, user.language, _choice(settings), user.focal_point)
        for user, settings in (await session.execute(statement)).all()
    ]


async def choice_of(session: AsyncSession, *, staff_user_id: int) -> Choice:
    return _choice(await session.get(StaffAlertSettings, staff_user_id))


async def save_choice(
    session: AsyncSession,
    *,
    staff_user_id: int,
    urgent: bool,
    messages: bool,
    waiting: bool,
    feedback: bool,
    quiet_from: str | None,
    quiet_until: str | None,
) -> None:
    settings = await session.get(StaffAlertSettings, staff_user_id)
    if settings is None:
        settings = StaffAlertSettings(staff_user_id=staff_user_id)
        session.add(settings)
    settings.urgent, settings.messages, settings.waiting = urgent, messages, waiting
    settings.feedback = feedback
    settings.quiet_from, settings.quiet_until = quiet_from, quiet_until
    settings.updated_at = utcnow()
    await session.flush()


async def to_escalate(
    session: AsyncSession, *, now: dt.datetime, after: dt.timedelta, limit: int
) -> Sequence[tuple[Alert, Case]]:
    """Urgent alerts nobody opened or acknowledged within `after`, not escalated yet."""
    statement = (
        select(Alert, Case)
        .join(Case, Case.id == Alert.case_id)
        .where(
            Alert.kind.in_([str(kind) for kind in URGENT_KINDS]),
            Alert.opened_at.is_(None),
            Alert.acknowledged_at.is_(None),
            Alert.escalated_at.is_(None),
            Alert.created_at <= now - after,
        )
        .order_by(Alert.created_at, Alert.id)
        .limit(limit)
    )
    return [(alert, case) for alert, case in (await session.execute(statement)).all()]


async def waiting(
    session: AsyncSession, *, now: dt.datetime, after: dt.timedelta, limit: int
) -> Sequence[Case]:
    """Open unassigned cases handed off longer than `after` ago whose supervisors were not told yet."""
    statement = (
        select(Case)
        .where(
            Case.assigned_to.is_(None),
            Case.stage != CLOSED,
            Case.handoff_at.is_not(None),
            Case.handoff_at <= now - after,
            or_(Case.waiting_alerted_at.is_(None), Case.waiting_alerted_at < Case.handoff_at),
        )
        .order_by(Case.handoff_at, Case.code)
        .limit(limit)
    )
    return (await session.execute(statement)).scalars().all()


async def mark_waiting_alerted(
    session: AsyncSession, *, case_ids: Sequence[uuid.UUID], at: dt.datetime
) -> None:
    """Written without the case's version or update time moving: no page open on it turns stale."""
    if case_ids:
        await session.execute(
            update(Case)
            .where(Case.id.in_(list(case_ids)))
            .values(waiting_alerted_at=at, updated_at=Case.updated_at)
            .execution_options(synchronize_session=False)
        )


async def mark_opened(
    session: AsyncSession, *, case_id: uuid.UUID, staff_id: int, at: dt.datetime
) -> list[int]:
    """The case's alerts nobody had opened yet are opened now; their ids."""
    statement = select(Alert.id).where(
        and_(Alert.case_id == case_id, Alert.opened_at.is_(None), Alert.acknowledged_at.is_(None))
    )
    ids = list((await session.execute(statement)).scalars())
    if ids:
        await session.execute(
            update(Alert)
            .where(Alert.id.in_(ids))
            .values(opened_at=at, opened_by=staff_id)
            .execution_options(synchronize_session=False)
        )
    return ids


async def case_alerts(
    session: AsyncSession, *, case_id: uuid.UUID
) -> Sequence[tuple[Alert, CaseMessage | None]]:
    """Every alert of a case, newest first, with the message that raised it (sealed, as stored)."""
    statement = (
        select(Alert, CaseMessage)
        .outerjoin(CaseMessage, CaseMessage.id == Alert.message_id)
        .where(Alert.case_id == case_id)
        .order_by(Alert.created_at.desc(), Alert.id.desc())
    )
    return [(alert, message) for alert, message in (await session.execute(statement)).all()]
