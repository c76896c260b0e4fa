"""What caseworkers do to a case: take, assign, save forms, move it through the cycle; all audited.

Every change goes through the case row, whose `version` column SQLAlchemy checks on UPDATE: a form
sent from a page older than the case is refused (`StaleCase`) instead of overwriting someone
else's change. Functions here flush but never commit; the route commits once it has answered
everything it has to.
"""

from __future__ import annotations

import datetime as dt
import html
import secrets
import zoneinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from programme import cycle, priority
from programme.assessment import ADVERSE_EVENT
from programme.cycle import CaseFacts, Stage
from programme.text import N_
from storage import appointments, casework, feedback
from storage.crypto import Crypto
from storage.journey import add_case_message
from storage.models import Case, utcnow
from storage.models_appointments import Appointment, AppointmentProposal, Office
from storage.models_journey import CaseMessage, DataRequest
from storage.outbox import Lane, enqueue
from storage.queries import record_audit
from storage.reminders import drop_case_reminders
from wording import feedback as satisfaction
from wording import proposals
from wording.languages import locale_of
from wording.replies import caseworker_reply

STALE_MESSAGE = N_(
    "This case was changed by someone else while you had it open. Nothing was saved: "
    "look at the case again, then repeat your change if it is still needed."
)


class StaleCase(Exception):
    """The case changed since the page was served; nothing was saved."""


def expect_version(case: Case, submitted: object) -> None:
    """Refuse a form made from an older version of the case than the one now stored."""
    if not isinstance(submitted, str) or submitted != str(case.version):
        raise StaleCase


async def discard(session: AsyncSession, case: Case) -> None:
    """Undo the request's unsaved changes and reload the case, so the page shows what is stored.

    (A rollback expires every loaded object, and an expired one cannot load itself under asyncio.)
    """
    await session.rollback()
    await session.refresh(case)


async def save_case(session: AsyncSession, case: Case) -> None:
    """Flush a change to the case row; a concurrent change that won the race raises StaleCase."""
    case.updated_at = utcnow()
    try:
        await session.flush()
    except StaleDataError:
        raise StaleCase from None


async def _audit(session: AsyncSession, *, actor: str, action: str, case: Case, **details: Any) -> None:
    # Case codes and codes of choices only: the audit log never holds personal data.
    await record_audit(
        session, actor=actor, action=action, object_type="case", object_id=case.code, details=details
    )


async def change_stage(session: AsyncSession, *, case: Case, to: Stage, actor: str) -> None:
    before = case.stage
    case.stage = to.value
    await save_case(session, case)
    await _audit(
        session, actor=actor, action="case.stage_changed", case=case, **{"from": before, "to": to.value}
    )


async def take(session: AsyncSession, *, case: Case, staff_id: int, actor: str) -> None:
    """Assign a queued case to the person taking it; a new case moves on to screening."""
    case.assigned_to = staff_id
    await save_case(session, case)
    await _audit(session, actor=actor, action="case.taken", case=case, assigned_to=staff_id)
    if case.stage == Stage.NEW:
        await change_stage(session, case=case, to=Stage.SCREENING, actor=actor)


async def assign(session: AsyncSession, *, case: Case, staff_id: int, actor: str) -> None:
    previous = case.assigned_to
    case.assigned_to = staff_id
    await save_case(session, case)
    await _audit(
        session, actor=actor, action="case.assigned", case=case, assigned_to=staff_id, previous=previous
    )


async def facts(session: AsyncSession, crypto: Crypto, *, case: Case) -> CaseFacts:
    """What the cycle's guards need, read from storage."""
    confirmation = await casework.latest_answers(
        session, crypto, case_id=case.id, form_ids=["screening_confirmation"]
    )
    confirmed: bool | None = None
    if "screening_confirmation" in confirmation:
        confirmed = confirmation["screening_confirmation"][1].get("eligible") == "yes"
    return CaseFacts(
        stage=cycle.stage_of(case.stage),
        confirmed_eligible=confirmed,
        has_casework_consent=await casework.has_casework_consent(session, case_id=case.id),
    )


async def save_form(
    session: AsyncSession,
    crypto: Crypto,
    *,
    case: Case,
    form_id: str,
    form_version: int,
    answers: dict[str, Any],
    actor: str,
    at: dt.datetime,
) -> None:
    """Store a filled caseworker form (sealed) and bump the case's version."""
    response = await casework.add_form_response(
        session, crypto, case=case, form_id=form_id, form_version=form_version, answers=answers, at=at
    )
    await save_case(session, case)
    await _audit(
        session, actor=actor, action="form.saved", case=case, form=form_id, response=str(response.id)
    )


async def advance(session: AsyncSession, crypto: Crypto, *, case: Case, to: Stage, actor: str) -> None:
    cycle.check_advance(await facts(session, crypto, case=case), to)
    await change_stage(session, case=case, to=to, actor=actor)


