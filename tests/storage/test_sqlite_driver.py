"""The SQLite driver: one trip to the connection's thread per statement, with everything SQLAlchemy
reads of a cursor (rows, row counts, new row ids, RETURNING) as aiosqlite gives it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite_driver
from storage.engine import create_engine

metadata = MetaData()
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("body", String(20), unique=True),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def count_trips(engine: AsyncEngine, statement: Any) -> tuple[int, Any]:
    """Trips to the connection's thread for one statement inside an open transaction."""
    async with engine.begin() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert isinstance(driver, sqlite_driver.Connection)
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
