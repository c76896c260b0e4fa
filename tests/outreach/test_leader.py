"""The sender's election on PostgreSQL: its advisory lock lives apart from the bot's per-chat locks."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from outreach.leader import lead_then_run
from storage.engine import create_sessionmaker
from storage.queries import mark_update_processed
from tests.conftest import Database

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