async def close(
    session: AsyncSession,
    crypto: Crypto,
    *,
    case: Case,
    reason: str | None,
    details: str | None,
    staff_id: int,
    actor: str,
) -> None:
    termination = cycle.check_close(await facts(session, crypto, case=case), reason)
    await casework.add_closure(
        session, crypto, case=case, reason=termination.value, details=details, staff_id=staff_id, at=utcnow()
    )
    await change_stage(session, case=case, to=Stage.CLOSED, actor=actor)
    # A closed case gets no more reminders (the scheduler checks the stage too, at sending time).
    await drop_case_reminders(session, case_id=case.id, reason="closed")
    await _audit(session, actor=actor, action="case.closed", case=case, reason=termination.value)
    if termination is not cycle.TerminationReason.WITHDREW:
        # One short question, once per case, never to someone who asked to stop taking part.
        asked = await feedback.ask_satisfaction(session, case=case)
        if asked is not None:
            token, language = asked
            text, markup = satisfaction.satisfaction_question(locale=locale_of(language), token=token)
            await enqueue(
                session,
                crypto,
                beneficiary_id=case.beneficiary_id,
                text=text,
                reply_markup=markup,
                lane=Lane.REPLY,
            )


async def reopen(session: AsyncSession, crypto: Crypto, *, case: Case, staff_id: int, actor: str) -> None:
    closure = await casework.latest_closure(session, case_id=case.id)
    target = cycle.reopen_stage(
        await facts(session, crypto, case=case), closure.stage_before if closure else None
    )
    if closure is not None:
        closure.reopened_by = staff_id
        closure.reopened_at = utcnow()
    await change_stage(session, case=case, to=target, actor=actor)
    await _audit(session, actor=actor, action="case.reopened", case=case)


async def reply(
    session: AsyncSession,
    crypto: Crypto,
    *,
    case: Case,
    text: str,
    canned: str | None,
    staff_id: int,
    actor: str,
) -> CaseMessage:
    """Keep the reply on the case conversation and put it in the outbox; the bot's prompts pause.

    Telegram reads the text as HTML, so the caseworker's words are escaped: what they typed is what
    the person sees, under a line in their language saying their caseworker wrote it. The audit
    names the message, never its text.
    """
    message = await add_case_message(
        session, crypto, case=case, direction="out", kind="text", body={"text": text}, staff_id=staff_id
    )
    beneficiary = await casework.beneficiary_of(session, case=case)
    labelled = caseworker_reply(html.escape(text), beneficiary.language, case.language)
    await enqueue(session, crypto, beneficiary_id=case.beneficiary_id, text=labelled, lane=Lane.REPLY)
    # Answering is reading: what the person wrote before this reply is no longer unread.
    await casework.mark_messages_read(session, case_id=case.id, at=message.created_at)
    if not case.caseworker_active:
        case.caseworker_active = True
        await save_case(session, case)
    await _audit(
        session, actor=actor, action="conversation.replied", case=case, message=str(message.id), canned=canned
    )
    return message


async def mark_read(session: AsyncSession, *, case: Case, actor: str) -> None:
    count = await casework.mark_messages_read(session, case_id=case.id, at=utcnow())
    await _audit(session, actor=actor, action="conversation.read", case=case, messages=count)


async def hand_back(session: AsyncSession, *, case: Case, actor: str) -> None:
    """The bot takes the conversation again: its automated prompts resume, the case leaves the handoff."""
    case.caseworker_active = False
    case.handoff_at = None
    await save_case(session, case)
    await _audit(session, actor=actor, action="conversation.handed_back", case=case)


async def request_done(
    session: AsyncSession, *, case: Case, request: DataRequest, staff_id: int, actor: str
) -> None:
    request.status = "done"
    request.done_at = utcnow()
    request.done_by = staff_id
    await session.flush()
    await _audit(
        session, actor=actor, action="request.done", case=case, request=str(request.id), kind=request.kind
    )


async def plan_changed(session: AsyncSession, *, case: Case, actor: str, change: str, **details: Any) -> None:
    """A change to the integration plan, made with the beneficiary's agreement: the case's version
    moves on (a page made before it is stale) and the audit names the rows changed, never their text."""
    await save_case(session, case)
    await _audit(session, actor=actor, action=f"plan.{change}", case=case, agreed=True, **details)


async def record_adverse_event(
    session: AsyncSession,
    crypto: Crypto,
    *,
    case: Case,
    answers: dict[str, Any],
    actor: str,
    at: dt.datetime,
) -> None:
    """Annex 3: the report is kept sealed, the case turns urgent and an alert goes to its caseworker
    and the supervisors (their badge). The audit names the report, never what happened."""
    response = await casework.add_form_response(
        session,
        crypto,
        case=case,
        form_id=ADVERSE_EVENT.id,
        form_version=ADVERSE_EVENT.version,
        answers=answers,
        at=at,
    )
    alert = await casework.add_alert(session, case=case, kind=ADVERSE_EVENT.id, at=at)
    # One flush of the case row, so its version moves on once for the whole report.
    case.urgent = True
    await save_case(session, case)
    await _audit(
        session,
        actor=actor,
        action="adverse_event.recorded",
        case=case,
        response=str(response.id),
        alert=alert.id,
    )


