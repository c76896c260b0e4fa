"""Erasing a person: every row about them in every table, in one transaction, leaving tombstones.

`COVERAGE` names every table of the schema and what erasure does with it; a test walks the
metadata and fails when a table that can hold someone's data is missing from it, so a table added
later cannot be forgotten here. Tables reached by a foreign key are deleted explicitly, children
first (ON DELETE CASCADE stays as a second line); the others are found by the person's keyed hashes
(webhook queue, link failures) or by time (full-export archives made while they were on file).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Delete, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import erasure_ledger, ops, person_keys
from storage.crypto import Crypto
from storage.engine import clear_erased
from storage.inbound import CHAT_PURPOSE
from storage.models import AuditEntry, Beneficiary, Case, utcnow
from storage.models_casework import CaseClosure
from storage.models_erasure import CaseTombstone
from storage.models_figures import FullExport
from storage.models_journey import DataRequest
from storage.models_staff_link import STAFF_CHAT_PURPOSE
from storage.queries import record_audit
from storage.schema import Base  # every table is known before the registry below is built
from storage.sealing import seal, unseal

# Set on the session that erased someone: whoever commits it then clears logs that may hold them.
ERASED = "erased"
DELETION = "deletion"
OPEN, REFUSED = "open", "refused"


class Cover(enum.Enum):
    ERASED = "erased"  # every row about the person is deleted
    NOT_PERSONAL = "not personal"  # holds nothing about any beneficiary
    KEPT = "kept"  # kept on purpose; the reason says why that is safe


@dataclass(frozen=True)
class Coverage:
    cover: Cover
    why: str


def _erased(why: str) -> Coverage:
    return Coverage(Cover.ERASED, why)


def _kept(why: str) -> Coverage:
    return Coverage(Cover.KEPT, why)


def _not_personal(why: str) -> Coverage:
    return Coverage(Cover.NOT_PERSONAL, why)


COVERAGE: dict[str, Coverage] = {
    "person_keys": _erased("their data key, first: any copy of their values left elsewhere stays sealed"),
    "beneficiaries": _erased("the person"),
    "cases": _erased("their cases"),
    "form_responses": _erased("their answers"),
    "case_messages": _erased("their conversation"),
    "consents": _erased("their consent records"),
    "data_requests": _erased("their requests, this one included"),
    "alerts": _erased("alerts about their cases"),
    "staff_notices": _erased("alerts about their cases the worker has yet to send to staff phones"),
    "feedback": _erased(
        "feedback they gave with their case; anonymous feedback holds no link to anyone, so no "
        "erasure reaches it: it is erased INTAKE_RETAIN_FEEDBACK_DAYS after it is closed "
        "(storage.feedback.purge_closed), kept that long so a complaint can be followed up"
    ),
    "satisfaction_prompts": _erased("the question asked after their case closed, and their answer"),
    "feedback_notes": _erased(
        "answers to their feedback and what staff did; those of anonymous feedback go with it"
    ),
    "case_closures": _erased("closings of their cases (the tombstone keeps the date)"),
    "legal_holds": _erased("holds on their cases (a hold keeps the purge away, not a supervisor's erasure)"),
    "appointments": _erased("their appointments"),
    "slot_bookings": _erased("the seats their appointments held"),
    "appointment_proposals": _erased("times proposed to them"),
    "reminders": _erased("reminders of their appointments"),
    "plan_needs": _erased("their plan"),
    "plan_goals": _erased("their plan"),
    "plan_activities": _erased("their plan"),
    "plan_reviews": _erased("their plan"),
    "referrals": _erased("their referrals"),
    "outbox": _erased("messages to them, sent or not"),
    "dialog_states": _erased("their place in the bot's dialogs"),
    "inbound_updates": _erased("webhook updates of their chat, found by its keyed hash"),
    "staff_link_failures": _erased("failed link codes typed in their chat, found by its keyed hash"),
    "full_exports": _erased("named export archives made while they were on file: they may hold them"),
    "case_tombstones": _kept("codes and dates of erased cases, nothing that identifies the person"),
    "audit_log": _kept("who did what to which case code; codes only, never personal data"),
    "processed_updates": _kept(
        "only the bot's id and Telegram's update id, nothing that leads to a chat; "
        "removed after a few days by the retention purge"
    ),
    "campaigns": _kept(
        "notices to many people; `expanded_through` may hold a random row id that leads nowhere "
        "once the row is gone"
    ),
    "staff_telegram_links": _kept("staff members' own chats, not beneficiaries'; removed with the link"),
    "ops_markers": _kept(
        "the sender's heartbeat (host and process id) and the data keys' check row (a fixed text): "
        "nothing about any person"
    ),
    "case_counters": _not_personal("the yearly sequence of case codes"),
    "offices": _not_personal("the programme's offices: hours, holidays and closures, nothing about a person"),
    "partners": _not_personal("partner organisations"),
    "organisation_settings": _not_personal("the organisation's name, data contact and hours"),
    "ready_replies": _not_personal("replies for anyone, written by supervisors"),
    "channels": _not_personal("outreach channels"),
    "calendar_feeds": _not_personal(
        "a staff member's feed token hash; the feed's events are read from appointments when fetched"
    ),
    "staff_users": _not_personal("console accounts"),
    "staff_sessions": _not_personal("console sessions"),
    "staff_link_codes": _not_personal("one-time codes of console accounts"),
    "staff_alert_settings": _not_personal("which alerts console accounts chose, and their quiet hours"),
}


@dataclass(frozen=True)
class People:
    """What finds the rows of the people being erased: their ids, when the first of them came on
    file, and the keyed hashes of their chats."""

    ids: list[uuid.UUID]
    since: dt.datetime
    inbound_hashes: list[str]
    staff_chat_hashes: list[str]

    def parameters(self) -> dict[str, Any]:
        return {
            "people": self.ids,
            "since": self.since,
            "inbound_hashes": self.inbound_hashes,
            "staff_chat_hashes": self.staff_chat_hashes,
        }


def _table(name: str) -> Any:
    return Base.metadata.tables[name]


# Every statement below is built once and run with the People's parameters: a purge erases tens of
# thousands, and building a statement costs more than running it.
def _people() -> Any:
    return bindparam("people", expanding=True)


_CASES = select(Case.id).where(Case.beneficiary_id.in_(_people()))


def _by_case(name: str) -> Delete:
    table = _table(name)
    return delete(table).where(table.c.case_id.in_(_CASES))


def _by_appointment(name: str) -> Delete:
    table, appointments = _table(name), _table("appointments")
    return delete(table).where(
        table.c.appointment_id.in_(select(appointments.c.id).where(appointments.c.case_id.in_(_CASES)))
    )


def _by_beneficiary(name: str, column: str = "beneficiary_id") -> Delete:
    table = _table(name)
    return delete(table).where(table.c[column].in_(_people()))


def _by_hash(name: str, hashes: str) -> Delete:
    table = _table(name)
    return delete(table).where(table.c.chat_hash.in_(bindparam(hashes, expanding=True)))


def _exports_since() -> Delete:
    table = _table("full_exports")
    return delete(table).where(table.c.created_at >= bindparam("since", type_=table.c.created_at.type))


# Children before their parents, so no delete waits on a cascade.
ERASURE: tuple[tuple[str, Delete], ...] = (
    # Their key first: once it is gone, every copy of their values (a backup, a dead tuple, a log
    # segment) is unreadable, whatever becomes of the deletes below.
    ("person_keys", _by_beneficiary("person_keys", "id")),
    ("reminders", _by_appointment("reminders")),
    ("slot_bookings", _by_appointment("slot_bookings")),
    ("appointment_proposals", _by_case("appointment_proposals")),
    ("referrals", _by_case("referrals")),
    ("plan_reviews", _by_case("plan_reviews")),
    ("plan_activities", _by_case("plan_activities")),
    ("plan_goals", _by_case("plan_goals")),
    ("plan_needs", _by_case("plan_needs")),
    ("appointments", _by_case("appointments")),
    ("alerts", _by_case("alerts")),
    ("staff_notices", _by_case("staff_notices")),
    ("satisfaction_prompts", _by_case("satisfaction_prompts")),
    ("case_closures", _by_case("case_closures")),
    ("legal_holds", _by_case("legal_holds")),
    ("case_messages", _by_case("case_messages")),
    ("consents", _by_case("consents")),
    ("form_responses", _by_case("form_responses")),
    ("data_requests", _by_beneficiary("data_requests")),
    ("feedback_notes", _by_beneficiary("feedback_notes")),
    ("feedback", _by_beneficiary("feedback")),
    ("outbox", _by_beneficiary("outbox")),
    ("dialog_states", _by_beneficiary("dialog_states", "id")),
    ("cases", _by_beneficiary("cases")),
    ("beneficiaries", _by_beneficiary("beneficiaries", "id")),
    ("inbound_updates", _by_hash("inbound_updates", "inbound_hashes")),
    ("staff_link_failures", _by_hash("staff_link_failures", "staff_chat_hashes")),
    ("full_exports", _exports_since()),
)
# Found by their chats' hashes: nothing to do without them (no key given, or no chat known).
_BY_HASH = {"inbound_updates": "inbound_hashes", "staff_link_failures": "staff_chat_hashes"}


def telegram_id_of(crypto: Crypto, beneficiary: Beneficiary) -> int:
    return int(unseal(crypto, beneficiary, "telegram_id_enc") or 0)


async def erase_person(
    session: AsyncSession,
    crypto: Crypto | None,
    *,
    beneficiary_id: uuid.UUID,
    reason: str,
    actor: str,
) -> list[str]:
    """Delete every row about the person and leave a tombstone per case; returns the case codes
    (none if they are not on file). See `erase_people`."""
    return await erase_people(session, crypto, beneficiary_ids=[beneficiary_id], reason=reason, actor=actor)


async def erase_people(
    session: AsyncSession,
    crypto: Crypto | None,
    *,
    beneficiary_ids: Sequence[uuid.UUID],
    reason: str,
    actor: str,
) -> list[str]:
    """Delete every row about these people and leave a tombstone per case, in this session's
    transaction, one statement a table for all of them; returns the case codes.

    Without `crypto` their chats' keyed hashes cannot be made, and the webhook queue and link
    failures are left to their own short retention. Rows of erased tables that this session had
    loaded are detached from it: it must not write them afterwards.
    """
    if not beneficiary_ids:
        return []
    await session.flush()  # whatever the caller added (a last message to the chat) is written first
    people = await _find(session, crypto, beneficiary_ids)
    if people is None:
        return []
    now = utcnow()
    cases = (
        await session.execute(
            select(Case.id, Case.code, Case.stage, Case.created_at)
            .where(Case.beneficiary_id.in_(people.ids))
            .order_by(Case.created_at, Case.code)
        )
    ).all()
    made_since = select(FullExport.id).where(FullExport.created_at >= people.since)
    exports = (await session.execute(made_since)).scalars().all()
    closed = await _closed_at(session, [case.id for case in cases if case.stage == "closed"])
    # Erased again after a restore (reapply): a tombstone the restore kept stays as it is.
    codes = [case.code for case in cases]
    kept_codes = select(CaseTombstone.code).where(CaseTombstone.code.in_(codes))
    kept = set((await session.execute(kept_codes)).scalars()) if codes else set()
    session.add_all(
        CaseTombstone(
            code=case.code,
            opened_at=case.created_at,
            closed_at=closed.get(case.id),
            erased_at=now,
            reason=reason,
        )
        for case in cases
        if case.code not in kept
    )
    parameters = people.parameters()
    # Plain statements on the session's connection: the session has nothing to do for them.
    connection = await session.connection()
    for name, statement in ERASURE:
        if name in _BY_HASH and not parameters[_BY_HASH[name]]:
            continue
        await connection.execute(statement, parameters)
    erased_tables = {name for name, _ in ERASURE}
    for loaded in list(session.identity_map.values()):
        if getattr(loaded, "__tablename__", None) in erased_tables:
            session.expunge(loaded)
    session.info[ERASED] = True
    for person in people.ids:
        person_keys.forget(person)
        erasure_ledger.note_erased(session, person, reason)
    for code in codes:
        await record_audit(
            session,
            actor=actor,
            action="beneficiary.erased",
            object_type="case",
            object_id=code,
            details={"reason": reason},
        )
    for export_id in exports:
        await record_audit(
            session,
            actor=actor,
            action="full_export.erased",
            object_type="full_export",
            object_id=str(export_id),
            details={},
        )
    return codes


async def _find(
    session: AsyncSession, crypto: Crypto | None, beneficiary_ids: Sequence[uuid.UUID]
) -> People | None:
    """Those of these people who are on file (None if nobody is), with their chats' hashes when
    `crypto` is given (their chats are then unsealed)."""
    if crypto is None:
        statement = select(Beneficiary.id, Beneficiary.created_at).where(Beneficiary.id.in_(beneficiary_ids))
        found = (await session.execute(statement)).all()
        if not found:
            return None
        return People([row.id for row in found], min(row.created_at for row in found), [], [])
    statement = select(Beneficiary).where(Beneficiary.id.in_(beneficiary_ids))
    beneficiaries = (await session.execute(statement)).scalars().all()
    if not beneficiaries:
        return None
    chats = [str(chat) for chat in (telegram_id_of(crypto, b) for b in beneficiaries) if chat]

    def hashes(purpose: str) -> list[str]:
        # Under every configured key: rows written before a key rotation are found too.
        return [digest for chat in chats for digest in crypto.blind_indexes(purpose, chat)]

    return People(
        ids=[beneficiary.id for beneficiary in beneficiaries],
        since=min(beneficiary.created_at for beneficiary in beneficiaries),
        inbound_hashes=hashes(CHAT_PURPOSE),
        staff_chat_hashes=hashes(STAFF_CHAT_PURPOSE),
    )


async def _closed_at(session: AsyncSession, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, dt.datetime]:
    """When each of these closed cases was closed (its standing closing), in one query."""
    if not case_ids:
        return {}
    statement = (
        select(CaseClosure.case_id, func.max(CaseClosure.closed_at))
        .where(CaseClosure.case_id.in_(case_ids), CaseClosure.reopened_at.is_(None))
        .group_by(CaseClosure.case_id)
    )
    return {case_id: closed_at for case_id, closed_at in (await session.execute(statement)).all()}


async def clear_logs_if_erased(session: AsyncSession) -> None:
    """After the commit of a session that erased someone, no old copy of them stays in the
    database's files (storage.engine.clear_erased): SQLite's write-ahead log is written back and
    emptied; PostgreSQL's `person_keys` is compacted, so their key leaves no dead tuple."""
    if session.info.pop(ERASED, False) and session.bind is not None:
        await clear_erased(session.bind)


