"""Queries of the beneficiary's journey: forms, consent, conversation, requests, alerts, erasure."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from programme import consent as consent_rules
from programme.forms import INTERVIEW
from programme.staff_alerts import Kind
from storage import city, person_keys, staff_alerts
from storage.crypto import Crypto
from storage.erasure import ERASED as ERASED  # the bot's middlewares read it from here
from storage.erasure import erase_person
from storage.models import Beneficiary, Case, FormResponse, utcnow
from storage.models_erasure import REQUEST
from storage.models_journey import Alert, CaseMessage, Consent, DataRequest
from storage.queries import next_case_code, open_case_of, record_audit
from storage.reminders import WITHDRAWN, drop_case_reminders
from storage.sealing import seal_json

# A second /urgent (or more crisis words) within this time of an alert nobody has acknowledged yet
# adds nothing: staff already have the alert, and a flood of them would hide the others.
ALERT_REPEAT = dt.timedelta(minutes=15)


async def ensure_case(session: AsyncSession, *, beneficiary: Beneficiary) -> Case:
    """The beneficiary's open case, opened now when they reach for help before screening ends."""
    case = await open_case_of(session, beneficiary_id=beneficiary.id)
    if case is not None:
        return case
    now = utcnow()
    case = Case(
        code=await next_case_code(session, year=now.year),
        beneficiary=beneficiary,
        source=beneficiary.source or "bot",
        language=beneficiary.language,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    await session.flush()
    await record_audit(
        session, actor="bot", action="case.opened", object_type="case", object_id=case.code, details={}
    )
    return case


async def cases_of(session: AsyncSession, *, beneficiary_id: uuid.UUID) -> Sequence[Case]:
    statement = select(Case).where(Case.beneficiary_id == beneficiary_id).order_by(Case.created_at)
    return (await session.execute(statement)).scalars().all()


async def save_form_response(
    session: AsyncSession,
    crypto: Crypto,
    *,
    case: Case,
    form_id: str,
    form_version: int,
    answers: dict[str, Any],
    source: str = "bot",
) -> FormResponse:
    response = FormResponse(
        case=case, case_id=case.id, form_id=form_id, form_version=form_version, source=source
    )
    await person_keys.load_for_case(session, crypto, case)
    seal_json(crypto, response, "answers_enc", answers)
    session.add(response)
    await session.flush()
    if form_id == INTERVIEW.id:
        await city.index_interview(session, crypto, beneficiary_id=case.beneficiary_id, answers=answers)
    return response


async def latest_form_response(
    session: AsyncSession, *, case_id: uuid.UUID, form_id: str
) -> FormResponse | None:
    statement = (
        select(FormResponse)
        .where(FormResponse.case_id == case_id, FormResponse.form_id == form_id)
        .order_by(FormResponse.created_at.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def current_consent(session: AsyncSession, *, case_id: uuid.UUID) -> Consent | None:
    statement = select(Consent).where(Consent.case_id == case_id, Consent.superseded_at.is_(None))
    return (await session.execute(statement)).scalar_one_or_none()


async def record_consent(
    session: AsyncSession,
    *,
    case: Case,
    casework: bool,
    publicity: str,
    third_party: bool,
    language: str,
    text_version: str,
    text_hash: str,
    channel: str = "bot",
    staff_id: int | None = None,
    withdrawal: bool = False,
) -> Consent:
    """A new record superseding the current one, so every earlier choice stays on file.

    A consent given anew (not a `withdrawal`) after the person stopped taking part is a fresh
    agreement: what it covers may go on again."""
    now = utcnow()
    if not withdrawal:
        await session.execute(
            update(Beneficiary)
            .where(Beneficiary.id == case.beneficiary_id, Beneficiary.withdrawn_at.is_not(None))
            .values(withdrawn_at=None)
            .execution_options(synchronize_session="fetch")
        )
    await session.execute(
        update(Consent)
        .where(Consent.case_id == case.id, Consent.superseded_at.is_(None))
        .values(superseded_at=now)
    )
    consent = Consent(
        case_id=case.id,
        casework=casework,
        publicity=publicity,
        third_party=third_party,
        language=language,
        text_version=text_version,
        text_hash=text_hash,
        channel=channel,
        recorded_by=staff_id,
        recorded_at=now,
    )
    session.add(consent)
    await record_audit(
        session,
        actor="bot" if staff_id is None else f"staff:{staff_id}",
        action="consent.withdrawn" if withdrawal else "consent.recorded",
        object_type="case",
        object_id=case.code,
        details={
            "casework": casework,
            "publicity": publicity,
            "third_party": third_party,
            "version": text_version,
        },
    )
    return consent


async def add_case_message(
    session: AsyncSession,
    crypto: Crypto,
    *,
    case: Case,
    direction: str,
    kind: str,
    body: dict[str, Any],
    staff_id: int | None = None,
) -> CaseMessage:
    message = CaseMessage(
        case_id=case.id, direction=direction, kind=kind, staff_id=staff_id, created_at=utcnow()
    )
    await person_keys.load_for_case(session, crypto, case)
    seal_json(crypto, message, "body_enc", body)
    session.add(message)
    return message


async def case_messages(session: AsyncSession, *, case_id: uuid.UUID) -> Sequence[CaseMessage]:
    statement = select(CaseMessage).where(CaseMessage.case_id == case_id).order_by(CaseMessage.created_at)
    return (await session.execute(statement)).scalars().all()


async def add_data_request(
    session: AsyncSession,
    crypto: Crypto,
    *,
    beneficiary: Beneficiary,
    case: Case | None,
    kind: str,
    details: dict[str, Any] | None,
    due_after: dt.timedelta | None = None,
) -> DataRequest:
    """A request for caseworkers; with `due_after`, one that must be answered by then (erasure)."""
    now = utcnow()
    request = DataRequest(
        beneficiary_id=beneficiary.id,
        case_id=case.id if case else None,
        kind=kind,
        status="open",
        created_at=now,
        due_at=None if due_after is None else now + due_after,
    )
    await person_keys.load(session, crypto, [beneficiary.id])
    seal_json(crypto, request, "details_enc", details)
    session.add(request)
    await record_audit(
        session,
        actor="bot",
        action=f"request.{kind}",
        object_type="case",
        object_id=case.code if case else None,
        details={},
    )
    return request


async def withdraw(
    session: AsyncSession,
    crypto: Crypto,
    *,
    beneficiary: Beneficiary,
    case: Case,
    language: str,
    text_version: str,
    text_hash: str,
    reason: str | None,
) -> None:
    """The person stops taking part (/withdraw, or "Withdraw my consent" in /consent): at once,
    nothing their consent covered goes on. Their consent is recorded withdrawn (so no referral can
    be made), their pending reminders are dropped, and from now on the campaign expansion and the
    sender pass them over (rows queued before are checked when they are sent). The written request
    (with their reason, when they gave one) waits for the caseworker, who closes the case with
    reason 1 (programme.cycle.TerminationReason.WITHDREW)."""
    beneficiary.withdrawn_at = utcnow()
    await record_consent(
        session,
        case=case,
        casework=consent_rules.WITHDRAWN.casework,
        publicity=consent_rules.WITHDRAWN.publicity,
        third_party=consent_rules.WITHDRAWN.third_party,
        language=language,
        text_version=text_version,
        text_hash=text_hash,
        withdrawal=True,
    )
    await add_data_request(
        session,
        crypto,
        beneficiary=beneficiary,
        case=case,
        kind="withdrawal",
        details={"text": reason} if reason else None,
    )
    for each in await cases_of(session, beneficiary_id=beneficiary.id):
        await drop_case_reminders(session, case_id=each.id, reason=WITHDRAWN)


async def withdrawn_at(session: AsyncSession, *, beneficiary_id: uuid.UUID) -> dt.datetime | None:
    """When the person stopped taking part, or None if they have not (or consented again since)."""
    statement = select(Beneficiary.withdrawn_at).where(Beneficiary.id == beneficiary_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def withdrawn_cases(session: AsyncSession, *, case_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Those of the cases whose person stopped taking part (for the case list and the queue)."""
    if not case_ids:
        return set()
    return set((await session.execute(withdrawn_cases_statement(case_ids))).scalars())


def withdrawn_cases_statement(case_ids: Sequence[uuid.UUID]) -> Select[tuple[uuid.UUID]]:
    """Asked on every page of the case list: the few people who withdrew are found through their
    own partial index (ix_beneficiaries_withdrawn), never by reading every person."""
    return (
        select(Case.id)
        .join(Beneficiary, Beneficiary.id == Case.beneficiary_id)
        .where(Case.id.in_(list(case_ids)), Beneficiary.withdrawn_at.is_not(None))
    )


async def data_requests(session: AsyncSession, *, beneficiary_id: uuid.UUID) -> Sequence[DataRequest]:
    statement = (
        select(DataRequest)
        .where(DataRequest.beneficiary_id == beneficiary_id)
        .order_by(DataRequest.created_at)
    )
    return (await session.execute(statement)).scalars().all()


async def raise_alert(
    session: AsyncSession, *, case: Case, kind: str, message: CaseMessage | None = None
) -> Alert:
    """An alert for the case's caseworker and the supervisors, on their badge and their phones
    (storage.staff_alerts); the same kind asked for again while one raised within ALERT_REPEAT is
    still unacknowledged is that alert (one alert, not many). `message` is what raised it, kept on
    the case; the audit names the alert and the message, never what it says."""
    case.urgent = True
    now = utcnow()
    repeated = (
        await session.execute(
            select(Alert)
            .where(
                Alert.case_id == case.id,
                Alert.kind == kind,
                Alert.acknowledged_at.is_(None),
                Alert.created_at > now - ALERT_REPEAT,
            )
            .limit(1)
        )
    ).scalar_one_or_none()
    if repeated is not None:
        return repeated
    alert = Alert(case_id=case.id, kind=kind, created_at=now, message_id=message.id if message else None)
    session.add(alert)
    await session.flush()
    staff_alerts.note(session, case=case, kind=Kind(kind))
    details: dict[str, Any] = {"alert": alert.id}
    if message is not None:
        details["message"] = str(message.id)
    await record_audit(
        session, actor="bot", action=f"alert.{kind}", object_type="case", object_id=case.code, details=details
    )
    return alert


async def erase_beneficiary(session: AsyncSession, crypto: Crypto, *, beneficiary: Beneficiary) -> list[str]:
    """Delete the person and everything of theirs (storage.erasure, which also detaches their loaded
    rows from the session); the audit keeps only the case codes. The person asked in the bot before
    any caseworker's work, so the actor is the bot."""
    return await erase_person(session, crypto, beneficiary_id=beneficiary.id, reason=REQUEST, actor="bot")
