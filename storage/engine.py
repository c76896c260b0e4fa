"""Async engines and sessions for SQLite (embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_

from storage import sqlite_driver

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE_LOCK = "intake_write_lock"


# The write locks of each event loop, by database file (see _configure_sqlite).
_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _write_lock(database: str) -> asyncio.Lock:
    locks = _LOCKS.setdefault(asyncio.get_running_loop(), {})
    return locks.get(database) or locks.setdefault(database, asyncio.Lock())


async def _acquire(lock: asyncio.Lock) -> None:
    # asyncio.timeout, not wait_for: no task per transaction, and a free lock is taken at once.
    async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):
        await lock.acquire()


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _prepare_sqlite_file(url: str) -> None:
    """The database file's folder, and the file itself created readable by its owner alone: SQLite
    would create it with the process's umask (usually world-readable), and its write-ahead log and
    shared-memory files take the database file's permissions."""
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _configure_sqlite(engine: AsyncEngine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below own transaction start instead of the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted personal data is overwritten, not left in free pages of the file.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    # SQLite has one writer. Transactions of this process queue on an asyncio lock before taking
    # SQLite's: the next one starts the moment the last one ends, instead of polling the file lock
    # through SQLite's busy handler, which sleeps up to 100 ms between tries. Another process's lock
    # is waited for by the busy handler (busy_timeout) or, inline, by the driver (storage.sqlite_driver).
    # One lock per event loop and database file, shared by the engines of a process on that file
    # (the bot's inline one and the console's and sender's).
    database = str(Path(make_url(engine.url).database or "").resolve())

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if _WRITE_LOCK not in connection.info:  # a connection keeps its turn until it is returned
            lock = _write_lock(database)
            await_(_acquire(lock))
            connection.info[_WRITE_LOCK] = lock
        # Take the write lock up front: a deferred transaction that later upgrades to a writer
        # fails at once with "database is locked" instead of waiting for busy_timeout.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # After COMMIT or ROLLBACK and the pool's reset: the next transaction starts at once.
        lock = record.info.pop(_WRITE_LOCK, None) if record is not None else None
        if lock is not None:
            lock.release()


def create_engine(url: str, *, inline: bool = False, **kwargs: Any) -> AsyncEngine:
    """`inline`: SQLite statements run on the event loop's thread (see storage.sqlite_driver), for a
    process whose statements are all short (the bot); no effect on PostgreSQL."""
    if is_sqlite(url):
        _prepare_sqlite_file(url)
        kwargs.setdefault(
            "module", sqlite_driver.dbapi(inline=inline, busy_timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        )
        engine = create_async_engine(url, **kwargs)
        # An inline connection waits for another process's write lock itself, without blocking the loop.
        _configure_sqlite(engine, busy_timeout_ms=0 if inline else SQLITE_BUSY_TIMEOUT_MS)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def clear_erased(engine: AsyncEngine) -> None:
    """After personal data is erased, leave no old copy of it in the database's own files.

    SQLite: the write-ahead log is moved into the database file (where `secure_delete` overwrote
    the rows) and emptied. PostgreSQL: `person_keys` is rewritten (VACUUM FULL, a small table), so
    the erased people's keys do not stay in its files as dead tuples until a vacuum reuses the space;
    without their keys, the dead tuples of their other rows can no longer be opened. If the table
    cannot be locked within a few seconds (a long transaction), the next erasure or the daily purge
    does it."""
    if engine.dialect.name == "sqlite":
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            # The driver connection directly: a checkpoint cannot run inside BEGIN IMMEDIATE.
            await raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql("SET lock_timeout = '3s'")
        try:
            await autocommit.exec_driver_sql("VACUUM FULL person_keys")
        except DBAPIError as error:
            log.warning(
                "person_keys not compacted after an erasure (%s); retried later", type(error).__name__
            )
        finally:
            await autocommit.exec_driver_sql("RESET lock_timeout")
