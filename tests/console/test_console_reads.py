"""On SQLite a console GET reads without the write lock: a page being read never holds up the bot's
writes, and a GET that writes after the bot did is run again as a writer, answering once."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from caseworker_console.database import DatabaseSessionMiddleware, database
from storage.engine import create_sessionmaker, reads_only
from storage.models import AuditEntry
from storage.queries import record_audit
from tests.conftest import Database


class Page:
    """A console page whose reading the test holds open, and which may write an audit entry."""

    def __init__(self) -> None:
        self.reading, self.release = asyncio.Event(), asyncio.Event()
        self.runs = 0
        self.read_only: list[bool] = []

    async def handle(self, request: Request) -> PlainTextResponse:
        self.runs += 1
        db = database(request)
        count = (await db.execute(select(func.count()).select_from(AuditEntry))).scalar_one()
        self.read_only.append(reads_only((await db.connection()).sync_connection))
        self.reading.set()
        await self.release.wait()
        if request.query_params.get("audit"):
            await record_audit(
                db, actor="staff:1", action="case.viewed", object_type="case", object_id="IP-1", details={}
            )
            await db.commit()
        return PlainTextResponse(str(count))


@pytest.fixture
async def engines(database: Database) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    if database.backend != "sqlite":
        pytest.skip("SQLite's write lock; PostgreSQL readers never take one")
    console, bot = database.engine(), database.engine(inline=True)
    yield console, bot
    async with console.begin() as connection:
        await connection.execute(AuditEntry.__table__.delete())
        await connection.execute(text("DELETE FROM case_counters WHERE year = 1999"))
    await console.dispose()
    await bot.dispose()


def client(console: AsyncEngine, page: Page) -> httpx.AsyncClient:
    app = Starlette(
        routes=[Route("/page", page.handle, methods=["GET", "POST"])],
        middleware=[Middleware(DatabaseSessionMiddleware, sessionmaker=create_sessionmaker(console))],
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


async def bot_writes(bot: AsyncEngine) -> None:
    async with bot.begin() as connection:
        await connection.execute(text("INSERT INTO case_counters (year, last) VALUES (1999, 1)"))


async def test_a_bot_write_commits_while_a_console_page_is_being_read(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    console, bot = engines
    page = Page()
    async with client(console, page) as http:
        reading = asyncio.create_task(http.get("/page"))
        await asyncio.wait_for(page.reading.wait(), 5)

        await asyncio.wait_for(bot_writes(bot), 2)  # not queued behind the page

        page.release.set()
        answer = await reading
    assert answer.status_code == 200 and answer.text == "0"
    assert page.read_only == [True]


async def test_a_page_that_writes_after_the_bot_did_runs_again_as_a_writer_and_answers_once(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    console, bot = engines
    page = Page()
    async with client(console, page) as http:
        reading = asyncio.create_task(http.get("/page", params={"audit": "1"}))
        await asyncio.wait_for(page.reading.wait(), 5)
        await bot_writes(bot)  # after the page began reading: its snapshot is stale
        page.release.set()
        answer = await asyncio.wait_for(reading, 10)

    assert answer.status_code == 200
    assert page.runs == 2 and page.read_only == [True, False]
    async with console.connect() as connection:
        audited = await connection.execute(select(func.count()).select_from(AuditEntry))
        assert audited.scalar_one() == 1


async def test_a_post_takes_the_write_lock_from_its_first_statement(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    console, _ = engines
    page = Page()
    page.release.set()
    async with client(console, page) as http:
        answer = await http.post("/page")
    assert answer.status_code == 200 and page.read_only == [False]


async def test_a_page_that_writes_while_another_connection_holds_the_lock_runs_again_and_waits_its_turn(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    console, _ = engines
    page = Page()
    other = sqlite3.connect(str(console.url.database), isolation_level=None)
    try:
        async with client(console, page) as http:
            reading = asyncio.create_task(http.get("/page", params={"audit": "1"}))
            await asyncio.wait_for(page.reading.wait(), 5)
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock, wrote nothing yet
            page.release.set()
            await asyncio.sleep(0.3)
            other.execute("COMMIT")
            answer = await asyncio.wait_for(reading, 10)
    finally:
        other.close()
    assert answer.status_code == 200
    assert page.runs == 2 and page.read_only == [True, False]
    async with console.connect() as connection:
        audited = await connection.execute(select(func.count()).select_from(AuditEntry))
        assert audited.scalar_one() == 1
