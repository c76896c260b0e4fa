"""Aggregate queries behind the figures dashboard and the exports.

Every figure is one GROUP BY (or one row of filtered counts) over its table: nothing per person
reaches Python. The filters apply to each figure through its case: language and channel are the
case's; the office is an office the case has an appointment at; the period is the figure's own
event time (cases: opened; appointments: start; handoffs: handoff; closures: closing; campaign
messages: queued; referrals: made; bot dialogs: the person's first contact).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from programme.cycle import ORDER, Stage
from programme.figures import DIALOG_STATES, DIALOG_STEPS, REPLY_BUCKETS, STALLED_AFTER_HOURS
from storage.crypto import Crypto
from storage.erasure import DELETION
from storage.models import Beneficiary, Case, DialogState, FormResponse, OutboxMessage, utcnow
from storage.models_appointments import Appointment, Office
from storage.models_casework import CaseClosure
from storage.models_figures import FullExport, Partner, Referral
from storage.models_journey import CaseMessage, Consent, DataRequest
from storage.models_plan import PlanNeed
from storage.sealing import unseal

SCREENING_FORMS = ("screening", "screening_confirmation")
ASSESSMENT_FORM = "initial_assessment"


@dataclasses.dataclass(frozen=True)
class FigureFilter:
    since: dt.datetime | None = None
    before: dt.datetime | None = None
    language: str | None = None
    channel: str | None = None
    office_id: int | None = None


def _period(column: Any, where: FigureFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.since is not None:
        conditions.append(column >= where.since)
    if where.before is not None:
        conditions.append(column < where.before)
    return conditions


def person_came_through(channel: str) -> ColumnElement[bool]:
    """People of a channel as the filter names it from cases' sources: a person who came without
    a channel's code has no source, and their case says "bot" (storage.journey.ensure_case)."""
    if channel == "bot":
        return Beneficiary.source.is_(None)
    return Beneficiary.source == channel


def case_conditions(where: FigureFilter, *, period_on: Any = Case.created_at) -> list[ColumnElement[bool]]:
    """The filters on cases; `period_on` is the figure's event time (None: no period)."""
    conditions: list[ColumnElement[bool]] = []
    if where.language:
        conditions.append(Case.language == where.language)
    if where.channel:
        conditions.append(Case.source == where.channel)
    if where.office_id is not None:
        visits = select(Appointment.case_id).where(Appointment.office_id == where.office_id)
        conditions.append(Case.id.in_(visits.scalar_subquery()))
    if period_on is not None:
        conditions.extend(_period(period_on, where))
    return conditions


# Two shapes of the same counts, each the faster on its engine (measured on 100,000 cases):
# PostgreSQL hash-joins one grouped subquery per table to the cases (a correlated EXISTS per case
# and step took three times as long); SQLite probes its indexes with one correlated EXISTS per case
# and step (its materialised subqueries and automatic indexes took half as long again).


@dataclasses.dataclass(frozen=True)
class FunnelSource:
    """Cases with their funnel facts joined: select from `joined`, count with `steps`."""

    joined: Any
    steps: dict[str, ColumnElement[bool]]