async def has_erased_anyone(session: AsyncSession) -> bool:
    """Whether the database shows that someone was erased (a tombstone, an audit entry)."""
    tombstone = (await session.execute(select(CaseTombstone.code).limit(1))).first()
    if tombstone is not None:
        return True
    statement = select(AuditEntry.id).where(AuditEntry.action == "beneficiary.erased").limit(1)
    return (await session.execute(statement)).first() is not None


# Who erases again the people of the erasure ledger that a restored backup brought back.
LEDGER_ACTOR = "erasure-ledger"


async def reapply(
    maker: async_sessionmaker[AsyncSession], crypto: Crypto, ledger: erasure_ledger.ErasureLedger
) -> int:
    """Erase again, the same way (their key first), everyone the ledger names who is in the database
    (a backup taken before their erasure was restored); how many. One transaction a person, each
    finding them again under a lock, so that two processes starting at once erase each one once.
    Only the ledger's lines after the place this database was last checked up to are read (all of
    them the first time, or when that place is not in this file); the place is then moved on.
    Raises `erasure_ledger.LedgerError` when the ledger cannot be read."""
    name = ledger.name()
    if name is None:
        return 0  # empty
    async with maker() as session:
        checked = await ops.marker(session, ops.replayed(name))
    people, reached = ledger.people(after=erasure_ledger.Position.parse(checked and checked.detail))
    erased = 0
    for person in await erasure_ledger.present(maker, people):
        async with maker() as session:
            async with session.begin():
                still = select(Beneficiary.id).where(Beneficiary.id == person).with_for_update()
                if (await session.execute(still)).scalar_one_or_none() is None:
                    continue
                await erase_person(
                    session, crypto, beneficiary_id=person, reason=people[person], actor=LEDGER_ACTOR
                )
                erased += 1
            await clear_logs_if_erased(session)
    async with maker() as session, session.begin():
        await ops.beat(session, ops.replayed(name), reached.text())
    return erased


