"""Engines: SQLite writers from several processes' engines never fail with "database is locked"."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text

from storage.engine import create_sessionmaker
from storage.models import AuditEntry
from storage.queries import next_case_code, record_audit
from tests.conftest import Database


async def test_concurrent_writers_on_two_engines_all_commit(database: Database) -> None:
    if database.backend != "sqlite":
        pytest.skip("the lock behaviour is SQLite's")
    # Two engines stand for the bot and the console: separate connection pools on one file.
    engines = [database.engine(), database.engine()]
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
