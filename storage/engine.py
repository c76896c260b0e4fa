"""Async engines and sessions for SQLite (embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _prepare_sqlite_file(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below own transaction start instead of the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted personal data is overwritten, not left in free pages of the file.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock up front: a deferred transaction that later upgrades to a writer
        # fails at once with "database is locked" instead of waiting for busy_timeout.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if is_sqlite(url):
        _prepare_sqlite_file(url)
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def checkpoint(engine: AsyncEngine) -> None:
    """Move SQLite's write-ahead log into the database file and empty it: after personal data is
    erased, its old page images must not linger in the log."""
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        # The driver connection directly: a checkpoint cannot run inside BEGIN IMMEDIATE.
        await raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
