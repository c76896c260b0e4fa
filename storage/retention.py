"""The retention purge and legal holds: what the policy says was kept long enough, found and erased
in short batches (each its own transaction), never a held case; and what is due soon, for supervisors.

Every step takes `now` from its caller (the worker's clock), so a test moves time instead of
waiting. The purge is resumable by construction: each batch finds what is still due and removes it,
so a run that stops half-way leaves nothing half-done and the next run carries on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import (
    Select,
    Uuid,
    and_,
    bindparam,
    delete,
    literal,
    not_,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from programme.cycle import Stage
from programme.retention import BEFORE_ENROLMENT, RetentionPolicy
from storage import person_keys
from storage.crypto import Crypto
from storage.engine import checkpoint
from storage.erasure import erase_people
from storage.inbound import MAX_ATTEMPTS
from storage.models import AuditEntry, Beneficiary, Case, ProcessedUpdate, UTCDateTime
from storage.models_casework import CaseClosure
from storage.models_erasure import RETENTION
from storage.models_feedback import Feedback, FeedbackNote
from storage.models_figures import FullExport
from storage.models_journey import CaseMessage
from storage.models_retention import LegalHold
from storage.models_webhook import InboundUpdate
from storage.queries import record_audit
from storage.sealing import seal_value

ACTOR = "retention"
# Each transaction stays short enough that the bot, which shares SQLite's one write lock (and, in
# one process, the CPU), waits for it no longer than for a busy moment (about 15 ms). The simple
# steps delete ROW_BATCH rows a transaction (1,000 took up to 19 ms at the 90th percentile). A
# people rule walks its candidates in time order through an index, PEOPLE_SCAN at a time (a read
# costs the same however many there are, and none is looked at twice in a run), then erases them
# PEOPLE_CHUNK a transaction, each checked again in it: one statement a table for all of them (the
# statements cost the time, not the rows). Measured beside the paced bot with `make bench`
# (bench.purge).
ROW_BATCH = 250
PEOPLE_SCAN = 200
PEOPLE_CHUNK = 8
# Files sent in the chat (bot.dialogs.handoff.message_body); a location is not a file.
FILE_KINDS = ("photo", "document", "voice", "video", "audio", "video_note")
# What a file's message holds after its period: no file id, no name, no caption.
REMOVED_BODY = json.dumps({"removed": RETENTION})

_CLOSED = Stage.CLOSED.value
_BEFORE = sorted(stage.value for stage in BEFORE_ENROLMENT)


# Held: any case of the person is on legal hold.
def _held(beneficiary_id: object) -> object:
    held_case = aliased(Case)
    return (
        select(LegalHold.id)
        .join(held_case, held_case.id == LegalHold.case_id)
        .where(held_case.beneficiary_id == beneficiary_id)
        .exists()
    )


def closed_people(*, cutoff: Any, limit: int | None = None, among: Any = None) -> Select[tuple[uuid.UUID]]:
    """People all of whose cases are closed, the last closing before `cutoff`, and none on hold. A
    case marked closed without a closing record (none is made so) keeps its person: when it closed
    is not known. With `among`: only those of these people, each known to have a case closed
    before the cutoff (the purge's chunk)."""
    other = aliased(Case)
    other_closing = aliased(CaseClosure)

    def still_open_or_recent(beneficiary_id: Any) -> Any:
        return (
            select(other.id)
            .outerjoin(
                other_closing, and_(other_closing.case_id == other.id, other_closing.reopened_at.is_(None))
            )
            .where(
                other.beneficiary_id == beneficiary_id,
                or_(other.stage != _CLOSED, other_closing.closed_at >= cutoff, other_closing.id.is_(None)),
            )
            .exists()
        )

    if among is not None:
        # The purge's chunk: a few people looked up by id, each with a case closed past the period.
        return select(Beneficiary.id).where(
            Beneficiary.id.in_(among), ~still_open_or_recent(Beneficiary.id), ~_held(Beneficiary.id)
        )
    return (
        select(Case.beneficiary_id)
        .join(CaseClosure, CaseClosure.case_id == Case.id)
        .where(
            Case.stage == _CLOSED,
            CaseClosure.reopened_at.is_(None),
            CaseClosure.closed_at < cutoff,
            ~still_open_or_recent(Case.beneficiary_id),
            ~_held(Case.beneficiary_id),
        )
        .distinct()
        .limit(limit)
    )


def unenrolled_people(
    *, cutoff: Any, limit: int | None = None, among: Any = None
) -> Select[tuple[uuid.UUID]]:
    """People the programme never enrolled (programme.retention.ENROLLED_STAGES: none of their cases
    reached the initial needs assessment, nor was closed from it or later) with no contact since
    `cutoff`: no update from them (last_active_at) and no change to any case of theirs (a
    caseworker's work counts as contact). Someone who started the bot and never finished the
    screening is among them: kept no longer than someone screened. None of their cases on hold.
    Only people of `among`, if given."""
    closing = aliased(CaseClosure)
    closed_before_enrolment = (
        select(closing.id)
        .where(
            closing.case_id == Case.id,
            closing.reopened_at.is_(None),
            closing.stage_before.in_(_BEFORE),
        )
        .exists()
    )
    not_enrolled = or_(Case.stage.in_(_BEFORE), and_(Case.stage == _CLOSED, closed_before_enrolment))
    kept = (
        select(Case.id)
        .where(Case.beneficiary_id == Beneficiary.id, or_(not_(not_enrolled), Case.updated_at >= cutoff))
        .exists()
    )
    statement = select(Beneficiary.id).where(
        Beneficiary.last_active_at < cutoff, ~kept, ~_held(Beneficiary.id)
    )
    return statement.limit(limit) if among is None else statement.where(Beneficiary.id.in_(among))


# Where a rule's walk through its candidates has got to: the (time, id) of the last one looked at.
Cursor = tuple[dt.datetime, uuid.UUID]


@dataclass(frozen=True)
class Window:
    """The next candidates of a people rule, in its order: the people (each once), where the next
    window starts, and whether there may be more."""

    people: list[uuid.UUID]
    after: Cursor | None
    more: bool


def _past(time: Any, key: Any, cursor: Cursor | None) -> Any:
    """Rows after the cursor in (time, id) order, as one row-value comparison an index serves."""
    if cursor is None:
        return true()
    at, row = cursor
    return tuple_(time, key) > tuple_(literal(at, UTCDateTime()), literal(row, Uuid()))


async def _window(session: AsyncSession, statement: Select[Any], scan: int) -> Window:
    rows = list(await session.execute(statement))
    people = list(dict.fromkeys(row[2] for row in rows))
    after = (rows[-1][0], rows[-1][1]) if rows else None
    return Window(people, after, more=len(rows) == scan)


async def closed_window(
    session: AsyncSession, *, policy: RetentionPolicy, now: dt.datetime, after: Cursor | None, scan: int
) -> Window:
    """The people of the next `scan` closings past their period, oldest first from `after`. No
    condition on the case here: the walk follows the closings' index (closed_people checks the
    rest, and knows a reopened case is not closed)."""
    statement = (
        select(CaseClosure.closed_at, CaseClosure.id, Case.beneficiary_id)
        .join(Case, Case.id == CaseClosure.case_id)
        .where(
            CaseClosure.closed_at < now - policy.closed,
            CaseClosure.reopened_at.is_(None),
            _past(CaseClosure.closed_at, CaseClosure.id, after),
        )
        .order_by(CaseClosure.closed_at, CaseClosure.id)
        .limit(scan)
    )
    return await _window(session, statement, scan)


async def unenrolled_window(
    session: AsyncSession, *, policy: RetentionPolicy, now: dt.datetime, after: Cursor | None, scan: int
) -> Window:
    """The next `scan` people out of contact past the period, longest first from `after`."""
    statement = (
        select(Beneficiary.last_active_at, Beneficiary.id, Beneficiary.id)
        .where(
            Beneficiary.last_active_at < now - policy.unenrolled,
            _past(Beneficiary.last_active_at, Beneficiary.id, after),
        )
        .order_by(Beneficiary.last_active_at, Beneficiary.id)
        .limit(scan)
    )
    return await _window(session, statement, scan)


@dataclass(frozen=True)
class Rule:
    """A people rule of the policy: where its walk through candidates goes next, and who of a
    chunk of them qualifies at a cutoff (built once, run with the chunk and the cutoff)."""

    name: str
    walk: Callable[..., Awaitable[Window]]
    period: Callable[[RetentionPolicy], dt.timedelta]
    qualifying: Select[tuple[uuid.UUID]]


def _qualifying(people: Callable[..., Select[tuple[uuid.UUID]]]) -> Select[tuple[uuid.UUID]]:
    cutoff = bindparam("cutoff", type_=UTCDateTime())
    return people(cutoff=cutoff, among=bindparam("among", expanding=True))


RULES = (
    Rule("closed", closed_window, lambda policy: policy.closed, _qualifying(closed_people)),
    Rule("unenrolled", unenrolled_window, lambda policy: policy.unenrolled, _qualifying(unenrolled_people)),
)


async def erase_some(
    session: AsyncSession, *, rule: Rule, people: list[uuid.UUID], policy: RetentionPolicy, now: dt.datetime
) -> int:
    """Of these people (a few), erase those the rule selects now, all in one go; how many."""
    parameters = {"cutoff": now - rule.period(policy), "among": people}
    due = set((await session.execute(rule.qualifying, parameters)).scalars())
    chosen = [person for person in people if person in due]
    await erase_people(session, None, beneficiary_ids=chosen, reason=RETENTION, actor=ACTOR)
    return len(chosen)


async def remove_attachments(
    session: AsyncSession,
    crypto: Crypto,
    *,
    policy: RetentionPolicy,
    now: dt.datetime,
    limit: int = ROW_BATCH,
) -> int:
    """One batch: the content of files sent in the chat longer ago than `policy.attachments`
    (Telegram file ids, file names, captions) replaced by a sealed stub; the message row and its
    time stay, marked removed, so the conversation still reads. Held cases keep theirs."""
    held = select(LegalHold.id).where(LegalHold.case_id == CaseMessage.case_id).exists()
    statement = (
        select(CaseMessage.id, Case.beneficiary_id)
        .join(Case, Case.id == CaseMessage.case_id)
        .where(
            CaseMessage.kind.in_(FILE_KINDS),
            CaseMessage.removed_at.is_(None),
            CaseMessage.created_at < now - policy.attachments,
            ~held,
        )
        .limit(limit)
    )
    found = (await session.execute(statement)).all()
    if not found:
        return 0
    await person_keys.load(session, crypto, {owner for _, owner in found})
    table = CaseMessage.__table__
    stub = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(body_enc=bindparam("stub"), removed_at=bindparam("at"))
    )
    connection = await session.connection()
    await connection.execute(
        stub,
        [
            {
                "row_id": row_id,
                "stub": seal_value(crypto, table.name, "body_enc", row_id, REMOVED_BODY, owner=owner),
                "at": now,
            }
            for row_id, owner in found
        ],
    )
    return len(found)


