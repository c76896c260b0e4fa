"""Feedback and complaints: kept, found by reference, listed for the people who may read them,
answered and closed. Audited by reference only: never a case code, never what was written."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from programme.feedback import Kind, Routing, Status, new_reference, routing_of
from storage import person_keys
from storage.crypto import Crypto
from storage.models import Beneficiary, Case, utcnow
from storage.models_feedback import Feedback, FeedbackNote, SatisfactionPrompt
from storage.queries import record_audit
from storage.sealing import seal_json, unseal_json

ANSWER, ACTION = "answer", "action"


async def add_feedback(
    session: AsyncSession,
    crypto: Crypto,
    *,
    beneficiary: Beneficiary | None,
    kind: Kind,
    language: str | None,
    medium: str,
    body: dict[str, Any],
    urgent: bool,
    answer_due: dt.timedelta,
) -> Feedback:
    """Keep one piece of feedback; `beneficiary` None: anonymous (no link to anyone is stored)."""
    owner = None if beneficiary is None else beneficiary.id
    await person_keys.load(session, crypto, [owner])
    now = utcnow()
    for _attempt in range(5):
        reference = new_reference()
        taken = await session.scalar(select(Feedback.id).where(Feedback.reference == reference))
        if taken is None:
            break
    else:  # pragma: no cover - a hundred million numbers
        raise IntegrityError("no free feedback reference", None, ValueError())
    feedback = Feedback(
        reference=reference,
        kind=kind,
        routing=routing_of(kind),
        language=language,
        medium=medium,
        urgent=urgent,
        status=Status.NEW,
        beneficiary_id=owner,
        created_at=now,
        due_at=now + answer_due,
    )
    seal_json(crypto, feedback, "body_enc", body)
    session.add(feedback)
    await record_audit(
        session,
        actor="bot",
        action="feedback.received",
        object_type="feedback",
        object_id=reference,
        details={"kind": str(kind), "urgent": urgent},
    )
    return feedback


async def find_by_reference(session: AsyncSession, *, reference: str) -> Feedback | None:
    return await session.scalar(select(Feedback).where(Feedback.reference == reference))


def body_of(crypto: Crypto, feedback: Feedback) -> dict[str, Any]:
    body: dict[str, Any] = unseal_json(crypto, feedback, "body_enc")
    return body


async def feedback_for(
    session: AsyncSession, *, routings: Collection[Routing], statuses: Collection[Status] | None = None
) -> Sequence[Feedback]:
    """What the reader may see (the routings their account reads), urgent first, then the oldest due."""
    statement = select(Feedback).where(Feedback.routing.in_([str(routing) for routing in routings]))
    if statuses is not None:
        statement = statement.where(Feedback.status.in_([str(status) for status in statuses]))
    statement = statement.order_by(Feedback.urgent.desc(), Feedback.due_at, Feedback.reference)
    return (await session.execute(statement)).scalars().all()


async def one_feedback(
    session: AsyncSession, *, reference: str, routings: Collection[Routing]
) -> Feedback | None:
    """The feedback with that reference, if the reader's routings include it (None otherwise: it is
    answered as if it did not exist)."""
    feedback = await find_by_reference(session, reference=reference)
    if feedback is None or feedback.routing not in {str(routing) for routing in routings}:
        return None
    return feedback


async def notes_of(
    session: AsyncSession, crypto: Crypto, *, feedback: Feedback
) -> list[tuple[FeedbackNote, str]]:
    statement = (
        select(FeedbackNote).where(FeedbackNote.feedback_id == feedback.id).order_by(FeedbackNote.created_at)
    )
    notes = (await session.execute(statement)).scalars().all()
    return [(note, str(unseal_json(crypto, note, "text_enc"))) for note in notes]


async def latest_answer(session: AsyncSession, crypto: Crypto, *, feedback: Feedback) -> str | None:
    answers = [
        text for note, text in await notes_of(session, crypto, feedback=feedback) if note.kind == ANSWER
    ]
    return answers[-1] if answers else None


async def add_note(
    session: AsyncSession,
    crypto: Crypto,
    *,
    feedback: Feedback,
    kind: str,
    text: str,
    staff_id: int | None,
    actor: str,
) -> FeedbackNote:
    """An answer to the person (the caller queues it for them) or a record of what was done; an
    answer moves the feedback to answered, a record to in progress."""
    await person_keys.load(session, crypto, [feedback.beneficiary_id])
    now = utcnow()
    note = FeedbackNote(
        feedback_id=feedback.id,
        beneficiary_id=feedback.beneficiary_id,
        kind=kind,
        staff_user_id=staff_id,
        created_at=now,
    )
    seal_json(crypto, note, "text_enc", text)
    session.add(note)
    if kind == ANSWER:
        feedback.status = Status.ANSWERED
        if feedback.first_answered_at is None:
            feedback.first_answered_at = now
    elif feedback.status == Status.NEW:
        feedback.status = Status.IN_PROGRESS
    await record_audit(
        session,
        actor=actor,
        action="feedback.answered" if kind == ANSWER else "feedback.action_recorded",
        object_type="feedback",
        object_id=feedback.reference,
        details={},
    )
    return note


async def set_status(
    session: AsyncSession, *, feedback: Feedback, status: Status, staff_id: int | None, actor: str
) -> None:
    """Close it, reopen it, or take it in hand (assigned to whoever did)."""
    feedback.status = status
    feedback.closed_at = utcnow() if status == Status.CLOSED else None
    if status == Status.IN_PROGRESS:
        feedback.assigned_to = staff_id
    await record_audit(
        session,
        actor=actor,
        action="feedback.status",
        object_type="feedback",
        object_id=feedback.reference,
        details={"status": str(status)},
    )


async def assign(session: AsyncSession, *, feedback: Feedback, staff_id: int, actor: str) -> None:
    """Give it to someone (the console checks that they may read it); new feedback is then in hand."""
    feedback.assigned_to = staff_id
    if feedback.status == Status.NEW:
        feedback.status = Status.IN_PROGRESS
    await record_audit(
        session,
        actor=actor,
        action="feedback.assigned",
        object_type="feedback",
        object_id=feedback.reference,
        details={"to": staff_id},
    )


def _overdue(routings: Collection[Routing], now: dt.datetime) -> ColumnElement[bool]:
    """Feedback of `routings` still waiting for its first answer past its due time."""
    return and_(
        Feedback.routing.in_([str(routing) for routing in routings]),
        Feedback.first_answered_at.is_(None),
        Feedback.status.in_([Status.NEW, Status.IN_PROGRESS]),
        Feedback.due_at < now,
    )


async def overdue_count(session: AsyncSession, *, routings: Collection[Routing], now: dt.datetime) -> int:
    """Feedback still waiting for its first answer past its due time."""
    statement = select(func.count()).where(_overdue(routings, now))
    return int(await session.scalar(statement) or 0)


async def overdue_untold(
    session: AsyncSession, *, routings: Collection[Routing], now: dt.datetime, limit: int
) -> Sequence[Row[tuple[uuid.UUID, str]]]:
    """Overdue feedback (as `overdue_count` counts it) its readers were not told of on their phones:
    its id and routing alone, so that nothing sealed (nor its author's key) is read for an alert."""
    statement = (
        select(Feedback.id, Feedback.routing)
        .where(_overdue(routings, now), Feedback.overdue_alerted_at.is_(None))
        .order_by(Feedback.due_at, Feedback.reference)
        .limit(limit)
    )
    return (await session.execute(statement)).all()


async def mark_overdue_told(
    session: AsyncSession, *, feedback_ids: Sequence[uuid.UUID], at: dt.datetime
) -> None:
    if feedback_ids:
        await session.execute(
            update(Feedback)
            .where(Feedback.id.in_(list(feedback_ids)))
            .values(overdue_alerted_at=at)
            .execution_options(synchronize_session=False)
        )


def is_anonymous(feedback: Feedback) -> bool:
    return feedback.beneficiary_id is None


def owner_of(feedback: Feedback) -> uuid.UUID | None:
    return feedback.beneficiary_id


async def case_code_of(session: AsyncSession, *, feedback: Feedback) -> str | None:
    """The open case of the person who gave it with their case (for its readers to follow it up)."""
    if feedback.beneficiary_id is None:
        return None
    return await session.scalar(
        select(Case.code)
        .where(Case.beneficiary_id == feedback.beneficiary_id, Case.stage != "closed")
        .order_by(Case.created_at.desc())
        .limit(1)
    )


async def language_of(session: AsyncSession, *, feedback: Feedback) -> str | None:
    """The language to answer in: the person's now, else the one the feedback was given in."""
    if feedback.beneficiary_id is not None:
        chosen = await session.scalar(
            select(Beneficiary.language).where(Beneficiary.id == feedback.beneficiary_id)
        )
        if chosen:
            return chosen
    return feedback.language


async def note_count(session: AsyncSession, *, feedback: Feedback) -> int:
    return int(await session.scalar(select(func.count()).where(FeedbackNote.feedback_id == feedback.id)) or 0)


FIGURE_GROUPS = ("kind", "language", "channel", "month")


async def counts_by(session: AsyncSession, *, routings: Collection[Routing], group: str) -> dict[str, int]:
    """How many pieces of feedback the reader may see, by kind, language, channel or month received."""
    if group not in FIGURE_GROUPS:
        raise ValueError(group)
    if group == "month":
        if session.get_bind().dialect.name == "postgresql":
            key: Any = func.to_char(func.timezone("UTC", Feedback.created_at), "YYYY-MM")
        else:
            key = func.substr(Feedback.created_at, 1, 7)
    else:
        key = getattr(Feedback, group)
    statement = (
        select(key, func.count())
        .where(Feedback.routing.in_([str(routing) for routing in routings]))
        .group_by(key)
    )
    return {str(value or "—"): int(count) for value, count in (await session.execute(statement)).all()}


async def first_answer_times(session: AsyncSession, *, routings: Collection[Routing]) -> list[dt.timedelta]:
    """How long each answered piece of feedback waited for its first answer."""
    statement = select(Feedback.created_at, Feedback.first_answered_at).where(
        Feedback.routing.in_([str(routing) for routing in routings]), Feedback.first_answered_at.is_not(None)
    )
    return [answered - created for created, answered in (await session.execute(statement)).all()]


async def feedback_of(session: AsyncSession, *, beneficiary_id: uuid.UUID) -> Sequence[Feedback]:
    """What the person gave with their case (for their own copy); anonymous feedback leads nowhere."""
    statement = (
        select(Feedback).where(Feedback.beneficiary_id == beneficiary_id).order_by(Feedback.created_at)
    )
    return (await session.execute(statement)).scalars().all()


RATINGS = ("yes", "partly", "no")


async def ask_satisfaction(session: AsyncSession, *, case: Case) -> tuple[str, str | None] | None:
    """The token and language of the one question asked after `case` closed; None when it was asked
    before (it is never repeated, even if the case is closed again)."""
    asked = await session.scalar(select(SatisfactionPrompt.id).where(SatisfactionPrompt.case_id == case.id))
    if asked is not None:
        return None
    language = await session.scalar(select(Beneficiary.language).where(Beneficiary.id == case.beneficiary_id))
    prompt = SatisfactionPrompt(
        case_id=case.id,
        token=secrets.token_urlsafe(16),
        language=language or case.language,
        asked_at=utcnow(),
    )
    session.add(prompt)
    return prompt.token, prompt.language


async def answer_satisfaction(
    session: AsyncSession, *, token: str, beneficiary_id: uuid.UUID, rating: str
) -> bool:
    """Record the person's answer once; False for an unknown token, someone else's question, a
    value that is not a rating, or a question already answered (a double tap)."""
    if rating not in RATINGS:
        return False
    prompt = await session.scalar(
        select(SatisfactionPrompt)
        .join(Case, Case.id == SatisfactionPrompt.case_id)
        .where(SatisfactionPrompt.token == token, Case.beneficiary_id == beneficiary_id)
    )
    if prompt is None or prompt.answered_at is not None:
        return False
    prompt.rating = rating
    prompt.answered_at = utcnow()
    await record_audit(
        session,
        actor="bot",
        action="satisfaction.answered",
        object_type="satisfaction",
        object_id=None,
        details={},
    )
    return True


async def rating_given(session: AsyncSession, *, token: str, beneficiary_id: uuid.UUID) -> str | None:
    """The rating this person gave to the question with `token`; None when they have not, or the
    question is not theirs."""
    return await session.scalar(
        select(SatisfactionPrompt.rating)
        .join(Case, Case.id == SatisfactionPrompt.case_id)
        .where(SatisfactionPrompt.token == token, Case.beneficiary_id == beneficiary_id)
    )


async def rating_counts(session: AsyncSession) -> dict[str, int]:
    statement = (
        select(SatisfactionPrompt.rating, func.count())
        .where(SatisfactionPrompt.rating.is_not(None))
        .group_by(SatisfactionPrompt.rating)
    )
    counts = {rating: 0 for rating in RATINGS}
    counts.update({str(rating): int(count) for rating, count in (await session.execute(statement)).all()})
    return counts
