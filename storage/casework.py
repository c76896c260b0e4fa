"""Query functions (keyword-only arguments) for the caseworkers' console: queue, case file, audit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from programme import priority
from programme.forms import INTERVIEW
from storage import city, person_keys, phone
from storage.crypto import Crypto
from storage.models import AuditEntry, Beneficiary, Case, FormResponse, StaffUser
from storage.models_casework import CaseClosure
from storage.models_journey import Alert, CaseMessage, Consent, DataRequest
from storage.sealing import seal, seal_json, unseal_json

CLOSED = "closed"


def waiting_since() -> ColumnElement[dt.datetime]:
    """When a case started waiting for a person: its handoff, or its opening if never handed off."""
    return func.coalesce(Case.handoff_at, Case.created_at)


def _queue_priority() -> list[ColumnElement[Any]]:
    """The queue's order before waiting time: urgent first, then cases in one of the programme's
    priority groups (programme.priority). The index ix_cases_queue follows this order."""
    return [Case.urgent.desc(), Case.priority.desc()]


def _open_unassigned() -> ColumnElement[bool]:
    return and_(Case.assigned_to.is_(None), Case.stage != CLOSED)


async def find_case(session: AsyncSession, *, code: str) -> Case | None:
    return (await session.execute(select(Case).where(Case.code == code))).scalar_one_or_none()


async def find_case_and_withdrawal(
    session: AsyncSession, *, code: str
) -> tuple[Case, dt.datetime | None] | None:
    """A case by its code, and when its person stopped taking part (None: they have not), in one query."""
    statement = (
        select(Case, Beneficiary.withdrawn_at)
        .join(Beneficiary, Beneficiary.id == Case.beneficiary_id)
        .where(Case.code == code)
    )
    found = (await session.execute(statement)).first()
    return None if found is None else (found[0], found[1])


async def list_cases(
    session: AsyncSession, *, caseworker_id: int | None, limit: int, offset: int = 0
) -> Sequence[Case]:
    """Newest first. With a caseworker: their own caseload and the unassigned queue only."""
    statement = select(Case)
    if caseworker_id is not None:
        statement = statement.where(or_(Case.assigned_to == caseworker_id, _open_unassigned()))
    statement = statement.order_by(Case.created_at.desc(), Case.code.desc()).limit(limit).offset(offset)
    return (await session.execute(statement)).scalars().all()


def search_statement(
    *,
    code: str | None = None,
    phone_hashes: Sequence[str] = (),
    caseworker_id: int | None,
    limit: int,
) -> Select[tuple[Case]] | None:
    """The search's SELECT (None when there is nothing to look for). An exact code is read through
    the code's unique index, a phone through the beneficiaries' lookup-hash index and then the cases'
    beneficiary index: a few rows, whatever the number of cases, so the ordering sorts only those
    (tests/console/test_console_case_search.py reads the plans)."""
    statement = select(Case)
    if code is not None:
        statement = statement.where(Case.code == code)
    elif phone_hashes:
        people = select(Beneficiary.id).where(Beneficiary.phone_hash.in_(list(phone_hashes)))
        statement = statement.where(Case.beneficiary_id.in_(people))
    else:
        return None
    if caseworker_id is not None:
        statement = statement.where(or_(Case.assigned_to == caseworker_id, _open_unassigned()))
    return statement.order_by(Case.created_at.desc(), Case.code.desc()).limit(limit)


async def search_cases(
    session: AsyncSession,
    *,
    code: str | None = None,
    phone_hashes: Sequence[str] = (),
    caseworker_id: int | None,
    limit: int,
) -> Sequence[Case]:
    """Cases by their exact code, or by the lookup hashes of a phone number (storage.phone: nothing is
    decrypted), newest first. With a caseworker: among their caseload and the queue only, as list_cases."""
    statement = search_statement(
        code=code, phone_hashes=phone_hashes, caseworker_id=caseworker_id, limit=limit
    )
    if statement is None:
        return []
    return (await session.execute(statement)).scalars().all()


def queue_statement(*, limit: int, offset: int = 0) -> Select[tuple[Case]]:
    """Open unassigned cases: urgent first, then priority groups, then longest waiting."""
    return (
        select(Case)
        .where(_open_unassigned())
        .order_by(*_queue_priority(), waiting_since(), Case.code)
        .limit(limit)
        .offset(offset)
    )


async def queue(session: AsyncSession, *, limit: int, offset: int = 0) -> Sequence[Case]:
    return (await session.execute(queue_statement(limit=limit, offset=offset))).scalars().all()


@dataclasses.dataclass(frozen=True)
class QueueCounts:
    new: int
    urgent: int


async def queue_counts(session: AsyncSession, *, alerts_for: int | None) -> QueueCounts:
    """The live badge: unassigned handoffs that are new, and cases that are urgent: unassigned
    urgent ones, and open cases with an alert nobody has acknowledged (an adverse event, urgent help)
    among `alerts_for`'s own (a staff id; None: every case, as a supervisor sees them)."""
    alerted = select(Alert.id).where(Alert.case_id == Case.id, Alert.acknowledged_at.is_(None)).exists()
    if alerts_for is not None:
        alerted = and_(alerted, Case.assigned_to == alerts_for)
    waiting = _open_unassigned()
    statement = select(
        func.count().filter(and_(waiting, Case.stage == "new")),
        func.count().filter(or_(and_(waiting, Case.urgent.is_(True)), alerted)),
    ).where(Case.stage != CLOSED, or_(waiting, alerted))
    new, urgent = (await session.execute(statement)).one()
    return QueueCounts(new=int(new or 0), urgent=int(urgent or 0))


