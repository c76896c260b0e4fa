"""Engines: SQLite writers from several processes' engines never fail with "database is locked"."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake import speedups
from intake.settings import demo_keys
from intake.speedups import sqlite_one_trip
from storage.engine import create_engine, create_sessionmaker
from storage.models import AuditEntry
from storage.queries import next_case_code, record_audit
from tests.conftest import Database


async def test_concurrent_writers_on_two_engines_all_commit(database: Database) -> None:
    if database.backend != "sqlite":
        pytest.skip("the lock behaviour is SQLite's")
    # Two engines stand for the bot (inline) and the console: separate connection pools on one file.
    engines = [database.engine(inline=True), database.engine()]
    makers = [create_sessionmaker(engine) for engine in engines]

    async def write(n: int) -> None:
        async with makers[n % 2]() as session, session.begin():
            # Read first, then write: the pattern that fails under deferred transactions.
            await session.execute(select(func.count()).select_from(AuditEntry))
            await record_audit(
                session, actor="test", action="write", object_type="t", object_id=str(n), details={}
            )
            await asyncio.sleep(0)

    try:
        await asyncio.gather(*(write(n) for n in range(120)))
        async with makers[0]() as session:
            assert (await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one() == 120
            assert (await session.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
            assert (await session.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    finally:
        async with engines[0].begin() as connection:
            await connection.execute(AuditEntry.__table__.delete())
        for engine in engines:
            await engine.dispose()


async def test_case_codes_are_unique_and_sequential_under_concurrency(database: Database) -> None:
    engine = database.engine()
    maker = create_sessionmaker(engine)

    async def code() -> str:
        async with maker() as session, session.begin():
            return await next_case_code(session, year=2031)

    try:
        codes = await asyncio.gather(*(code() for _ in range(30)))
        assert sorted(codes) == [f"IP-2031-{n:06d}" for n in range(1, 31)]
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM case_counters"))
        await engine.dispose()


async def test_a_failed_transaction_or_a_second_one_on_a_connection_never_holds_up_the_next(
    database: Database,
) -> None:
    """SQLite: this process's transactions take turns on a lock; a rolled-back transaction and a
    connection that begins twice must hand the turn on, or every later transaction would wait."""
    engine = database.engine(speedups=speedups.sqlite())
    maker = create_sessionmaker(engine)
    try:
        with pytest.raises(ZeroDivisionError):
            await fail_inside_a_transaction(maker)
        async with engine.connect() as connection:
            for _ in range(2):
                async with connection.begin():
                    await connection.execute(text("SELECT 1"))
        async with asyncio.timeout(10):  # far beyond a turn; a turn never handed on waits 30 s
            results = await asyncio.gather(*(next_code(maker) for _ in range(20)))
        assert sorted(results) == [f"IP-2032-{n:06d}" for n in range(1, 21)]
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM case_counters"))
        await engine.dispose()


async def next_code(maker: async_sessionmaker[AsyncSession]) -> str:
    async with maker() as session, session.begin():
        return await next_case_code(session, year=2032)


async def fail_inside_a_transaction(maker: async_sessionmaker[AsyncSession]) -> None:
    async with maker() as session, session.begin():
        await session.execute(text("SELECT 1"))
        raise ZeroDivisionError


async def test_the_bots_inline_engine_waits_its_turn_behind_the_consoles_long_transaction(
    database: Database,
) -> None:
    """Engines of one process on one file share its write lock: the bot's inline engine, which waits
    for SQLite's own lock only up to its busy timeout, queues behind the console's transaction."""
    if database.backend != "sqlite":
        pytest.skip("the lock behaviour is SQLite's")
    patched = speedups.sqlite()
    console = create_engine(database.url, speedups=patched)
    bot = create_engine(
        database.url,
        inline=True,
        speedups=patched,
        module=sqlite_one_trip.dbapi(inline=True, busy_timeout=0.1),
    )
    console_holds, release = asyncio.Event(), asyncio.Event()

    async def long_console_transaction() -> None:
        async with console.begin() as connection:
            await connection.execute(text("INSERT INTO case_counters (year, last) VALUES (1999, 1)"))
            console_holds.set()
            await release.wait()

    async def bot_update() -> None:
        async with bot.begin() as connection:
            await connection.execute(text("UPDATE case_counters SET last = last + 1 WHERE year = 1999"))

    try:
        holding = asyncio.create_task(long_console_transaction())
        await console_holds.wait()
        updating = asyncio.create_task(bot_update())
        await asyncio.sleep(0.3)  # three times the bot's busy timeout
        assert not updating.done()  # queued, not failed
        release.set()
        await asyncio.wait_for(asyncio.gather(holding, updating), 5)
        async with console.connect() as connection:
            last = await connection.execute(text("SELECT last FROM case_counters WHERE year = 1999"))
            assert last.scalar_one() == 2
    finally:
        async with console.begin() as connection:
            await connection.execute(text("DELETE FROM case_counters WHERE year = 1999"))
        await console.dispose()
        await bot.dispose()


async def test_a_new_sqlite_file_and_its_log_are_readable_by_their_owner_alone(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask, under which SQLite alone would make them 0644
    try:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'var' / 'intake.db'}")
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
            # While the connection is open, its write-ahead log and shared memory exist too.
            modes = {path.name: path.stat().st_mode & 0o777 for path in tmp_path.joinpath("var").iterdir()}
        await engine.dispose()
    finally:
        os.umask(previous)
    assert modes == {"intake.db": 0o600, "intake.db-wal": 0o600, "intake.db-shm": 0o600}


def test_the_demo_key_file_is_created_readable_by_its_owner_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Made with 0600 from the start, not widened by the umask and narrowed afterwards.
    monkeypatch.setattr(Path, "chmod", lambda *_: pytest.fail("the key file's mode was changed after"))
    previous = os.umask(0)
    try:
        key = demo_keys(tmp_path / "var")
    finally:
        os.umask(previous)
    assert (tmp_path / "var" / "data-keys").stat().st_mode & 0o777 == 0o600
    assert demo_keys(tmp_path / "var") == key
