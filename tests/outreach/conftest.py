"""The sender's test bench: a sandbox, its phone, a bot, recipients, and a dedicated database."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiogram import Bot
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot
from outreach.outbox import FINAL, Lane, enqueue
from outreach.sender import Sender
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage.crypto import Crypto
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.models import OutboxMessage
from storage.queries import get_or_create_beneficiary
from tests.conftest import POSTGRES_URL, Database

TOKEN = "5151515151:" + "B" * 35
BOT_ID = 5151515151


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    async with SandboxServer() as server:
        yield server


@pytest.fixture
async def phone(sandbox: SandboxServer) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(sandbox.url, BOT_ID) as client:
        yield client


@pytest.fixture
async def bot(sandbox: SandboxServer) -> AsyncIterator[Bot]:
    bot = create_bot(TOKEN, sandbox.url)
    await bot.get_me()  # makes the sandbox know the bot
    yield bot
    await bot.session.close()


async def recipients(
    phone: SandboxClient, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, count: int
) -> list[tuple[int, uuid.UUID]]:
    users: list[int] = []
    for start in range(0, count, 100):
        users += await asyncio.gather(*(phone.create_user() for _ in range(min(100, count - start))))
    people = []
    async with sessionmaker() as session, session.begin():
        for user in users:
            beneficiary = await get_or_create_beneficiary(session, crypto, telegram_id=user)
            people.append((user, beneficiary.id))
    return people


async def queue(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    beneficiary_ids: list[uuid.UUID],
    lane: Lane = Lane.REPLY,
    campaign_id: uuid.UUID | None = None,
) -> None:
    async with sessionmaker() as session, session.begin():
        for n, beneficiary_id in enumerate(beneficiary_ids):
            enqueue(
                session,
                crypto,
                beneficiary_id=beneficiary_id,
                text=f"Notice {n}",
                lane=lane,
                campaign_id=campaign_id,
            )


async def unsettled(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return (
            await session.execute(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.not_in(FINAL))
            )
        ).scalar_one()


async def _none_unsettled(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    return await unsettled(sessionmaker) == 0


async def until(
    condition: Callable[[], Awaitable[Any]],
    within: float = 30,
    every: float = 0.05,
) -> Any:
    """Poll `condition` until it gives something true, and return that (state in other processes)."""
    async with asyncio.timeout(within):
        while True:
            if result := await condition():
                return result
            await asyncio.sleep(every)


async def drain(sender: Sender, sessionmaker: async_sessionmaker[AsyncSession], within: float = 30) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    try:
        await until(lambda: _none_unsettled(sessionmaker), within)
    finally:
        stop.set()
        await running


async def send_times(phone: SandboxClient) -> list[float]:
    return [
        entry["t"] for entry in await phone.call_log() if entry["method"] == "sendMessage" and entry["ok"]
    ]


async def copies_per_chat(phone: SandboxClient) -> collections.Counter[int]:
    """How many messages each chat got, from the sandbox's log of accepted calls."""
    return collections.Counter(
        entry["chat_id"]
        for entry in await phone.call_log()
        if entry["method"] == "sendMessage" and entry["ok"]
    )


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    most, first = 0, 0
    for last, t in enumerate(times):
        while times[first] <= t - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def _admin() -> asyncpg.Connection:
    url = make_url(POSTGRES_URL)
    return await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password, database=url.database
    )


@contextlib.asynccontextmanager
async def dedicated_database(database: Database, directory: Path) -> AsyncIterator[str]:
    """A database of its own at the newest schema, for child processes; yields its URL."""
    if database.backend == "sqlite":
        url = f"sqlite+aiosqlite:///{directory / f'child-{secrets.token_hex(4)}.db'}"
        await _migrate(url)
        yield url
        return
    name = f"intake_test_{secrets.token_hex(4)}"
    admin = await _admin()
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        await _migrate(url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