async def _delete_rows(session: AsyncSession, table: Any, key: Any, chosen: Select[Any]) -> int:
    """Delete the rows `chosen` selects by `key`: a bounded DELETE on both engines (neither
    SQLite, as built by default, nor PostgreSQL has DELETE … LIMIT)."""
    result = await session.execute(delete(table).where(key.in_(chosen)))
    return int(getattr(result, "rowcount", 0) or 0)


async def forget_processed_updates(
    session: AsyncSession, *, policy: RetentionPolicy, now: dt.datetime, limit: int = ROW_BATCH
) -> int:
    """One batch of processed-update marks older than `policy.updates`: Telegram redelivers for a
    day at most, so an older mark no longer keeps anything out."""
    key = tuple_(ProcessedUpdate.bot_id, ProcessedUpdate.update_id)
    chosen = (
        select(ProcessedUpdate.bot_id, ProcessedUpdate.update_id)
        .where(ProcessedUpdate.processed_at < now - policy.updates)
        .limit(limit)
    )
    return await _delete_rows(session, ProcessedUpdate, key, chosen)


async def forget_given_up_updates(
    session: AsyncSession, *, policy: RetentionPolicy, now: dt.datetime, limit: int = ROW_BATCH
) -> int:
    """One batch of webhook queue rows older than `policy.updates` that the consumer gave up on
    (taken more than MAX_ATTEMPTS times) and nobody holds now. A handled update's row is deleted
    when it is handled; one still waiting its turn, however old, is never touched."""
    chosen = (
        select(InboundUpdate.id)
        .where(
            InboundUpdate.received_at < now - policy.updates,
            InboundUpdate.attempts > MAX_ATTEMPTS,
            or_(InboundUpdate.lease_until.is_(None), InboundUpdate.lease_until < now),
        )
        .limit(limit)
    )
    return await _delete_rows(session, InboundUpdate, InboundUpdate.id, chosen)