def funnel_source(session: AsyncSession) -> FunnelSource:
    if session.get_bind().dialect.name != "postgresql":
        return _probing_source()
    later = [
        value.value for value in ORDER[ORDER.index(Stage.INITIAL_ASSESSMENT) :] if value is not Stage.CLOSED
    ]
    forms = (
        select(
            FormResponse.case_id.label("case_id"),
            func.max(case((FormResponse.form_id.in_(SCREENING_FORMS), 1), else_=0)).label("screened"),
            func.max(case((FormResponse.form_id == ASSESSMENT_FORM, 1), else_=0)).label("assessed"),
        )
        .where(FormResponse.form_id.in_((*SCREENING_FORMS, ASSESSMENT_FORM)))
        .group_by(FormResponse.case_id)
        .subquery("forms")
    )
    consented = (
        select(Consent.case_id.label("case_id"))
        .where(Consent.casework.is_(True))
        .group_by(Consent.case_id)
        .subquery("consented")
    )
    planned = select(PlanNeed.case_id.label("case_id")).group_by(PlanNeed.case_id).subquery("planned")
    closed_late = (
        select(CaseClosure.case_id.label("case_id"))
        .where(CaseClosure.stage_before.in_(later))
        .group_by(CaseClosure.case_id)
        .subquery("closed_late")
    )
    joined = (
        Case.__table__.outerjoin(forms, forms.c.case_id == Case.id)
        .outerjoin(consented, consented.c.case_id == Case.id)
        .outerjoin(planned, planned.c.case_id == Case.id)
        .outerjoin(closed_late, closed_late.c.case_id == Case.id)
    )
    # The case is at the initial assessment or beyond, or was when it closed.
    confirmed = or_(
        Case.stage.in_(later), and_(Case.stage == Stage.CLOSED.value, closed_late.c.case_id.is_not(None))
    )
    steps = {
        "screened": or_(Case.provisionally_eligible.is_not(None), forms.c.screened == 1, confirmed),
        "provisionally_eligible": Case.provisionally_eligible.is_(True),
        "confirmed_eligible": confirmed,
        "assessed": forms.c.assessed == 1,
        "consented": consented.c.case_id.is_not(None),
        "plan": planned.c.case_id.is_not(None),
        "closed": Case.stage == Stage.CLOSED.value,
    }
    return FunnelSource(joined=joined, steps=steps)


def _probing_source() -> FunnelSource:
    assessment = ORDER.index(Stage.INITIAL_ASSESSMENT)
    later = [value.value for value in ORDER[assessment:] if value is not Stage.CLOSED]

    def has_form(*form_ids: str) -> ColumnElement[bool]:
        return exists().where(FormResponse.case_id == Case.id, FormResponse.form_id.in_(form_ids))

    closed_late = exists().where(CaseClosure.case_id == Case.id, CaseClosure.stage_before.in_(later))
    confirmed = or_(Case.stage.in_(later), and_(Case.stage == Stage.CLOSED.value, closed_late))
    steps = {
        "screened": or_(Case.provisionally_eligible.is_not(None), has_form(*SCREENING_FORMS), confirmed),
        "provisionally_eligible": Case.provisionally_eligible.is_(True),
        "confirmed_eligible": confirmed,
        "assessed": has_form(ASSESSMENT_FORM),
        "consented": exists().where(Consent.case_id == Case.id, Consent.casework.is_(True)),
        "plan": exists().where(PlanNeed.case_id == Case.id),
        "closed": Case.stage == Stage.CLOSED.value,
    }
    return FunnelSource(joined=Case.__table__, steps=steps)


