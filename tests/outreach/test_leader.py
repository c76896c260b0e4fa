"""The sender's election on PostgreSQL: its advisory lock lives apart from the bot's per-chat locks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from aiogram import Bot
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from outreach.leader import keep_running, lead_then_run
from outreach.sender import Sender
from sandbox.client import SandboxClient
from storage.crypto import Crypto
from storage.engine import create_engine, create_sessionmaker
from storage.queries import mark_update_processed
from tests.conftest import POSTGRES_URL, Database
from tests.outreach.conftest import copies_per_chat, dedicated_database, queue, recipients, until

# The leader's key when it shared the one-key space with the chats: a Telegram user whose id is
# this number held the sender's election for as long as one of their updates was being handled.
FORMER_SENDER_KEY = 0x4942_0001


@pytest.fixture
def postgresql(database: Database) -> Database:
    if database.backend != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    return database


async def test_a_chat_whose_id_was_the_leaders_key_does_not_hold_up_the_election(
    postgresql: Database, engine: AsyncEngine
) -> None:
    sessionmaker = create_sessionmaker(engine)
    stop, leading = asyncio.Event(), asyncio.Event()

    async def work(_stop: asyncio.Event) -> None:
        leading.set()

    async with sessionmaker() as session, session.begin():
        # This chat's update is being handled: its transaction holds the chat's lock.
        assert await mark_update_processed(session, bot_id=1, update_id=1, chat_key=FORMER_SENDER_KEY)
        election = asyncio.create_task(lead_then_run(engine, work, stop, retry=0.05))
        try:
            async with asyncio.timeout(10):
                await leading.wait()
        finally:
            stop.set()
            await election
    assert leading.is_set()


async def test_a_loop_that_loses_the_database_waits_and_runs_again_and_says_only_the_errors_kind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[int] = []

    async def run(stop: asyncio.Event) -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise OperationalError("SELECT … WHERE phone = '+994501234567'", {}, Exception("gone"))

    await keep_running("the sender", run, asyncio.Event(), retry=0.0)

    assert runs == [0, 1]
    assert "the sender paused (OperationalError)" in caplog.text
    assert "+994501234567" not in caplog.text


async def test_another_error_is_not_taken_for_a_lost_database() -> None:
    async def run(stop: asyncio.Event) -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        await keep_running("the sender", run, asyncio.Event(), retry=0.0)


async def test_the_sender_goes_on_sending_after_its_database_was_gone_for_a_while(
    postgresql: Database,
    tmp_path: Path,
    phone: SandboxClient,
    bot: Bot,
    crypto: Crypto,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with dedicated_database(postgresql, tmp_path) as url:
        name = make_url(url).database
        engine = create_engine(url)
        sessionmaker = create_sessionmaker(engine)
        (first, first_id), (second, second_id) = await recipients(phone, sessionmaker, crypto, 2)
        stop = asyncio.Event()
        sender = Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05)
        running = asyncio.create_task(keep_running("the sender", sender.run, stop, retry=0.1))

        async def delivered(chat: int) -> bool:
            if running.done():  # the loop stopped: fail now, with its error
                running.result()
                raise AssertionError("the sender stopped")
            return chat in await copies_per_chat(phone)

        async def told() -> bool:
            return "the sender paused" in caplog.text

        admin = await asyncpg.connect(str(make_url(POSTGRES_URL).set(drivername="postgresql")))
        try:
            await queue(sessionmaker, crypto, [first_id])
            await until(lambda: delivered(first))
            # The database goes away: no new connection is let in, and every open one is cut.
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            await until(told)
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            await queue(sessionmaker, crypto, [second_id])
            await until(lambda: delivered(second))
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            await admin.close()
            stop.set()
            await asyncio.gather(running, return_exceptions=True)
            await engine.dispose()
        assert await copies_per_chat(phone) == {first: 1, second: 1}
