"""The SQLite speed patch (intake.speedups.sqlite_one_trip): one trip to the connection's thread per statement (or none, inline), with
everything SQLAlchemy reads of a cursor (rows, row counts, new row ids, RETURNING) as aiosqlite gives
it; inline, another process's write lock is waited for without blocking the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, event, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from intake import speedups
from intake.speedups import sqlite_one_trip
from storage.engine import create_engine

metadata = MetaData()
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("body", String(20), unique=True),
)


@pytest.fixture(params=[False, True], ids=["thread", "inline"])
async def engine(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}", inline=request.param, speedups=speedups.sqlite()
    )
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


def on_thread_ident(engine: AsyncEngine) -> None:
    """`SELECT thread_ident()` answers which thread ran the statement."""

    @event.listens_for(engine.sync_engine, "connect")
    def register(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("thread_ident", 0, threading.get_ident)


async def count_trips(engine: AsyncEngine, statement: Any) -> tuple[int, Any]:
    """Trips to the connection's thread for one statement inside an open transaction."""
    async with engine.begin() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert isinstance(driver, sqlite_one_trip.Connection)
        trips = 0
        original = driver._execute

        async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
            nonlocal trips
            trips += 1
            return await original(fn, *args, **kwargs)

        driver._execute = counted  # type: ignore[method-assign]
        try:
            result = await connection.execute(statement)
            rows = result.all() if result.returns_rows else result.rowcount
        finally:
            del driver._execute
        return trips, rows


async def test_a_statement_is_one_trip_to_the_thread_rows_and_all(engine: AsyncEngine) -> None:
    if _inline(engine):
        pytest.skip("inline: no trips at all (below)")
    trips, rows = await count_trips(engine, insert(notes).values(body="a").returning(notes.c.id))
    assert (trips, rows) == (1, [(1,)])
    trips, rows = await count_trips(engine, select(notes.c.body))
    assert (trips, rows) == (1, [("a",)])
    trips, count = await count_trips(engine, update(notes).values(body="b"))
    assert (trips, count) == (1, 1)


async def test_row_counts_ids_and_many_rows_are_what_sqlite_reports(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        result = await connection.execute(insert(notes).values(body="first"))
        assert result.inserted_primary_key == (1,)  # from the cursor's lastrowid
        await connection.execute(insert(notes), [{"body": f"n{number}"} for number in range(500)])
        assert (await connection.execute(select(notes.c.id).order_by(notes.c.id))).scalars().all() == list(
            range(1, 502)
        )
        assert (await connection.execute(delete(notes).where(notes.c.id > 400))).rowcount == 101
        assert (
            await connection.execute(update(notes).where(notes.c.id == 999).values(body="x"))
        ).rowcount == 0
        streamed = await connection.stream(select(notes.c.id).order_by(notes.c.id))
        assert [row.id async for row in streamed] == list(range(1, 401))


async def test_errors_are_sqlites_and_leave_the_connection_usable(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(notes).values(body="same"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(insert(notes).values(body="same"))
    async with engine.begin() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 1


def _inline(engine: AsyncEngine) -> bool:
    return bool(engine.dialect.loaded_dbapi.aiosqlite.connect.keywords["inline"])


async def test_inline_statements_run_on_the_loops_thread_and_threaded_ones_do_not(tmp_path: Path) -> None:
    for inline in (True, False):
        engine = create_engine(
            f"sqlite+aiosqlite:///{tmp_path / 'where.db'}", inline=inline, speedups=speedups.sqlite()
        )
        on_thread_ident(engine)
        async with engine.begin() as connection:
            ran_on = (await connection.execute(text("SELECT thread_ident()"))).scalar_one()
        await engine.dispose()
        assert (ran_on == threading.get_ident()) is inline


@pytest.fixture
def held_write_lock(tmp_path: Path) -> Iterator[tuple[Path, threading.Event]]:
    """Another connection (as another process would) holds SQLite's write lock until released."""
    path = tmp_path / "locked.db"
    sqlite3.connect(path).executescript("PRAGMA journal_mode=WAL; CREATE TABLE t (x INTEGER);").close()
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (1)")
        taken.set()
        release.wait(10)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(5)
    yield path, release
    release.set()
    holder.join()


async def test_inline_waits_for_another_writer_without_blocking_the_loop(
    held_write_lock: tuple[Path, threading.Event],
) -> None:
    path, release = held_write_lock
    engine = create_engine(f"sqlite+aiosqlite:///{path}", inline=True, speedups=speedups.sqlite())
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def write() -> int:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t VALUES (2)"))
            return (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one()

    ticking = asyncio.create_task(ticker())
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not writing.done()  # waiting for the other writer…
    assert ticks >= 10  # …while the loop goes on
    release.set()
    assert await asyncio.wait_for(writing, 5) == 2  # the other's row committed first, then ours
    ticking.cancel()
    await engine.dispose()


async def test_inline_gives_up_after_its_busy_timeout_with_sqlites_error(
    held_write_lock: tuple[Path, threading.Event],
) -> None:
    path, _ = held_write_lock
    engine = create_engine(
        f"sqlite+aiosqlite:///{path}",
        inline=True,
        speedups=speedups.sqlite(),
        module=sqlite_one_trip.dbapi(inline=True, busy_timeout=0.2),
    )
    started = time.monotonic()
    with pytest.raises(OperationalError, match="locked"):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t VALUES (3)"))
    assert time.monotonic() - started >= 0.1
    await engine.dispose()