def month_of(session: AsyncSession, column: Any) -> ColumnElement[str]:
    """YYYY-MM of a UTC time column, on either engine."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.substr(column, 1, 7)


def _seconds_between(session: AsyncSession, later: Any, earlier: Any) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


GROUPS = ("language", "channel", "month")


async def funnel(
    session: AsyncSession, *, where: FigureFilter, group: str | None = None
) -> dict[str | None, dict[str, int]]:
    """Cases reaching each funnel step: {group value: {step: count}} (group None: one row, key None)."""
    source = funnel_source(session)
    steps = source.steps
    key: ColumnElement[Any] | None = None
    if group == "language":
        key = Case.language
    elif group == "channel":
        key = Case.source
    elif group == "month":
        key = month_of(session, Case.created_at)
    columns = [func.count().filter(condition) for condition in steps.values()]
    statement = (
        select(*([key] if key is not None else []), *columns)
        .select_from(source.joined)
        .where(*case_conditions(where))
    )
    if key is not None:
        statement = statement.group_by(key).order_by(key)
    found: dict[str | None, dict[str, int]] = {}
    for row in (await session.execute(statement)).all():
        values = list(row)
        label = values.pop(0) if key is not None else None
        found[label] = {step: int(count or 0) for step, count in zip(steps, values, strict=True)}
    if key is None and None not in found:
        found[None] = dict.fromkeys(steps, 0)
    return found


async def dialog_dropoff(session: AsyncSession, *, where: FigureFilter) -> dict[str, int]:
    """People whose bot dialog has rested at one of the steps before the main menu for longer
    than STALLED_AFTER_HOURS: where they stopped. Counted from the dialog state the bot keeps
    (its current step only, no history, nothing of what was answered)."""
    step_of = {state: step for step, _ in DIALOG_STEPS for state in DIALOG_STATES[step]}
    conditions = [
        DialogState.state.in_(list(step_of)),
        DialogState.updated_at < utcnow() - dt.timedelta(hours=STALLED_AFTER_HOURS),
        *_period(Beneficiary.created_at, where),
    ]
    if where.language:
        conditions.append(Beneficiary.language == where.language)
    if where.channel:
        conditions.append(person_came_through(where.channel))
    statement = (
        select(DialogState.state, func.count())
        .join(Beneficiary, Beneficiary.id == DialogState.id)
        .where(*conditions)
        .group_by(DialogState.state)
    )
    counts = dict.fromkeys((step for step, _ in DIALOG_STEPS), 0)
    for state, count in (await session.execute(statement)).all():
        counts[step_of[str(state)]] += int(count)
    return counts


@dataclasses.dataclass(frozen=True)
class ReplyTimes:
    buckets: dict[str, int]
    # Mean hours to the first reply over the answered handoffs (None: none answered).
    mean_hours: float | None
    answered: int


async def first_replies(session: AsyncSession, *, where: FigureFilter) -> ReplyTimes:
    """Handoffs (period on the handoff) by the time until a caseworker's first message after it."""
    first = (
        select(CaseMessage.case_id.label("case_id"), func.min(CaseMessage.created_at).label("at"))
        .join(Case, Case.id == CaseMessage.case_id)
        .where(
            # Only the console writes to the person on the case conversation.
            CaseMessage.direction == "out",
            Case.handoff_at.is_not(None),
            CaseMessage.created_at >= Case.handoff_at,
        )
        .group_by(CaseMessage.case_id)
        .subquery()
    )
    waited = _seconds_between(session, first.c.at, Case.handoff_at)
    bucket_columns = []
    lower: int | None = None
    for _, _, upper in REPLY_BUCKETS:
        conditions = [first.c.at.is_not(None)]
        if lower is not None:
            conditions.append(waited >= lower)
        if upper is not None:
            conditions.append(waited < upper)
        bucket_columns.append(func.count().filter(and_(*conditions)))
        lower = upper
    statement = (
        select(
            *bucket_columns,
            func.count().filter(first.c.at.is_(None)),
            func.avg(case((first.c.at.is_not(None), waited))),
            func.count(first.c.at),
        )
        .select_from(Case)
        .outerjoin(first, first.c.case_id == Case.id)
        .where(Case.handoff_at.is_not(None), *case_conditions(where, period_on=Case.handoff_at))
    )
    row = list((await session.execute(statement)).one())
    buckets = {key: int(row[index] or 0) for index, (key, _, _) in enumerate(REPLY_BUCKETS)}
    buckets["none"] = int(row[len(REPLY_BUCKETS)] or 0)
    mean = row[len(REPLY_BUCKETS) + 1]
    return ReplyTimes(
        buckets=buckets,
        mean_hours=None if mean is None else float(mean) / 3600,
        answered=int(row[-1] or 0),
    )


async def attendance(session: AsyncSession, *, where: FigureFilter) -> dict[str, int]:
    """Appointments by status, period on their start; the office filter is the appointment's."""
    conditions = [*case_conditions(where, period_on=None), *_period(Appointment.starts_at, where)]
    if where.office_id is not None:
        conditions.append(Appointment.office_id == where.office_id)
    statement = (
        select(Appointment.status, func.count())
        .join(Case, Case.id == Appointment.case_id)
        .where(*conditions)
        .group_by(Appointment.status)
    )
    return {str(status): int(count) for status, count in (await session.execute(statement)).all()}