async def add_alert(session: AsyncSession, *, case: Case, kind: str, at: dt.datetime) -> Alert:
    alert = Alert(case_id=case.id, kind=kind, created_at=at)
    session.add(alert)
    await session.flush()
    return alert


async def open_alerts(session: AsyncSession, *, case_id: uuid.UUID) -> Sequence[Alert]:
    statement = (
        select(Alert)
        .where(Alert.case_id == case_id, Alert.acknowledged_at.is_(None))
        .order_by(Alert.created_at)
    )
    return (await session.execute(statement)).scalars().all()


async def form_responses(
    session: AsyncSession, crypto: Crypto, *, case_id: uuid.UUID, form_id: str
) -> list[tuple[FormResponse, dict[str, Any]]]:
    """Every response of one form on a case, newest first, decrypted."""
    statement = (
        select(FormResponse)
        .where(FormResponse.case_id == case_id, FormResponse.form_id == form_id)
        .order_by(FormResponse.created_at.desc(), FormResponse.id)
    )
    return [
        (response, unseal_json(crypto, response, "answers_enc") or {})
        for response in (await session.execute(statement)).scalars()
    ]


async def active_staff(session: AsyncSession, *, role: str) -> Sequence[StaffUser]:
    statement = (
        select(StaffUser)
        .where(StaffUser.role == role, StaffUser.active.is_(True))
        .order_by(StaffUser.display_name, StaffUser.username)
    )
    return (await session.execute(statement)).scalars().all()


async def staff_by_id(session: AsyncSession, *, ids: Sequence[int]) -> dict[int, StaffUser]:
    if not ids:
        return {}
    statement = select(StaffUser).where(StaffUser.id.in_(set(ids)))
    return {user.id: user for user in (await session.execute(statement)).scalars()}


async def latest_answers(
    session: AsyncSession, crypto: Crypto, *, case_id: uuid.UUID, form_ids: Sequence[str]
) -> dict[str, tuple[FormResponse, dict[str, Any]]]:
    """The newest response of each named form on a case, decrypted: form id → (row, answers)."""
    statement = (
        select(FormResponse)
        .where(FormResponse.case_id == case_id, FormResponse.form_id.in_(form_ids))
        .order_by(FormResponse.created_at, FormResponse.id)
    )
    latest: dict[str, FormResponse] = {}
    for response in (await session.execute(statement)).scalars():
        latest[response.form_id] = response
    return {
        form_id: (response, unseal_json(crypto, response, "answers_enc") or {})
        for form_id, response in latest.items()
    }


async def add_form_response(
    session: AsyncSession,
    crypto: Crypto,
    *,
    case: Case,
    form_id: str,
    form_version: int,
    answers: dict[str, Any],
    at: dt.datetime,
) -> FormResponse:
    """A new sealed response filled in the console; earlier ones stay as the form's history."""
    response = FormResponse(
        case_id=case.id, form_id=form_id, form_version=form_version, source="console", created_at=at
    )
    await person_keys.load_for_case(session, crypto, case)
    seal_json(crypto, response, "answers_enc", answers)
    session.add(response)
    await session.flush()
    if form_id == INTERVIEW.id:
        # A caseworker's correction of the interview is the person's city from now on.
        await city.index_interview(session, crypto, beneficiary_id=case.beneficiary_id, answers=answers)
        if answers.get("phone"):
            # And the number they gave on the call is theirs, sealed and indexed as the bot does.
            beneficiary = await session.get(Beneficiary, case.beneficiary_id)
            if beneficiary is not None:
                phone.set_phone(crypto, beneficiary, answers["phone"])
    return response


async def latest_of_cases(
    session: AsyncSession, crypto: Crypto, *, case_ids: Sequence[uuid.UUID], form_id: str
) -> dict[uuid.UUID, dict[str, Any]]:
    """The newest answers of one form for each of several cases, decrypted: case id → answers."""
    if not case_ids:
        return {}
    statement = (
        select(FormResponse)
        .where(FormResponse.case_id.in_(set(case_ids)), FormResponse.form_id == form_id)
        .order_by(FormResponse.created_at, FormResponse.id)
    )
    latest: dict[uuid.UUID, FormResponse] = {}
    for response in (await session.execute(statement)).scalars():
        latest[response.case_id] = response
    return {case_id: unseal_json(crypto, row, "answers_enc") or {} for case_id, row in latest.items()}


