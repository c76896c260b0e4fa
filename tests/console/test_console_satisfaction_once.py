"""The question after a case closes, from the side that must not happen: never asked of someone who
withdrew (closed with reason 1), and never asked twice, even when the case is reopened and closed
again. What the person reads and taps is tested with the real bot (tests/bot/test_feedback.py)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseworker_console import casework as work
from programme.cycle import TerminationReason
from storage import staff
from storage.crypto import Crypto
from storage.models import Case, OutboxMessage, utcnow
from storage.models_feedback import SatisfactionPrompt
from tests.bot.test_appointments import new_case


async def asked(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """(questions recorded, messages queued for the person)."""
    async with sessionmaker() as session:
        prompts = await session.scalar(select(func.count()).select_from(SatisfactionPrompt))
        queued = await session.scalar(select(func.count()).select_from(OutboxMessage))
    return prompts or 0, queued or 0


async def close(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, reason: str) -> None:
    async with sessionmaker() as session, session.begin():
        case = (await session.execute(select(Case))).scalar_one()
        await work.close(session, crypto, case=case, reason=reason, details=None, staff_id=None, actor="t")


async def test_someone_who_withdrew_is_never_asked(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    async with sessionmaker() as session, session.begin():
        await new_case(session, crypto, 4242)
    await close(sessionmaker, crypto, TerminationReason.WITHDREW)
    assert await asked(sessionmaker) == (0, 0)


async def test_a_case_closed_reopened_and_closed_again_is_asked_once(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    async with sessionmaker() as session, session.begin():
        await new_case(session, crypto, 4343)
        leyla = await staff.add_user(
            session,
            username="leyla",
            password_hash="x",
            role="caseworker",
            display_name="Leyla",
            language="en",
            at=utcnow(),
        )
    await close(sessionmaker, crypto, TerminationReason.GOALS_REACHED)
    assert await asked(sessionmaker) == (1, 1)
    async with sessionmaker() as session, session.begin():
        case = (await session.execute(select(Case))).scalar_one()
        await work.reopen(session, crypto, case=case, staff_id=leyla.id, actor=f"staff:{leyla.id}")
    await close(sessionmaker, crypto, TerminationReason.OTHER_INSTITUTION)
    assert await asked(sessionmaker) == (1, 1)