@dataclasses.dataclass(frozen=True)
class Delivery:
    campaigns: int
    # (outbox status, error) → messages; the console classifies them as the campaigns' own figures do.
    outcomes: dict[tuple[str, str | None], int]


async def campaign_delivery(session: AsyncSession, *, where: FigureFilter) -> Delivery:
    """Broadcast messages (outbox rows with a campaign) by status and error. The language is the
    one each message was rendered in, the channel the recipient's; a campaign goes to people, not
    cases, so the office filter does not apply."""
    conditions = [OutboxMessage.campaign_id.is_not(None), *_period(OutboxMessage.created_at, where)]
    if where.language:
        conditions.append(OutboxMessage.language == where.language)
    if where.channel:
        conditions.append(person_came_through(where.channel))
    statement = (
        select(OutboxMessage.status, OutboxMessage.error, func.count())
        .join(Beneficiary, Beneficiary.id == OutboxMessage.beneficiary_id)
        .where(*conditions)
        .group_by(OutboxMessage.status, OutboxMessage.error)
    )
    rows = (await session.execute(statement)).all()
    campaigns_statement = (
        select(func.count(func.distinct(OutboxMessage.campaign_id)))
        .join(Beneficiary, Beneficiary.id == OutboxMessage.beneficiary_id)
        .where(*conditions)
    )
    campaigns = int((await session.execute(campaigns_statement)).scalar_one() or 0)
    return Delivery(
        campaigns=campaigns,
        outcomes={(str(status), error): int(count) for status, error, count in rows},
    )


async def closing_reasons(session: AsyncSession, *, where: FigureFilter) -> dict[str, int]:
    """Closed cases by termination reason (their current closing; period on the closing)."""
    statement = (
        select(CaseClosure.reason, func.count())
        .join(Case, Case.id == CaseClosure.case_id)
        .where(
            Case.stage == Stage.CLOSED.value,
            CaseClosure.reopened_at.is_(None),
            *case_conditions(where, period_on=CaseClosure.closed_at),
        )
        .group_by(CaseClosure.reason)
    )
    return {str(reason): int(count) for reason, count in (await session.execute(statement)).all()}


async def referrals_by_partner(session: AsyncSession, *, where: FigureFilter) -> dict[int, dict[str, int]]:
    """Referrals (period on when they were made) by partner and status: {partner id: {status: n}}."""
    statement = (
        select(Referral.partner_id, Referral.status, func.count())
        .join(Case, Case.id == Referral.case_id)
        .where(*case_conditions(where, period_on=Referral.created_at))
        .group_by(Referral.partner_id, Referral.status)
    )
    found: dict[int, dict[str, int]] = {}
    for partner_id, status, count in (await session.execute(statement)).all():
        found.setdefault(int(partner_id), {})[str(status)] = int(count)
    return found


async def filter_choices(session: AsyncSession) -> tuple[list[str], list[str], list[Office]]:
    """Languages and channels the cases have, and the offices, for the filter form."""
    languages = (
        await session.execute(select(Case.language).where(Case.language.is_not(None)).distinct())
    ).scalars()
    channels = (await session.execute(select(Case.source).distinct())).scalars()
    offices = (await session.execute(select(Office).order_by(Office.name))).scalars().all()
    return sorted(str(code) for code in languages), sorted(str(code) for code in channels), list(offices)


async def partners_named(session: AsyncSession, *, ids: Sequence[int]) -> dict[int, Partner]:
    if not ids:
        return {}
    statement = select(Partner).where(Partner.id.in_(set(ids)))
    return {partner.id: partner for partner in (await session.execute(statement)).scalars()}


@dataclasses.dataclass(frozen=True)
class Dashboard:
    """Every count the figures dashboard shows, unmasked: the console masks and labels them."""

    funnel: dict[str, int]
    # The funnel by the chosen breakdown: {group value: {step: count}}.
    grouped: dict[str | None, dict[str, int]]
    dropoff: dict[str, int]
    replies: ReplyTimes
    attendance: dict[str, int]
    delivery: Delivery
    closings: dict[str, int]
    referrals: dict[int, dict[str, int]]
    partners: dict[int, Partner]


