"""Speed patch: SQLite statements in one trip to aiosqlite's thread, or none (inline).

- **Written against** aiosqlite 0.22.1 and SQLAlchemy 2.1.9's aiosqlite dialect: subclasses
  `aiosqlite.Connection` and overrides its private `_execute` (and reads `_conn`, `_running`,
  `_connection`); handed to SQLAlchemy as the dialect's DB-API module (`create_async_engine(module=)`).
- **What it changes**: see below. Installed, `storage.engine.create_engine` builds every SQLite
  engine on it (`install`); without it, SQLAlchemy uses stock aiosqlite, and `inline` is ignored.
- **Gain measured**: a SELECT inside a transaction at about half the CPU; P1 on SQLite from 128 to 179
  updates/s side by side (one trip per statement), then from about 85 to 160 updates/s on a busy
  machine (inline). `make bench BENCH_ARGS="--only speedups"` measures a point read and write again.
- **Test**: tests/speedups/test_sqlite_one_trip.py; with the patches on, every SQLite test runs on it.
- **To remove**: delete this module and its lines in `intake.speedups.install`; the bot's engine then
  waits for SQLite's lock with a busy timeout like the others (storage.engine does so already when
  no driver is installed).

aiosqlite runs every call on the connection's own thread and waits for the answer, and SQLAlchemy's
adapter makes four such calls per statement: open a cursor, execute, fetch the rows, close the
cursor. Each trip is a hand-over between threads, and under load each waits for the interpreter
lock. Here a statement opens its cursor, runs, fetches its rows and closes the cursor in one call on
that thread; fetching and closing are then free, and so is the pool's rollback of a connection that
has no transaction open. Everything else is aiosqlite's, unchanged: its
thread, its connection, its errors. SQLAlchemy buffers all rows of a plain cursor anyway, so
fetching them with the statement holds no more in memory than before; a streamed result
(`AsyncConnection.stream`) is buffered whole too, so nothing here streams: large reads go in keyset
batches instead.

Inline (`dbapi(inline=True)`, the bot's engine): statements run on the event loop's own thread, with
no trip at all. A bot's statements are point reads and writes of a few rows, cheaper than the
hand-over itself; and since SQLite has one writer, the update holding the write lock now finishes its
transaction without waiting for the loop to come round after each statement. SQLite's own busy
handler would block the loop while another process (the console, the worker) writes, so inline
connections are opened with no busy timeout and wait for the lock here, in asyncio sleeps, up to
the same timeout. Long statements (the console's lists, a campaign's batches) stay on the thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import sqlite3
import time
import types
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

import storage.engine


class Cursor:
    """The part of aiosqlite's cursor that SQLAlchemy uses; `execute` also fetches."""

    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _run(self, method: str, sql: str, parameters: Any) -> Cursor:
        """On the connection's thread."""
        cursor = self._connection._conn.cursor()
        try:
            getattr(cursor, method)(sql, parameters)
            self.description = cursor.description
            self._rows = cursor.fetchall() if cursor.description else []
            self.rowcount = cursor.rowcount
            self.lastrowid = cursor.lastrowid
        finally:
            cursor.close()
        return self

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] | None = None) -> Cursor:
        arguments = () if parameters is None else parameters
        return await self._connection._execute(self._run, "execute", sql, arguments)

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any] | dict[str, Any]]) -> Cursor:
        return await self._connection._execute(self._run, "executemany", sql, parameters)

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def close(self) -> None:
        self._rows = []


class Connection(aiosqlite.Connection):
    inline = False
    busy_timeout = 0.0

    def cursor(self) -> Cursor:  # type: ignore[override]
        return Cursor(self)

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.inline:
            return await super()._execute(fn, *args, **kwargs)
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        deadline = time.monotonic() + self.busy_timeout
        pause = BUSY_FIRST_PAUSE
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as error:
                # Another process holds the write lock: the statement did nothing; try again soon.
                if not _busy(error) or time.monotonic() + pause > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, BUSY_LONGEST_PAUSE)

    async def rollback(self) -> None:
        # The pool rolls back every connection it takes back, most often just after a COMMIT:
        # with no transaction open there is nothing to send to the thread.
        if self._connection is None or self._connection.in_transaction:
            await super().rollback()


BUSY_FIRST_PAUSE = 0.001
BUSY_LONGEST_PAUSE = 0.05


def _busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY


def connect(
    database: str,
    *,
    iter_chunk_size: int = 64,
    inline: bool = False,
    busy_timeout: float = 0.0,
    **kwargs: Any,
) -> Connection:
    if inline:
        # Opened on aiosqlite's thread, used on the loop's: never both at once (see Connection).
        kwargs.update(check_same_thread=False, timeout=0.0)

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, **kwargs)

    connection = Connection(connector, iter_chunk_size)
    connection.inline, connection.busy_timeout = inline, busy_timeout
    return connection


def install() -> None:
    storage.engine.use_sqlite_speedups(dataclasses.replace(storage.engine.sqlite_speedups(), driver=dbapi))


def dbapi(*, inline: bool = False, busy_timeout: float = 0.0) -> AsyncAdapt_aiosqlite_dbapi:
    """The DBAPI module for `create_async_engine(..., module=dbapi())` on a sqlite+aiosqlite URL;
    `inline` runs statements on the loop's thread, waiting up to `busy_timeout` s for the write lock."""
    module = types.ModuleType("aiosqlite_one_trip")
    module.__dict__.update(vars(aiosqlite))
    module.Connection = Connection  # type: ignore[attr-defined]
    module.connect = functools.partial(connect, inline=inline, busy_timeout=busy_timeout)  # type: ignore[attr-defined]
    return AsyncAdapt_aiosqlite_dbapi(module, sqlite3)
