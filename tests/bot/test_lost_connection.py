"""PostgreSQL: an update whose database connection was lost is applied again, once, on a new one
(the bot's pool does not ping connections before use)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from programme.forms import SCREENING
from sandbox.client import SandboxClient
from storage.engine import create_engine
from storage.schema import Base
from tests.bot.test_screening import Translate, at_the_first_question
from tests.conftest import POSTGRES_URL, Database


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    """The bot's engine as `intake bot` opens it on PostgreSQL, with one connection, so the one the
    server cuts is the one the next update gets."""
    if database.backend != "postgresql":
        pytest.skip("a connection cut by the server is PostgreSQL's")
    engine = database.engine(pool_size=1, max_overflow=0, pool_pre_ping=False)
    yield engine
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())
    await engine.dispose()


async def cut_pooled_connection(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    admin = create_engine(POSTGRES_URL)
    try:
        async with admin.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()


async def test_an_update_whose_connection_was_cut_is_applied_once_on_a_new_one(
    phone: SandboxClient, t: Translate, engine: AsyncEngine
) -> None:
    q1, q2 = (question.prompt for question in SCREENING.bot_questions()[:2])
    user = await at_the_first_question(phone, t)
    await cut_pooled_connection(engine)

    await phone.press(user, t("Yes"))
    await phone.wait_for_bot_message(user, contains=t(q2))
    await phone.wait_idle(user)

    texts = [message["text"] for message in await phone.bot_messages(user)]
    assert sum(t(q2) in text for text in texts) == 1
    assert not any(t("Sorry, something went wrong. Please try again.") in text for text in texts)
    answered = [text for text in texts if t(q1) in text]
    assert len(answered) == 1 and t("Yes") in answered[0]  # the first question shows its answer once
