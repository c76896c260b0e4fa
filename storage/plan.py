"""Query functions (keyword-only arguments) for the integration plan; free text is sealed here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import person_keys
from storage.crypto import Crypto
from storage.models import Case
from storage.models_figures import Partner, Referral
from storage.models_plan import PlanActivity, PlanGoal, PlanNeed, PlanReview
from storage.sealing import seal, unseal


@dataclasses.dataclass(frozen=True)
class Plan:
    """A case's whole plan as stored, rows in their order (needs by rank, the rest by creation)."""

    needs: Sequence[PlanNeed]
    goals: Sequence[PlanGoal]
    activities: Sequence[PlanActivity]
    reviews: Sequence[PlanReview]


def _agreed(
    row: PlanNeed | PlanGoal | PlanActivity | PlanReview, *, staff_id: int, at: dt.datetime, via: str | None
) -> None:
    row.agreed = True
    row.agreed_via = via
    row.changed_by = staff_id
    row.changed_at = at


async def load_plan(session: AsyncSession, *, case_id: uuid.UUID) -> Plan:
    needs = select(PlanNeed).where(PlanNeed.case_id == case_id).order_by(PlanNeed.rank, PlanNeed.created_at)
    goals = select(PlanGoal).where(PlanGoal.case_id == case_id).order_by(PlanGoal.created_at, PlanGoal.id)
    activities = (
        select(PlanActivity)
        .where(PlanActivity.case_id == case_id)
        .order_by(PlanActivity.due_on.is_(None), PlanActivity.due_on, PlanActivity.created_at)
    )
    reviews = (
        select(PlanReview)
        .where(PlanReview.case_id == case_id)
        .order_by(PlanReview.reviewed_on.desc(), PlanReview.changed_at.desc())
    )
    return Plan(
        needs=(await session.execute(needs)).scalars().all(),
        goals=(await session.execute(goals)).scalars().all(),
        activities=(await session.execute(activities)).scalars().all(),
        reviews=(await session.execute(reviews)).scalars().all(),
    )


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


Entry = TypeVar("Entry", PlanNeed, PlanGoal, PlanActivity)


async def _of_case(session: AsyncSession, model: type[Entry], *, case: Case, entry_id: str) -> Entry | None:
    """One of the case's plan entries by id; None for anything else (another case's, or not an id)."""
    wanted = _uuid(entry_id)
    if wanted is None:
        return None
    statement = select(model).where(model.id == wanted, model.case_id == case.id)
    return (await session.execute(statement)).scalar_one_or_none()


async def find_need(session: AsyncSession, *, case: Case, need_id: str) -> PlanNeed | None:
    return await _of_case(session, PlanNeed, case=case, entry_id=need_id)


async def find_goal(session: AsyncSession, *, case: Case, goal_id: str) -> PlanGoal | None:
    return await _of_case(session, PlanGoal, case=case, entry_id=goal_id)


async def find_activity(session: AsyncSession, *, case: Case, activity_id: str) -> PlanActivity | None:
    return await _of_case(session, PlanActivity, case=case, entry_id=activity_id)


async def add_need(
    session: AsyncSession, crypto: Crypto, *, case: Case, text: str, staff_id: int, at: dt.datetime, via: str
) -> PlanNeed:
    """A new need, least urgent until the needs are put in order."""
    last = (
        await session.execute(select(func.max(PlanNeed.rank)).where(PlanNeed.case_id == case.id))
    ).scalar_one_or_none()
    need = PlanNeed(case_id=case.id, rank=(last or 0) + 1, created_at=at)
    await person_keys.load_for_case(session, crypto, need.case_id)
    seal(crypto, need, "text_enc", text)
    _agreed(need, staff_id=staff_id, at=at, via=via)
    session.add(need)
    await session.flush()
    return need


async def set_need_order(
    session: AsyncSession, *, needs: Sequence[PlanNeed], staff_id: int, at: dt.datetime, via: str
) -> int:
    """Rank the needs 1… in the given order; how many changed rank."""
    changed = 0
    for rank, need in enumerate(needs, start=1):
        if need.rank != rank:
            need.rank = rank
            _agreed(need, staff_id=staff_id, at=at, via=via)
            changed += 1
    await session.flush()
    return changed


async def add_goal(
    session: AsyncSession,
    crypto: Crypto,
    *,
    case: Case,
    need: PlanNeed,
    term: str,
    text: str,
    staff_id: int,
    at: dt.datetime,
    via: str,
) -> PlanGoal:
    goal = PlanGoal(case_id=case.id, need_id=need.id, term=term, created_at=at)
    await person_keys.load_for_case(session, crypto, goal.case_id)
    seal(crypto, goal, "text_enc", text)
    _agreed(goal, staff_id=staff_id, at=at, via=via)
    session.add(goal)
    await session.flush()
    return goal


async def add_activity(
    session: AsyncSession,
    crypto: Crypto,
    *,
    case: Case,
    goal: PlanGoal,
    text: str,
    service_area: str,
    due_on: dt.date | None,
    who: str | None,
    status: str,
    staff_id: int,
    at: dt.datetime,
    via: str,
) -> PlanActivity:
    activity = PlanActivity(
        case_id=case.id,
        goal_id=goal.id,
        service_area=service_area,
        due_on=due_on,
        status=status,
        created_at=at,
    )
    await person_keys.load_for_case(session, crypto, activity.case_id)
    seal(crypto, activity, "text_enc", text)
    seal(crypto, activity, "who_enc", who or None)
    _agreed(activity, staff_id=staff_id, at=at, via=via)
    session.add(activity)
    await session.flush()
    return activity


