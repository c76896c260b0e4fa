"""One active sender among several `intake worker` processes, elected through PostgreSQL.

The leader holds a session-level advisory lock on a connection of its own; PostgreSQL releases it
when that connection ends, so a dead leader's place is free at once and another worker, trying
every `retry` seconds, takes over. SQLite has one process by design: there the work just runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

# Advisory locks in the two-key form (namespace, key): the one-key (bigint) space belongs to the
# per-chat locks of the bot (storage.queries), keyed by Telegram ids, so no chat can ever hold the
# leader's lock. PostgreSQL keeps the two spaces apart. "IB" is this product's namespace.
LOCK_NAMESPACE = 0x4942
# The outbox sender's election: a key every worker of this database agrees on.
SENDER_LOCK_KEY = 1
# What a lost database connection raises: a worker's loop waits and tries again.
DATABASE_LOST = (DBAPIError, InterfaceError, OperationalError, OSError)


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `stop` is set meanwhile: how every loop of the worker rests."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def keep_running(
    name: str, run: Callable[[asyncio.Event], Awaitable[None]], stop: asyncio.Event, *, retry: float = 5.0
) -> None:
    """`run` until `stop` is set; if it loses the database (a restart, a dropped connection), it
    waits `retry` seconds and runs again, instead of stopping the worker and the bot beside it.
    Each loop resumes from what the database says (the outbox's leases, the campaigns' progress).
    Only the error's kind is logged: its text may quote a row's values."""
    while not stop.is_set():
        try:
            await run(stop)
            return
        except DATABASE_LOST as error:
            log.warning("%s paused (%s); it resumes in a moment", name, type(error).__name__)
            await wait_or_stop(stop, retry)


async def lead_then_run(
    engine: AsyncEngine,
    work: Callable[[asyncio.Event], Awaitable[None]],
    stop: asyncio.Event,
    *,
    on_lead: Callable[[], Awaitable[None]] | None = None,
    key: int = SENDER_LOCK_KEY,
    retry: float = 1.0,
) -> None:
    """Run `work` while this process leads, until `stop`; `on_lead` runs first on every election."""
    if engine.dialect.name != "postgresql":
        if on_lead is not None:
            await on_lead()
        await work(stop)
        return
    while not stop.is_set():
        try:
            async with engine.connect() as connection:
                await _lead(connection, work, stop, on_lead, key, retry)
        except DATABASE_LOST as error:
            log.warning("lost the database while leading or waiting (%s); retrying", type(error).__name__)
            await wait_or_stop(stop, retry)


async def _lead(
    connection: AsyncConnection,
    work: Callable[[asyncio.Event], Awaitable[None]],
    stop: asyncio.Event,
    on_lead: Callable[[], Awaitable[None]] | None,
    key: int,
    retry: float,
) -> None:
    # Autocommit: the lock belongs to the session, and no transaction stays open while it is held.
    connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
    lock = text("SELECT pg_try_advisory_lock(:namespace, :key)")
    names = {"namespace": LOCK_NAMESPACE, "key": key}
    while not (await connection.execute(lock, names)).scalar_one():
        await wait_or_stop(stop, retry)
        if stop.is_set():
            return
    log.info("this worker is now the active sender")
    try:
        if on_lead is not None:
            await on_lead()
        working = asyncio.Event()
        task = asyncio.create_task(work(working))
        # Watch the lock's connection: a leader that lost it must stop, another may be elected.
        while not task.done():
            await wait_or_stop(stop, retry)
            if stop.is_set():
                break
            try:
                await connection.execute(text("SELECT 1"))
            except DATABASE_LOST:
                log.warning("the leader's database connection is gone: stopping the sender")
                working.set()
                await task
                raise
        working.set()
        await task
    finally:
        with contextlib.suppress(*DATABASE_LOST):
            await connection.execute(text("SELECT pg_advisory_unlock(:namespace, :key)"), names)