async def tombstone(session: AsyncSession, *, code: str) -> CaseTombstone | None:
    return await session.get(CaseTombstone, code)


# --- erasure requests (a deletion asked for after a caseworker took the case) ---------------------


@dataclass(frozen=True)
class ErasureRequest:
    request: DataRequest
    code: str | None


async def open_erasure_requests(session: AsyncSession) -> Sequence[ErasureRequest]:
    """The supervisors' queue: open requests, soonest due first."""
    statement = (
        select(DataRequest, Case.code)
        .outerjoin(Case, Case.id == DataRequest.case_id)
        .where(DataRequest.kind == DELETION, DataRequest.status == OPEN, DataRequest.due_at.is_not(None))
        .order_by(DataRequest.due_at, DataRequest.created_at, DataRequest.id)
    )
    return [ErasureRequest(request, code) for request, code in (await session.execute(statement)).all()]


async def refused_erasure_requests(session: AsyncSession, *, limit: int) -> Sequence[ErasureRequest]:
    statement = (
        select(DataRequest, Case.code)
        .outerjoin(Case, Case.id == DataRequest.case_id)
        .where(DataRequest.kind == DELETION, DataRequest.status == REFUSED)
        .order_by(DataRequest.done_at.desc(), DataRequest.id)
        .limit(limit)
    )
    return [ErasureRequest(request, code) for request, code in (await session.execute(statement)).all()]


