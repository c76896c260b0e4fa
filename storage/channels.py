"""Queries of outreach channels: the list, one channel, making and changing them, and their figures."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Case
from storage.models_channels import Channel
from storage.models_journey import Consent


@dataclasses.dataclass(frozen=True, slots=True)
class ChannelFigures:
    """Counts of one channel's cases (see figures())."""

    applicants: int = 0
    provisionally_eligible: int = 0
    enrolled: int = 0


async def all_channels(session: AsyncSession) -> Sequence[Channel]:
    statement = select(Channel).order_by(Channel.active.desc(), Channel.name, Channel.id)
    return (await session.execute(statement)).scalars().all()


async def find_channel(session: AsyncSession, *, channel_id: int) -> Channel | None:
    return await session.get(Channel, channel_id)


async def find_by_code(session: AsyncSession, *, code: str) -> Channel | None:
    return (await session.execute(select(Channel).where(Channel.code == code))).scalar_one_or_none()


async def known_code(session: AsyncSession, *, code: str) -> bool:
    """Whether a deep link's code is one of ours (deactivated channels included: their flyers are out)."""
    statement = select(Channel.id).where(Channel.code == code)
    return (await session.execute(statement)).first() is not None


async def code_taken(session: AsyncSession, *, code: str) -> bool:
    """Codes differing only in case would be one code to a person typing a link: they count as taken."""
    statement = select(Channel.id).where(func.lower(Channel.code) == code.lower())
    return (await session.execute(statement)).first() is not None


async def figures(session: AsyncSession, *, codes: Sequence[str]) -> dict[str, ChannelFigures]:
    """Per channel code: applicants (cases opened from it), provisionally eligible (the bot's
    screening result), enrolled (a current Annex 4 consent to case work, which the cycle requires
    before intervention planning). One grouped query; codes without cases get zeros."""
    if not codes:
        return {}
    consented = and_(Consent.case_id == Case.id, Consent.superseded_at.is_(None), Consent.casework.is_(True))
    statement = (
        select(
            Case.source,
            func.count(Case.id.distinct()),
            func.count(case((Case.provisionally_eligible.is_(True), Case.id)).distinct()),
            func.count(Consent.case_id.distinct()),
        )
        .outerjoin(Consent, consented)
        .where(Case.source.in_(codes))
        .group_by(Case.source)
    )
    found = {
        source: ChannelFigures(applicants, eligible, enrolled)
        for source, applicants, eligible, enrolled in (await session.execute(statement)).all()
    }
    return {code: found.get(code, ChannelFigures()) for code in codes}
