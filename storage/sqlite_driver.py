"""aiosqlite with one trip to its thread per statement.

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
"""

from __future__ import annotations

import sqlite3
import types
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi


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
    def cursor(self) -> Cursor:  # type: ignore[override]
        return Cursor(self)

    async def rollback(self) -> None:
        # The pool rolls back every connection it takes back, most often just after a COMMIT:
        # with no transaction open there is nothing to send to the thread.
        if self._connection is None or self._connection.in_transaction:
            await super().rollback()


def connect(database: str, *, iter_chunk_size: int = 64, **kwargs: Any) -> Connection:
    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, **kwargs)

    return Connection(connector, iter_chunk_size)


def dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DBAPI module for `create_async_engine(..., module=dbapi())` on a sqlite+aiosqlite URL."""
    module = types.ModuleType("aiosqlite_one_trip")
    module.__dict__.update(vars(aiosqlite))
    module.Connection = Connection  # type: ignore[attr-defined]
    module.connect = connect  # type: ignore[attr-defined]
    return AsyncAdapt_aiosqlite_dbapi(module, sqlite3)
