"""The real bot notes when a person was last active (the retention purge and the campaigns' "last
active" filter read it): an update moves it on, and it is written at most once a minute."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sandbox.client import SandboxClient
from storage.models import Beneficiary, ProcessedUpdate

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
# A time the clock has not reached: "now" is less than a minute after it, as just after a write.
NOT_YET = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


async def send(phone: SandboxClient, sessionmaker: async_sessionmaker[AsyncSession], user: int) -> None:
    """A message from the person, waited for until the bot has committed its handling."""
    update_id = await phone.send_text(user, "/help")
    async with asyncio.timeout(10):
        while True:
            async with sessionmaker() as session:
                done = await session.scalar(
                    select(func.count())
                    .select_from(ProcessedUpdate)
                    .where(ProcessedUpdate.update_id == update_id)
                )
            if done:
                return
            await asyncio.sleep(0.05)


async def set_last_active(sessionmaker: async_sessionmaker[AsyncSession], at: dt.datetime) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Beneficiary).values(last_active_at=at))


async def last_active(sessionmaker: async_sessionmaker[AsyncSession]) -> dt.datetime:
    async with sessionmaker() as session:
        return (await session.execute(select(Beneficiary.last_active_at))).scalar_one()


async def test_an_update_moves_last_active_on_at_most_once_a_minute(
    phone: SandboxClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await phone.create_user()
    await send(phone, sessionmaker, user)

    await set_last_active(sessionmaker, LONG_AGO)
    await send(phone, sessionmaker, user)
    assert await last_active(sessionmaker) > LONG_AGO

    await set_last_active(sessionmaker, NOT_YET)
    await send(phone, sessionmaker, user)
    assert await last_active(sessionmaker) == NOT_YET
