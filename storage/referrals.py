"""Query functions (keyword-only arguments) for referrals of plan activities to partners."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models_figures import Partner, Referral


async def all_partners(session: AsyncSession) -> Sequence[Partner]:
    """Every partner, active or not (a referral keeps its partner's name), by service area and name."""
    statement = select(Partner).order_by(Partner.service_area, Partner.name)
    return (await session.execute(statement)).scalars().all()


async def partner(session: AsyncSession, *, partner_id: str) -> Partner | None:
    """The partner of an id as a form sends it; None for one that is not a number or not known."""
    if not partner_id.isdigit() or len(partner_id) >= 10:
        return None
    return await session.get(Partner, int(partner_id))


async def case_referrals(session: AsyncSession, *, case_id: uuid.UUID) -> Sequence[Referral]:
    """A case's referrals, oldest first."""
    statement = select(Referral).where(Referral.case_id == case_id).order_by(Referral.created_at, Referral.id)
    return (await session.execute(statement)).scalars().all()


async def find_referral(
    session: AsyncSession, *, case_id: uuid.UUID, referral_id: uuid.UUID
) -> Referral | None:
    statement = select(Referral).where(Referral.id == referral_id, Referral.case_id == case_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def open_referral_exists(
    session: AsyncSession, *, activity_id: uuid.UUID, partner_id: int, open_statuses: Iterable[str]
) -> bool:
    """Whether the activity is already referred to the partner in a referral still open."""
    statement = select(Referral.id).where(
        Referral.activity_id == activity_id,
        Referral.partner_id == partner_id,
        Referral.status.in_(list(open_statuses)),
    )
    return (await session.execute(statement)).first() is not None