async def delete_expired_exports(session: AsyncSession, *, now: dt.datetime, limit: int = ROW_BATCH) -> int:
    """One batch of full-export archives past their expiry; the archive is the row's own column,
    so it goes with the row."""
    chosen = select(FullExport.id).where(FullExport.expires_at <= now).limit(limit)
    return await _delete_rows(session, FullExport, FullExport.id, chosen)


async def forget_old_audit(
    session: AsyncSession, *, policy: RetentionPolicy, now: dt.datetime, limit: int = ROW_BATCH
) -> int:
    """One batch of audit entries older than `policy.audit`."""
    chosen = select(AuditEntry.id).where(AuditEntry.at < now - policy.audit).limit(limit)
    return await _delete_rows(session, AuditEntry, AuditEntry.id, chosen)


async def forget_closed_feedback(
    session: AsyncSession, *, policy: RetentionPolicy, now: dt.datetime, limit: int = ROW_BATCH
) -> int:
    """One batch of feedback closed longer ago than `policy.feedback_kept`, with its notes: the
    only erasure anonymous feedback ever gets (nothing leads from a person to it)."""
    chosen = (
        (
            await session.execute(
                select(Feedback.id).where(Feedback.closed_at < now - policy.feedback_kept).limit(limit)
            )
        )
        .scalars()
        .all()
    )
    if not chosen:
        return 0
    await session.execute(delete(FeedbackNote).where(FeedbackNote.feedback_id.in_(chosen)))
    return await _delete_rows(
        session, Feedback, Feedback.id, select(Feedback.id).where(Feedback.id.in_(chosen))
    )