async def acknowledge_alerts(session: AsyncSession, *, case: Case, staff_id: int, actor: str) -> int:
    """The case's open alerts are seen and handled: they leave the badge (the case stays urgent)."""
    alerts = await casework.open_alerts(session, case_id=case.id)
    now = utcnow()
    for alert in alerts:
        alert.acknowledged_at = now
        alert.acknowledged_by = staff_id
    await session.flush()
    await _audit(session, actor=actor, action="alerts.acknowledged", case=case, alerts=len(alerts))
    return len(alerts)


# --- appointments --------------------------------------------------------------------------------------


async def mark_appointment(
    session: AsyncSession, *, case: Case, appointment: Appointment, status: str, staff_id: int, actor: str
) -> None:
    """Attended or no-show; the case's version moves on (a page made before it is stale)."""
    before = appointment.status
    appointments.mark(appointment, status=status, staff_id=staff_id, at=utcnow())
    await save_case(session, case)
    await _audit(
        session,
        actor=actor,
        action="appointment.marked",
        case=case,
        appointment=str(appointment.id),
        **{"from": before, "to": status},
    )


async def propose_time(
    session: AsyncSession,
    crypto: Crypto,
    *,
    case: Case,
    office: Office,
    appointment_type: str,
    starts_at: dt.datetime,
    replaces: Appointment | None,
    zone: zoneinfo.ZoneInfo,
    staff_id: int,
    actor: str,
    now: dt.datetime,
) -> AppointmentProposal | None:
    """Hold a seat of the slot and tell the person in their language, through the outbox, with
    Accept / Choose another time (its hold counted from `now`, the console's clock); None when the
    last seat went meanwhile."""
    proposal = await appointments.propose(
        session,
        case=case,
        office=office,
        appointment_type=appointment_type,
        starts_at=starts_at,
        replaces=replaces,
        staff_id=staff_id,
        token=secrets.token_urlsafe(proposals.TOKEN_BYTES),
        now=now,
    )
    if proposal is None:
        return None
    beneficiary = await casework.beneficiary_of(session, case=case)
    locale = locale_of(beneficiary.language, case.language)
    text, markup = proposals.proposal_message(
        locale=locale,
        token=proposal.token,
        appointment_type=appointment_type,
        office_name=appointments.office_name(office, locale),
        office_address=appointments.office_address(office, locale),
        starts_at=starts_at,
        zone=zone,
        moving=replaces.starts_at if replaces else None,
    )
    await enqueue(
        session, crypto, beneficiary_id=case.beneficiary_id, text=text, lane=Lane.REPLY, reply_markup=markup
    )
    await save_case(session, case)
    await _audit(
        session,
        actor=actor,
        action="appointment.proposed",
        case=case,
        proposal=str(proposal.id),
        office=office.id,
        type=appointment_type,
        starts_at=starts_at.isoformat(),
        replaces=str(replaces.id) if replaces else None,
    )
    return proposal


async def withdraw_proposal(
    session: AsyncSession,
    crypto: Crypto,
    *,
    case: Case,
    proposal: AppointmentProposal,
    zone: zoneinfo.ZoneInfo,
    actor: str,
) -> bool:
    """Take a pending proposal back: its seat is freed and the person is told; False when it was
    answered (or expired) meanwhile."""
    if not await appointments.withdraw_proposal(session, proposal=proposal, now=utcnow()):
        return False
    beneficiary = await casework.beneficiary_of(session, case=case)
    text = proposals.withdrawn_message(
        locale=locale_of(beneficiary.language, case.language),
        starts_at=proposal.appointment.starts_at,
        zone=zone,
    )
    await enqueue(session, crypto, beneficiary_id=case.beneficiary_id, text=text, lane=Lane.REPLY)
    await save_case(session, case)
    await _audit(
        session, actor=actor, action="appointment.proposal_withdrawn", case=case, proposal=str(proposal.id)
    )
    return True


# --- priority groups -----------------------------------------------------------------------------------


async def set_priority_groups(
    session: AsyncSession,
    crypto: Crypto,
    *,
    case: Case,
    groups: list[str],
    from_bot: set[str],
    user_id: int,
    user_name: str,
    actor: str,
) -> None:
    """The groups a caseworker recorded (sealed, as a form with its history); the case's clear
    flag follows them and what the bot knows. The audit counts the groups, never names them."""
    now = utcnow()
    await casework.add_form_response(
        session,
        crypto,
        case=case,
        form_id=priority.FORM_ID,
        form_version=priority.FORM_VERSION,
        answers={
            "groups": groups,
            "_caseworker_id": user_id,
            "_caseworker_name": user_name,
            "_at": now.isoformat(),
        },
        at=now,
    )
    case.priority = bool(groups or from_bot)
    await save_case(session, case)
    await _audit(session, actor=actor, action="priority.set", case=case, groups=len(groups))