async def set_activity_status(
    session: AsyncSession, *, activity: PlanActivity, status: str, staff_id: int, at: dt.datetime, via: str
) -> None:
    activity.status = status
    _agreed(activity, staff_id=staff_id, at=at, via=via)
    await session.flush()


async def add_review(
    session: AsyncSession,
    crypto: Crypto,
    *,
    case: Case,
    reviewed_on: dt.date,
    note: str,
    staff_id: int,
    at: dt.datetime,
    via: str,
) -> PlanReview:
    review = PlanReview(case_id=case.id, reviewed_on=reviewed_on)
    await person_keys.load_for_case(session, crypto, review.case_id)
    seal(crypto, review, "note_enc", note)
    _agreed(review, staff_id=staff_id, at=at, via=via)
    session.add(review)
    await session.flush()
    return review


def text_of(crypto: Crypto, row: PlanNeed | PlanGoal | PlanActivity | PlanReview, column: str) -> str:
    return unseal(crypto, row, column) or ""


async def edit_need(
    session: AsyncSession,
    crypto: Crypto,
    *,
    need: PlanNeed,
    text: str,
    staff_id: int,
    at: dt.datetime,
    via: str,
) -> None:
    await person_keys.load_for_case(session, crypto, need.case_id)
    seal(crypto, need, "text_enc", text)
    _agreed(need, staff_id=staff_id, at=at, via=via)
    await session.flush()


async def edit_goal(
    session: AsyncSession,
    crypto: Crypto,
    *,
    goal: PlanGoal,
    term: str,
    text: str,
    staff_id: int,
    at: dt.datetime,
    via: str,
) -> None:
    goal.term = term
    await person_keys.load_for_case(session, crypto, goal.case_id)
    seal(crypto, goal, "text_enc", text)
    _agreed(goal, staff_id=staff_id, at=at, via=via)
    await session.flush()


async def edit_activity(
    session: AsyncSession,
    crypto: Crypto,
    *,
    activity: PlanActivity,
    text: str,
    service_area: str,
    due_on: dt.date | None,
    who: str | None,
    status: str,
    staff_id: int,
    at: dt.datetime,
    via: str,
) -> None:
    activity.service_area = service_area
    activity.due_on = due_on
    activity.status = status
    await person_keys.load_for_case(session, crypto, activity.case_id)
    seal(crypto, activity, "text_enc", text)
    seal(crypto, activity, "who_enc", who or None)
    _agreed(activity, staff_id=staff_id, at=at, via=via)
    await session.flush()


async def has_referrals(
    session: AsyncSession, *, activities: Sequence[uuid.UUID] = (), goals: Sequence[uuid.UUID] = ()
) -> bool:
    """Whether a referral to a partner was made from one of these activities, or from an activity
    of these goals: removing them would take the referral's record with it."""
    under_goals = select(PlanActivity.id).where(PlanActivity.goal_id.in_(list(goals)))
    statement = select(Referral.id).where(
        Referral.activity_id.in_(list(activities)) | Referral.activity_id.in_(under_goals)
    )
    return (await session.execute(statement.limit(1))).first() is not None


async def delete_activity(session: AsyncSession, *, activity: PlanActivity) -> None:
    await session.delete(activity)
    await session.flush()


async def delete_goal(session: AsyncSession, *, goal: PlanGoal) -> list[str]:
    """Delete a goal with its activities; the ids of the activities deleted with it."""
    activities = (
        (await session.execute(select(PlanActivity).where(PlanActivity.goal_id == goal.id))).scalars().all()
    )
    for activity in activities:
        await session.delete(activity)
    await session.delete(goal)
    await session.flush()
    return [str(activity.id) for activity in activities]


async def delete_need(session: AsyncSession, *, need: PlanNeed) -> tuple[list[str], list[str]]:
    """Delete a need with its goals and their activities, and close the gap in the ranks; the ids
    of the goals and activities deleted with it."""
    goals = (await session.execute(select(PlanGoal).where(PlanGoal.need_id == need.id))).scalars().all()
    goal_ids: list[str] = []
    activity_ids: list[str] = []
    for goal in goals:
        activity_ids += await delete_goal(session, goal=goal)
        goal_ids.append(str(goal.id))
    case_id, rank = need.case_id, need.rank
    await session.delete(need)
    await session.flush()
    later = select(PlanNeed).where(PlanNeed.case_id == case_id, PlanNeed.rank > rank)
    for other in (await session.execute(later)).scalars().all():
        other.rank -= 1
    await session.flush()
    return goal_ids, activity_ids


async def case_referrals(session: AsyncSession, *, case_id: uuid.UUID) -> list[tuple[Referral, str]]:
    """A case's referrals, oldest first, each with its partner's name (for the person's own copy)."""
    statement = (
        select(Referral, Partner.name)
        .join(Partner, Partner.id == Referral.partner_id)
        .where(Referral.case_id == case_id)
        .order_by(Referral.created_at, Referral.id)
    )
    return [(referral, name) for referral, name in (await session.execute(statement)).all()]