async def find_erasure_request(
    session: AsyncSession, *, request_id: str, to_decide: bool = False
) -> ErasureRequest | None:
    """An erasure request by the id a form sent (anything at all: a forged one finds nothing).

    `to_decide`: locked until the transaction ends (FOR UPDATE on PostgreSQL; SQLite's transaction
    holds its one write lock), so of two supervisors deciding it at once the second finds it decided."""
    try:
        wanted = uuid.UUID(request_id)
    except ValueError:
        return None
    statement = (
        select(DataRequest, Case.code)
        .outerjoin(Case, Case.id == DataRequest.case_id)
        .where(DataRequest.id == wanted, DataRequest.kind == DELETION, DataRequest.due_at.is_not(None))
    )
    if to_decide:
        statement = statement.with_for_update(of=DataRequest)
    found = (await session.execute(statement)).first()
    return None if found is None else ErasureRequest(found[0], found[1])


async def open_erasure_request_of(session: AsyncSession, *, beneficiary_id: uuid.UUID) -> DataRequest | None:
    statement = select(DataRequest).where(
        DataRequest.beneficiary_id == beneficiary_id,
        DataRequest.kind == DELETION,
        DataRequest.status == OPEN,
        DataRequest.due_at.is_not(None),
    )
    return (await session.execute(statement.limit(1))).scalar_one_or_none()


async def refuse(
    session: AsyncSession,
    crypto: Crypto,
    *,
    request: DataRequest,
    code: str | None,
    reason: str,
    staff_id: int,
    actor: str,
) -> None:
    """Record the refusal; its reason is sealed on the request (the audit keeps only that it was)."""
    request.status = REFUSED
    request.done_at = utcnow()
    request.done_by = staff_id
    await person_keys.load(session, crypto, [request.beneficiary_id])
    seal(crypto, request, "answer_enc", reason)
    await session.flush()
    await record_audit(
        session, actor=actor, action="erasure.refused", object_type="case", object_id=code, details={}
    )
