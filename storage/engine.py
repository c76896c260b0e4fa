"""Async engines and sessions for SQLite (embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
# An execution option: a transaction on a connection that has it begins with a plain BEGIN and takes
# no write lock (see reading); every other SQLite transaction begins with BEGIN IMMEDIATE.
READ_ONLY = "intake_read_only"


@dataclass(frozen=True)
class SqliteSpeedups:
    """What the composition root's speed patches (intake.speedups) plug into SQLite engines; none by
    default, so that SQLAlchemy runs on stock aiosqlite and SQLite's own busy handler.

    `driver(inline=, busy_timeout=)` makes the DB-API module for `create_async_engine(module=)`;
    `engine(engine, database)` is called on every new SQLite engine with its file's resolved path."""

    driver: Callable[..., Any] | None = None
    engine: Callable[[AsyncEngine, str], None] | None = None


STOCK = SqliteSpeedups()
_speedups = STOCK


def use_sqlite_speedups(speedups: SqliteSpeedups) -> None:
    """The speed patches every SQLite engine made from now on is built with (intake.speedups.install)."""
    global _speedups
    _speedups = speedups


def sqlite_speedups() -> SqliteSpeedups:
    return _speedups


def reads_only(connection: Any) -> bool:
    """Whether a (sync) connection's transactions begin without the write lock."""
    return bool(connection.get_execution_options().get(READ_ONLY, False))


def reading(engine: AsyncEngine) -> AsyncEngine:
    """The engine whose SQLite transactions begin with a plain BEGIN: they read beside the one
    writer (write-ahead log) and take the write lock only if they write, which may then fail at once
    if another connection wrote since they first read (the caller runs them again as a writer).
    The same engine on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{READ_ONLY: True})


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database on disk (none for PostgreSQL, memory or a `file:` URI)."""
    database = make_url(url).database if is_sqlite(url) else None
    if database and database != ":memory:" and not database.startswith("file:"):
        return Path(database)
    return None


def _prepare_sqlite_file(url: str) -> None:
    """The database file's folder, and the file itself created readable by its owner alone: SQLite
    would create it with the process's umask (usually world-readable), and its write-ahead log and
    shared-memory files take the database file's permissions."""
    path = sqlite_file(url)
    if path is not None:
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

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the write lock up front: a deferred transaction that later upgrades to a
        # writer fails at once with "database is locked" instead of waiting for busy_timeout.
        connection.exec_driver_sql("BEGIN" if reads_only(connection) else "BEGIN IMMEDIATE")


def create_engine(
    url: str, *, inline: bool = False, speedups: SqliteSpeedups | None = None, **kwargs: Any
) -> AsyncEngine:
    """`inline`: SQLite statements run on the event loop's thread, for a process whose statements are
    all short (the bot), when the speed patches provide such a driver (intake.speedups.sqlite_one_trip);
    `speedups`: other than those installed (benchmarks compare). No effect on PostgreSQL."""
    if is_sqlite(url):
        speedups = _speedups if speedups is None else speedups
        _prepare_sqlite_file(url)
        if speedups.driver is not None:
            kwargs.setdefault(
                "module", speedups.driver(inline=inline, busy_timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
            )
        else:
            inline = False
        engine = create_async_engine(url, **kwargs)
        if speedups.engine is not None:  # first: its listeners run before ours (BEGIN)
            speedups.engine(engine, str(Path(make_url(url).database or "").resolve()))
        # An inline connection waits for another process's write lock itself, without blocking the loop.
        _configure_sqlite(engine, busy_timeout_ms=0 if inline else SQLITE_BUSY_TIMEOUT_MS)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def create_sessionmaker(
    engine: AsyncEngine, *, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """`info`: what every session starts with in its `info` (storage.erasure_ledger.ledger_info)."""
    return async_sessionmaker(engine, expire_on_commit=False, info=info or {})


async def checkpoint(engine: AsyncEngine) -> None:
    """SQLite: what the write-ahead log holds is copied into the database file now (a passive
    checkpoint: it waits for no reader or writer, and none waits for it). A process that writes
    much (the purge) calls it after its transactions, so that the log stays short and the copying
    is never left to the commit that finds it long, which may be the bot's, on its event loop
    (intake.speedups.sqlite_one_trip). Nothing on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        await _sqlite_checkpoint(engine, "PASSIVE")


async def _sqlite_checkpoint(engine: AsyncEngine, mode: str) -> None:
    """A checkpoint in a thread, on a connection of its own (never on the event loop, where an
    inline connection would run it), waiting for readers as long as any connection waits for
    the lock; on the engine's own connection where the database is no file of its own."""
    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    if path is None:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            # The driver connection directly: a checkpoint cannot run inside BEGIN IMMEDIATE.
            await raw.driver_connection.execute(f"PRAGMA wal_checkpoint({mode})")
        return
    await asyncio.to_thread(_checkpoint, path, mode)


def _checkpoint(path: Path, mode: str) -> None:
    timeout = SQLITE_BUSY_TIMEOUT_MS / 1000
    with contextlib.closing(sqlite3.connect(path, timeout=timeout, isolation_level=None)) as connection:
        connection.execute(f"PRAGMA wal_checkpoint({mode})")


async def clear_erased(engine: AsyncEngine) -> None:
    """After personal data is erased, leave no old copy of it in the database's own files.

    SQLite: the write-ahead log is moved into the database file (where `secure_delete` overwrote
    the rows) and emptied. PostgreSQL: `person_keys` is rewritten (VACUUM FULL, a small table), so
    the erased people's keys do not stay in its files as dead tuples until a vacuum reuses the space;
    without their keys, the dead tuples of their other rows can no longer be opened. If the table
    cannot be locked within a few seconds (a long transaction), the next erasure or the daily purge
    does it."""
    if engine.dialect.name == "sqlite":
        await _sqlite_checkpoint(engine, "TRUNCATE")
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
