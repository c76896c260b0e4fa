"""The caseworker's daily digest: plan activities of their open cases due today or overdue."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Case
from storage.models_plan import PlanActivity

# Activities still to be done; done and cancelled ones are never due.
OPEN_STATUSES = ("planned", "in_progress")


@dataclass(frozen=True, slots=True)
class DueActivity:
    """What the digest shows of an activity: no sealed text, so reading it reads no personal data."""

    activity_id: uuid.UUID
    case_code: str
    service_area: str
    due_on: dt.date
    status: str


async def due_activities(
    session: AsyncSession, *, staff_id: int, today: dt.date, limit: int = 100
) -> list[DueActivity]:
    """The open activities due by `today` in the open cases assigned to `staff_id`, oldest first."""
    statement = (
        select(
            PlanActivity.id, Case.code, PlanActivity.service_area, PlanActivity.due_on, PlanActivity.status
        )
        .join(Case, Case.id == PlanActivity.case_id)
        .where(
            Case.assigned_to == staff_id,
            Case.stage != "closed",
            PlanActivity.due_on <= today,
            PlanActivity.status.in_(OPEN_STATUSES),
        )
        .order_by(PlanActivity.due_on, Case.code)
        .limit(limit)
    )
    return [DueActivity(*row) for row in (await session.execute(statement)).all()]
