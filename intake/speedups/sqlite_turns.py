"""Speed patch: a process's SQLite writers take turns on an asyncio lock, taken from SQLAlchemy's
synchronous `begin` event.

- **Written against** SQLAlchemy 2.1.9: the `begin` event is synchronous, and the lock is awaited
  from it through `sqlalchemy.util.await_`, which relies on SQLAlchemy running an async driver's
  calls in a greenlet (an implementation detail of its asyncio extension).
- **What it changes**: before a writing transaction's `BEGIN IMMEDIATE` (storage.engine), it waits
  for an asyncio lock shared by every engine of the process (of its event loop) on that database
  file, and hands the lock on when the connection goes back to the pool. Without it, two writers of
  one process wait for each other in SQLite's busy handler, which sleeps up to 100 ms between tries;
  taking turns wakes the next one the moment the last one ends. Transactions that only read
  (storage.engine.reading) do not queue. The bot's inline engine (intake.speedups.sqlite_one_trip)
  also queues here behind the console's writers rather than spinning on the file lock.
- **Gain measured**: no figure on its own before; the profile showed the bot's transactions sleeping
  in the busy handler. `make bench BENCH_ARGS="--only speedups"` measures concurrent short writers of
  one process with and without it.
- **Test**: tests/storage/test_engine.py (a failed or repeated transaction hands its turn on; the bot
  queues behind the console's long transaction).
- **To remove**: delete this module and its lines in `intake.speedups.install`; SQLite's busy
  timeout alone then orders the writers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_

import storage.engine
from storage.engine import SQLITE_BUSY_TIMEOUT_MS, reads_only

_TURN = "intake_write_turn"

# The write locks of each event loop, by database file.
_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def install() -> None:
    storage.engine.use_sqlite_speedups(
        dataclasses.replace(storage.engine.sqlite_speedups(), engine=take_turns)
    )


def _write_lock(database: str) -> asyncio.Lock:
    locks = _LOCKS.setdefault(asyncio.get_running_loop(), {})
    return locks.get(database) or locks.setdefault(database, asyncio.Lock())


async def _acquire(lock: asyncio.Lock) -> None:
    # asyncio.timeout, not wait_for: no task per transaction, and a free lock is taken at once.
    async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):
        await lock.acquire()


def take_turns(engine: AsyncEngine, database: str) -> None:
    """Writers of `engine` queue on the lock of `database` before they begin."""

    # Called before storage.engine adds its own listener, which sends BEGIN IMMEDIATE after this one.
    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if _TURN not in connection.info and not reads_only(connection):
            # A connection keeps its turn until it is returned to the pool.
            lock = _write_lock(database)
            await_(_acquire(lock))
            connection.info[_TURN] = lock

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # After COMMIT or ROLLBACK and the pool's reset: the next transaction starts at once.
        lock = record.info.pop(_TURN, None) if record is not None else None
        if lock is not None:
            lock.release()