@dataclass
class PurgeReport:
    """What one run removed, counts only (this is what the worker logs and audits)."""

    closed: int = 0
    unenrolled: int = 0
    attachments: int = 0
    processed_updates: int = 0
    inbound_updates: int = 0
    exports: int = 0
    audit: int = 0
    feedback: int = 0
    batches: int = field(default=0, compare=False)
    # The longest of its transactions: what the bot may have waited for, at worst.
    longest_ms: float = field(default=0.0, compare=False)

    def counts(self) -> dict[str, int]:
        return {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("batches", "longest_ms")
        }


Step = Callable[[AsyncSession], Awaitable[int]]


async def purge(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    *,
    policy: RetentionPolicy,
    now: dt.datetime,
    scan: int = PEOPLE_SCAN,
    chunk: int = PEOPLE_CHUNK,
    row_batch: int = ROW_BATCH,
    rest: float = 0.0,
    pause: float = 0.0,
    max_batches: int | None = None,
) -> PurgeReport:
    """Everything the policy says is due at `now`, each batch its own transaction. After each batch
    it rests `rest` times as long as the batch took (at least `pause` seconds): the bot shares the
    process's CPU and, on SQLite, the write lock. `max_batches` stops a run early (a test's
    interrupted run); the next run resumes where it stopped."""
    report = PurgeReport()

    def stopped() -> bool:
        return max_batches is not None and report.batches >= max_batches

    async def batch(step: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        started = time.monotonic()
        async with sessionmaker() as session, session.begin():
            if session.bind.dialect.name == "postgresql":
                # A batch lost in a crash is simply done again by the next run: it need not wait
                # for its own flush to disk, nor make the bot's commits queue behind that flush.
                await session.execute(text("SET LOCAL synchronous_commit TO OFF"))
            result = await step(session)
        report.batches += 1
        report.longest_ms = max(report.longest_ms, (time.monotonic() - started) * 1000)
        # The log the batch wrote, copied into the file now, off the event loop.
        await checkpoint(session.bind)
        # Whoever waits for the write lock (the bot) goes before the next batch.
        await asyncio.sleep(max(pause, rest * (time.monotonic() - started)))
        return result

    for rule in RULES:
        cursor: Cursor | None = None
        while not stopped():
            window: Window = await batch(
                lambda s, walk=rule.walk, after=cursor: walk(
                    s, policy=policy, now=now, after=after, scan=scan
                )
            )
            pending = window.people
            while pending and not stopped():
                # A few people a transaction, each checked again in it: the window was read before.
                some, pending = pending[:chunk], pending[chunk:]
                erased = await batch(
                    lambda s, rule=rule, some=some: erase_some(
                        s, rule=rule, people=some, policy=policy, now=now
                    )
                )
                setattr(report, rule.name, getattr(report, rule.name) + erased)
            if not window.more:
                break
            cursor = window.after
    rows: Sequence[tuple[str, Step]] = (
        ("attachments", lambda s: remove_attachments(s, crypto, policy=policy, now=now, limit=row_batch)),
        ("processed_updates", lambda s: forget_processed_updates(s, policy=policy, now=now, limit=row_batch)),
        ("inbound_updates", lambda s: forget_given_up_updates(s, policy=policy, now=now, limit=row_batch)),
        ("exports", lambda s: delete_expired_exports(s, now=now, limit=row_batch)),
        ("audit", lambda s: forget_old_audit(s, policy=policy, now=now, limit=row_batch)),
        ("feedback", lambda s: forget_closed_feedback(s, policy=policy, now=now, limit=row_batch)),
    )
    for name, step in rows:
        while not stopped():
            count: int = await batch(step)
            setattr(report, name, getattr(report, name) + count)
            if count < row_batch:
                break
    if any(report.counts().values()):
        async with sessionmaker() as session, session.begin():
            await record_audit(
                session,
                actor=ACTOR,
                action="retention.purged",
                object_type="retention",
                object_id=None,
                details=report.counts(),
            )
    return report


# Legal holds.


class HoldExists(Exception):
    """The case is already on legal hold."""

    def __init__(self, hold: LegalHold) -> None:
        self.hold = hold
        super().__init__("already held")


async def hold_of(session: AsyncSession, *, case_id: uuid.UUID) -> LegalHold | None:
    return (await session.execute(select(LegalHold).where(LegalHold.case_id == case_id))).scalar_one_or_none()


async def place_hold(
    session: AsyncSession,
    crypto: Crypto,
    *,
    case: Case,
    reason: str,
    review_on: dt.date,
    staff_id: int | None,
    actor: str,
    now: dt.datetime,
) -> LegalHold:
    """Put a case on legal hold (HoldExists if it is already); audited with the review date only."""
    existing = await hold_of(session, case_id=case.id)
    if existing is not None:
        raise HoldExists(existing)
    hold = LegalHold(case_id=case.id, review_on=review_on, placed_by=staff_id, placed_at=now)
    hold.reason_enc = seal_value(crypto, LegalHold.__tablename__, "reason_enc", hold.id, reason)
    session.add(hold)
    await session.flush()
    await record_audit(
        session,
        actor=actor,
        action="hold.placed",
        object_type="case",
        object_id=case.code,
        details={"review_on": review_on.isoformat()},
    )
    return hold


async def lift_hold(session: AsyncSession, *, case: Case, actor: str) -> bool:
    """Lift a case's hold; whether there was one. The purge may erase the case from its next run."""
    result = await session.execute(delete(LegalHold).where(LegalHold.case_id == case.id))
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await record_audit(
        session, actor=actor, action="hold.lifted", object_type="case", object_id=case.code, details={}
    )
    return True


@dataclass(frozen=True)
class HeldCase:
    code: str
    stage: str
    review_on: dt.date
    placed_at: dt.datetime


async def held_cases(session: AsyncSession) -> list[HeldCase]:
    """Every case on hold, the review soonest first."""
    statement = (
        select(Case.code, Case.stage, LegalHold.review_on, LegalHold.placed_at)
        .join(LegalHold, LegalHold.case_id == Case.id)
        .order_by(LegalHold.review_on, Case.code)
    )
    return [HeldCase(*row) for row in await session.execute(statement)]


# What the purge will erase soon.


@dataclass(frozen=True)
class DueErasure:
    """A case the purge will erase by `due`: `rule` "closed" (since = its closing) or "unenrolled"
    (since = the person's last contact)."""

    code: str
    stage: str
    rule: str
    since: dt.datetime
    due: dt.datetime


async def due_for_erasure(
    session: AsyncSession,
    *,
    policy: RetentionPolicy,
    now: dt.datetime,
    within: dt.timedelta,
    limit: int = 500,
) -> list[DueErasure]:
    """The cases of the people the purge will erase between now and `now + within` (or at its next
    run, when they are already due), the soonest first; at most `limit` people per rule. A person
    who gets in touch, a case that is reopened or put on hold leaves the list."""
    horizon = now + within
    closed_due = closed_people(cutoff=horizon - policy.closed, limit=limit)
    closed = list((await session.execute(closed_due)).scalars())
    unenrolled_due = unenrolled_people(cutoff=horizon - policy.unenrolled, limit=limit)
    unenrolled = list((await session.execute(unenrolled_due)).scalars())
    people = set(closed) | set(unenrolled)
    if not people:
        return []
    statement = (
        select(Case.beneficiary_id, Case.code, Case.stage, Case.updated_at, CaseClosure.closed_at)
        .outerjoin(CaseClosure, and_(CaseClosure.case_id == Case.id, CaseClosure.reopened_at.is_(None)))
        .where(Case.beneficiary_id.in_(people))
    )
    cases: dict[uuid.UUID, list[tuple[str, str, dt.datetime, dt.datetime | None]]] = {}
    for beneficiary_id, code, stage, updated_at, closed_at in await session.execute(statement):
        cases.setdefault(beneficiary_id, []).append((code, stage, updated_at, closed_at))
    active = dict(
        (
            await session.execute(
                select(Beneficiary.id, Beneficiary.last_active_at).where(Beneficiary.id.in_(people))
            )
        ).all()
    )
    due: list[DueErasure] = []
    for person in people:
        theirs = cases.get(person, [])
        # Whichever rule erases the person first.
        options: list[tuple[dt.datetime, str, dt.datetime]] = []
        if person in closed:
            closing = max(closed_at for *_, closed_at in theirs if closed_at is not None)
            options.append((closing + policy.closed, "closed", closing))
        if person in unenrolled:
            contact = max([active[person], *(updated_at for _, _, updated_at, _ in theirs)])
            options.append((contact + policy.unenrolled, "unenrolled", contact))
        when, rule, since = min(options)
        due.extend(DueErasure(code, stage, rule, since, when) for code, stage, _, _ in theirs)
    due.sort(key=lambda row: (row.due, row.code))
    return due