async def priority_groups(
    session: AsyncSession, crypto: Crypto, *, cases: Sequence[Case]
) -> dict[uuid.UUID, tuple[set[str], set[str]]]:
    """Each case's priority groups: (from the bot's answers, set by a caseworker)."""
    ids = [case.id for case in cases]
    interviews = await latest_of_cases(session, crypto, case_ids=ids, form_id="interview")
    flags = await latest_of_cases(session, crypto, case_ids=ids, form_id=priority.FORM_ID)
    return {
        case.id: (
            priority.from_bot(under_18=case.guardian_consent_needed, interview=interviews.get(case.id)),
            priority.from_caseworker(flags.get(case.id)),
        )
        for case in cases
    }


async def has_casework_consent(session: AsyncSession, *, case_id: uuid.UUID) -> bool:
    """Whether the case's current Annex 4 consent allows sharing data for case work."""
    statement = select(Consent.casework).where(Consent.case_id == case_id, Consent.superseded_at.is_(None))
    return any((await session.execute(statement)).scalars())


async def add_closure(
    session: AsyncSession,
    crypto: Crypto,
    *,
    case: Case,
    reason: str,
    details: str | None,
    staff_id: int,
    at: dt.datetime,
) -> CaseClosure:
    closure = CaseClosure(
        case_id=case.id, reason=reason, stage_before=case.stage, closed_by=staff_id, closed_at=at
    )
    await person_keys.load_for_case(session, crypto, case)
    seal(crypto, closure, "details_enc", details or None)
    session.add(closure)
    await session.flush()
    return closure


async def latest_closure(session: AsyncSession, *, case_id: uuid.UUID) -> CaseClosure | None:
    statement = (
        select(CaseClosure)
        .where(CaseClosure.case_id == case_id)
        .order_by(CaseClosure.closed_at.desc(), CaseClosure.id)
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


@dataclasses.dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    case_code: str | None = None
    since: dt.datetime | None = None
    before: dt.datetime | None = None


async def audit_entries(
    session: AsyncSession, *, where: AuditFilter, limit: int, offset: int = 0
) -> Sequence[AuditEntry]:
    """Audit entries matching every given filter, newest first (read only: the log is append-only)."""
    conditions: list[ColumnElement[bool]] = []
    if where.actor:
        conditions.append(AuditEntry.actor == where.actor)
    if where.action:
        conditions.append(AuditEntry.action == where.action)
    if where.case_code:
        conditions.append(and_(AuditEntry.object_type == "case", AuditEntry.object_id == where.case_code))
    if where.since is not None:
        conditions.append(AuditEntry.at >= where.since)
    if where.before is not None:
        conditions.append(AuditEntry.at < where.before)
    statement = (
        select(AuditEntry)
        .where(*conditions)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return (await session.execute(statement)).scalars().all()


async def audit_actions(session: AsyncSession) -> Sequence[str]:
    """Every action name the log holds, for the filter's list."""
    statement = select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    return (await session.execute(statement)).scalars().all()


async def beneficiary_of(session: AsyncSession, *, case: Case) -> Beneficiary:
    statement = select(Beneficiary).where(Beneficiary.id == case.beneficiary_id)
    return (await session.execute(statement)).scalar_one()


# --- conversation, requests and consent as the case file shows them ----------------------------------


async def mark_messages_read(session: AsyncSession, *, case_id: uuid.UUID, at: dt.datetime) -> int:
    """Mark the beneficiary's unread messages read; how many were unread."""
    statement = (
        update(CaseMessage)
        .where(CaseMessage.case_id == case_id, CaseMessage.direction == "in", CaseMessage.read_at.is_(None))
        .values(read_at=at)
    )
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


async def case_requests(session: AsyncSession, *, case: Case) -> Sequence[DataRequest]:
    """The beneficiary's requests (correction, withdrawal, deletion, consent), open ones first."""
    statement = (
        select(DataRequest)
        .where(DataRequest.beneficiary_id == case.beneficiary_id)
        .order_by(DataRequest.status.desc(), DataRequest.created_at, DataRequest.id)
    )
    return (await session.execute(statement)).scalars().all()


async def find_request(session: AsyncSession, *, case: Case, request_id: str) -> DataRequest | None:
    """One of the case's beneficiary's requests by id; None for anything else (or not an id)."""
    try:
        wanted = uuid.UUID(request_id)
    except ValueError:
        return None
    statement = select(DataRequest).where(
        DataRequest.id == wanted, DataRequest.beneficiary_id == case.beneficiary_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def consent_history(session: AsyncSession, *, case_id: uuid.UUID) -> Sequence[Consent]:
    """Every Annex 4 record of the case, newest first (the current one has no superseded_at)."""
    statement = (
        select(Consent).where(Consent.case_id == case_id).order_by(Consent.recorded_at.desc(), Consent.id)
    )
    return (await session.execute(statement)).scalars().all()