async def dashboard(session: AsyncSession, *, where: FigureFilter, group: str) -> Dashboard:
    """The dashboard's figures under one filter, the funnel also by `group` (one of GROUPS)."""
    referrals = await referrals_by_partner(session, where=where)
    return Dashboard(
        funnel=(await funnel(session, where=where))[None],
        grouped=await funnel(session, where=where, group=group),
        dropoff=await dialog_dropoff(session, where=where),
        replies=await first_replies(session, where=where),
        attendance=await attendance(session, where=where),
        delivery=await campaign_delivery(session, where=where),
        closings=await closing_reasons(session, where=where),
        referrals=referrals,
        partners=await partners_named(session, ids=list(referrals)),
    )


# --- case rows for the exports --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CaseRow:
    """One case as an export shows it: codes and facts, nothing that names or describes the person."""

    id: uuid.UUID
    beneficiary_id: uuid.UUID
    code: str
    stage: str
    language: str | None
    channel: str
    opened: dt.datetime
    steps: dict[str, bool]
    closing_reason: str | None


async def case_rows(session: AsyncSession, *, where: FigureFilter, limit: int) -> list[CaseRow]:
    """Cases under the filters, oldest first, with their funnel steps computed in the same query."""
    source = funnel_source(session)
    steps = source.steps
    reason = (
        select(CaseClosure.reason)
        .where(CaseClosure.case_id == Case.id, CaseClosure.reopened_at.is_(None))
        .order_by(CaseClosure.closed_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    statement = (
        select(
            Case.id,
            Case.beneficiary_id,
            Case.code,
            Case.stage,
            Case.language,
            Case.source,
            Case.created_at,
            case((Case.stage == Stage.CLOSED.value, reason), else_=literal(None)),
            *(case((condition, True), else_=False) for condition in steps.values()),
        )
        .select_from(source.joined)
        .where(*case_conditions(where))
        .order_by(Case.created_at, Case.code)
        .limit(limit)
    )
    rows = []
    for row in (await session.execute(statement)).all():
        values = list(row)
        rows.append(
            CaseRow(
                id=values[0],
                beneficiary_id=values[1],
                code=values[2],
                stage=values[3],
                language=values[4],
                channel=values[5],
                opened=values[6],
                closing_reason=values[7],
                steps={step: bool(flag) for step, flag in zip(steps, values[8:], strict=True)},
            )
        )
    return rows


async def left_out_of_named_exports(
    session: AsyncSession, *, beneficiary_ids: set[uuid.UUID]
) -> set[uuid.UUID]:
    """Of these people, those a full (named) export must leave out: they stopped taking part
    (withdrew their consent) or asked for their data to be erased, whatever became of the request."""
    if not beneficiary_ids:
        return set()
    withdrawn = select(Beneficiary.id).where(
        Beneficiary.id.in_(beneficiary_ids), Beneficiary.withdrawn_at.is_not(None)
    )
    erasure = select(DataRequest.beneficiary_id).where(
        DataRequest.beneficiary_id.in_(beneficiary_ids), DataRequest.kind == DELETION
    )
    return set((await session.execute(withdrawn.union(erasure))).scalars())


async def identities(
    session: AsyncSession, crypto: Crypto, *, beneficiary_ids: set[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, str]]:
    """Each person's name and phone, decrypted, for a full export: {beneficiary id: (name, phone)}."""
    if not beneficiary_ids:
        return {}
    statement = select(Beneficiary).where(Beneficiary.id.in_(beneficiary_ids))
    return {
        person.id: (unseal(crypto, person, "name_enc") or "", unseal(crypto, person, "phone_enc") or "")
        for person in (await session.execute(statement)).scalars()
    }


async def drop_expired_exports(session: AsyncSession, *, now: dt.datetime) -> None:
    """Delete the full export archives whose time is up."""
    await session.execute(delete(FullExport).where(FullExport.expires_at <= now))
