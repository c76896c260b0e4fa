"""The sender's test bench: a sandbox, its phone, a bot, recipients, and a dedicated database."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import os
import re
import secrets
import signal
import sys
import uuid
import zoneinfo
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiogram import Bot
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot
from outreach.campaign_worker import CampaignWorker
from outreach.sender import Sender
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage import person_keys
from storage.crypto import Crypto
from storage.engine import create_engine, create_sessionmaker
from storage.migrate import upgrade
from storage.models import Beneficiary, OutboxMessage
from storage.outbox import FINAL, Lane, Status, enqueue
from storage.queries import TELEGRAM_PURPOSE
from storage.sealing import seal
from tests.conftest import POSTGRES_URL, Database

TOKEN = "5151515151:" + "B" * 35
BOT_ID = 5151515151

UTC = zoneinfo.ZoneInfo("UTC")


def campaign_worker(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    *,
    zone: zoneinfo.ZoneInfo = UTC,
    rate: float = 25,
    **options: Any,
) -> CampaignWorker:
    """The worker's campaign loop as `intake worker` runs it, for a bot named intake_bot."""
    return CampaignWorker(
        sessionmaker,
        crypto,
        zone=zone,
        rate=rate,
        bot_username=lambda: asyncio.sleep(0, "intake_bot"),
        **options,
    )


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
        for user in users:  # what get_or_create_beneficiary makes, without a look-up each
            beneficiary = Beneficiary(telegram_hash=crypto.blind_index(TELEGRAM_PURPOSE, str(user)))
            person_keys.add_new(session, crypto, beneficiary.id)
            seal(crypto, beneficiary, "telegram_id_enc", str(user))
            session.add(beneficiary)
            people.append((user, beneficiary.id))
    return people


async def queue(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    beneficiary_ids: list[uuid.UUID],
    lane: Lane = Lane.REPLY,
    campaign_id: uuid.UUID | None = None,
    not_before: dt.datetime | None = None,
) -> None:
    """Rows for the sender, due at `not_before` (a test's set time; else now)."""
    async with sessionmaker() as session, session.begin():
        for n, beneficiary_id in enumerate(beneficiary_ids):
            await enqueue(
                session,
                crypto,
                beneficiary_id=beneficiary_id,
                text=f"Notice {n}",
                lane=lane,
                campaign_id=campaign_id,
                not_before=not_before,
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


ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Child:
    """A process the test started (its output in a log file); killed hard or stopped at the end."""

    process: asyncio.subprocess.Process
    log: Path

    @classmethod
    async def start(cls, args: list[str], settings: dict[str, str], log: Path) -> Child:
        environment = {
            k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TELEGRAM_", "DATABASE_"))
        }
        with log.open("ab") as output:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                *args,
                env=environment | {"PYTHONPATH": str(ROOT)} | settings,
                cwd=ROOT,
                stdout=output,
                stderr=output,
            )
        return cls(process, log)

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
        await self.process.wait()


async def outbox_rows(url: str) -> list[OutboxMessage]:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            return list((await session.execute(select(OutboxMessage))).scalars())
    finally:
        await engine.dispose()


def check_exactly_once(rows: list[OutboxMessage], chats: dict[uuid.UUID, int], copies: Counter[int]) -> None:
    """Every row final; sent rows delivered once, uncertain ones at most once; counters = transcript."""
    statuses = Counter(row.status for row in rows)
    assert set(statuses) <= {Status.SENT, Status.UNCERTAIN}, statuses
    for row in rows:
        expected = {1} if row.status == Status.SENT else {0, 1}
        assert copies[chats[row.id]] in expected, (row.status, copies[chats[row.id]])
    assert set(copies) <= set(chats.values())
    delivered_uncertain = sum(copies[chats[row.id]] for row in rows if row.status == Status.UNCERTAIN)
    assert sum(copies.values()) == statuses[Status.SENT] + delivered_uncertain


@contextlib.asynccontextmanager
async def sandbox_process(directory: Path) -> AsyncIterator[str]:
    """The sandbox in a process of its own, so its clock is not held up by the test's work. It binds
    a free port itself (--port 0) and prints its URL once it listens: no port is picked here and
    left for another process to take meanwhile."""
    log = directory / "sandbox.log"
    before = log.stat().st_size if log.exists() else 0
    child = await Child.start(["-m", "intake", "sandbox", "--port", "0"], {}, log)
    try:

        async def listening() -> str | None:
            assert child.process.returncode is None, log.read_text()
            found = re.search(r"Telegram sandbox on (http://\S+) ", log.read_bytes()[before:].decode())
            return found.group(1) if found else None

        yield await until(listening, within=30)
    finally:
        await child.stop()
