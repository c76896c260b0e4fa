"""Webhook mode: an endpoint that stores each update sealed before answering, and a consumer that
feeds stored updates to the dispatcher, one chat's in update_id order, across replicas.

Telegram counts an update as delivered once it gets a 2xx answer. Answering only after the update
has been committed to the database means a crash after answering loses nothing; answering 503 when
the database cannot take it makes Telegram deliver it again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import json
import logging
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Any

from aiogram import Bot, Dispatcher
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from yarl import URL

from storage.crypto import Crypto
from storage.inbound import (
    HANDLING,
    MAX_ATTEMPTS,
    QueuedUpdate,
    StoredUpdate,
    chat_hash,
    claim_updates,
    finish_updates,
    open_payload,
    queue_depth,
    release_updates,
    retry_later,
    store_update,
)
from storage.models import utcnow

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
# Updates are a few kilobytes; anything this big is not from Telegram.
MAX_UPDATE_BYTES = 1024 * 1024
# Telegram gives up on a request after about a minute; answer 503 well before so it retries.
STORE_TIMEOUT = 10.0
# A claimed update not finished by then belongs to a replica that died; another takes it over.
LEASE = dt.timedelta(seconds=20)
RETRY_BACKOFF_MAX = 60.0
SHUTDOWN_GRACE = 10.0
# Database errors surface as SQLAlchemy errors, or as OSError when the server cannot be reached.
DATABASE_ERRORS = (SQLAlchemyError, OSError)
_DATABASE_UNAVAILABLE = (*DATABASE_ERRORS, TimeoutError)


@dataclass
class WebhookStats:
    """Counters since start, for /metrics; they hold no personal data."""

    requests_unauthorised: int = 0
    requests_malformed: int = 0
    updates_stored: int = 0
    updates_taken: int = 0  # stored and leased to this replica in one transaction
    updates_redelivered: int = 0
    store_failures: int = 0
    updates_handled: int = 0
    updates_failed: int = 0
    updates_dropped: int = 0

    def items(self) -> Iterable[tuple[str, int]]:
        return ((field.name, getattr(self, field.name)) for field in fields(self))


def chat_key(update: dict[str, Any]) -> int | None:
    """Whose conversation an update belongs to: its user, else its chat (like aiogram's context).

    The update middleware serialises handling per user, so ordering per user keeps it consistent.
    """
    for kind, event in update.items():
        if kind == "update_id" or not isinstance(event, dict):
            continue
        for holder in ("from", "user", "chat"):
            found = event.get(holder)
            if isinstance(found, dict) and isinstance(found.get("id"), int):
                return int(found["id"])
    return None


@dataclass(frozen=True)
class TakenUpdate:
    """An update leased to this replica by the transaction that stored it, with the payload as
    received: it is handled from that, never unsealed."""

    id: uuid.UUID
    update_id: int
    chat_hash: str | None
    update: dict[str, Any]
    attempts: int = 1


Leased = TakenUpdate | QueuedUpdate


class InboundConsumer:
    """Takes stored updates (each the oldest of its chat), feeds them to the dispatcher, forgets them.

    An update this replica's endpoint receives while a slot is free is taken by the transaction that
    stores it (`store`); the others are claimed from the queue. Several replicas run one each on the
    same database; the claim query keeps them from taking the same update or two updates of one chat
    at once. The processed_updates record written in the update's own transaction makes a second
    handling (after a lease ran out) a no-op.
    """

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        crypto: Crypto,
        *,
        stats: WebhookStats | None = None,
        concurrency: int = 8,
        lease: dt.timedelta = LEASE,
        poll_interval: float = 1.0,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._dispatcher = dispatcher
        self._bot = bot
        self._sessionmaker = sessionmaker
        self._crypto = crypto
        self.stats = stats or WebhookStats()
        self._concurrency = concurrency
        self._batch = max(1, concurrency // 2)
        self._lease = lease
        # What time it is for leases and retry times (utcnow, or a test's set time).
        self._clock = clock
        self._poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._in_flight: dict[asyncio.Task[bool], Leased] = {}
        # Slots promised to stores under way, which may take their update.
        self._reserved = 0
        # Handled updates, deleted (if their transaction has not) by the next claim in one statement.
        self._finished: list[uuid.UUID] = []
        # Rows of a chat leased to this replica, in flight or handled and perhaps not yet deleted:
        # a newer update of the chat may be taken behind them (by row id, their chat's hash).
        self._held: dict[uuid.UUID, str] = {}
        # Whether the queue may hold updates to claim as soon as a slot is free (it had more than a
        # claim took, or an update was stored while every slot was busy).
        self._backlog = True
        # Chats with an update queued behind one in flight here, whose end makes it claimable.
        self._behind: set[str] = set()

    def wake(self) -> None:
        """Something was stored or finished: look for work now rather than at the next poll."""
        self._backlog = True
        self._wake.set()

    async def store(
        self, update: dict[str, Any], *, update_id: int, chat_key: int | None, payload: str
    ) -> StoredUpdate | None:
        """Store an update this replica received.

        With a slot free and no update queued for one, the same statement takes the update when
        nothing older of its chat is queued but what this replica holds, and it is handled after
        those, from `update`: no claim, no unseal. Otherwise it waits in the queue to be claimed,
        here or by another replica.
        """
        # Updates already queued for a slot go first: a new one taking it would overtake them.
        take = not self._backlog and len(self._in_flight) + self._reserved < self._concurrency
        self._reserved += take
        chat = chat_hash(self._crypto, chat_key)
        held = [row_id for row_id, of in self._held.items() if of == chat] if chat is not None else []
        before = [task for task, row in self._in_flight.items() if row.id in held]
        try:
            async with self._sessionmaker() as session, session.begin():
                stored = await store_update(
                    session,
                    self._crypto,
                    bot_id=self._bot.id,
                    update_id=update_id,
                    chat_key=chat_key,
                    payload=payload,
                    take_for=self._lease if take else None,
                    held=held,
                    now=self._clock(),
                )
        finally:
            self._reserved -= take
        if stored is None:
            return None
        if stored.taken:
            self.stats.updates_taken += 1
            self._start(TakenUpdate(stored.id, update_id, chat, update), after=before)
        elif take and chat is not None:
            self._behind.add(chat)  # an older one of its chat is queued
            self._wake.set()  # perhaps claimable already
        else:
            self.wake()
        return stored

    async def run(self, stop: asyncio.Event) -> None:
        relay = asyncio.create_task(self._wake_on(stop))
        polled = True  # the first claim finds what was left from before
        try:
            while not stop.is_set():
                self._wake.clear()
                free = self._concurrency - len(self._in_flight) - self._reserved
                # Woken, it claims for several slots at once rather than a transaction per update.
                claimed = await self._claim(free) if free >= (1 if polled else self._batch) else []
                for row in claimed:
                    self._start(row)
                if claimed and len(claimed) == free:
                    self._backlog = True
                    continue  # there may be more waiting; claim again once slots are free
                # Updates stored by other replicas and leases that ran out are found by polling; the
                # poll's claim also deletes the finished rows when no other claim has.
                try:
                    polled = False
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval)
                except TimeoutError:
                    polled = True
        finally:
            relay.cancel()
            await self._drain()

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    def _start(self, row: Leased, after: list[asyncio.Task[bool]] | None = None) -> None:
        if row.chat_hash is not None:
            self._held[row.id] = row.chat_hash
        task = asyncio.create_task(self._handle(row, after or []))
        self._in_flight[task] = row
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[bool]) -> None:
        row = self._in_flight.pop(task, None)
        # A claim after every update would cost a transaction each: only when one may find work.
        if row is not None and row.chat_hash in self._behind:
            self._behind.discard(row.chat_hash)
            self._wake.set()
        elif self._backlog:
            self._wake.set()

    def _deleted(self, ids: list[uuid.UUID]) -> None:
        for row_id in ids:
            self._held.pop(row_id, None)

    async def _drain(self) -> None:
        """Let updates being handled finish; give back any that do not in time."""
        rows: list[Leased] = []
        if self._in_flight:
            _, unfinished = await asyncio.wait(list(self._in_flight), timeout=SHUTDOWN_GRACE)
            rows = [self._in_flight[task] for task in unfinished if task in self._in_flight]
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
        if not rows and not self._finished:
            return
        with contextlib.suppress(*DATABASE_ERRORS):
            async with self._sessionmaker() as session, session.begin():
                await finish_updates(session, ids=self._finished)
                # Their transactions were cancelled and rolled back; another replica may take them now.
                await release_updates(session, ids=[row.id for row in rows])
            self._finished = []

    async def _claim(self, limit: int) -> list[QueuedUpdate]:
        finished, self._finished = self._finished, []
        self._backlog = False
        # This claim has whatever those chats have claimable, except behind an update still in flight.
        self._behind &= {row.chat_hash for row in self._in_flight.values() if row.chat_hash is not None}
        try:
            async with self._sessionmaker() as session, session.begin():
                await finish_updates(session, ids=finished)
                claimed = await claim_updates(
                    session, bot_id=self._bot.id, limit=limit, lease=self._lease, now=self._clock()
                )
        except DATABASE_ERRORS as error:
            self._finished.extend(finished)
            self._backlog = True
            log.warning("could not claim stored updates: %s; retrying", type(error).__name__)
            await asyncio.sleep(self._poll_interval)
            return []
        self._deleted(finished)
        return claimed

    async def _handle(self, row: Leased, after: list[asyncio.Task[bool]]) -> bool:
        """Feed the update to the dispatcher once the updates of its chat taken before it are done;
        whether it is done with (handled, or given up)."""
        if after and not await _all_done_with(after):
            # An older update of its chat failed and waits to be retried: this one waits behind it.
            await self._requeue(row, delay=None)
            return False
        if row.attempts > MAX_ATTEMPTS:
            # Taken this often without finishing: it keeps killing or stalling its replica.
            log.error("update %s dropped after %s attempts", row.update_id, MAX_ATTEMPTS)
            self.stats.updates_dropped += 1
            self._forget(row)
            return True
        HANDLING.set(row.id)  # this task's own context: the update's transaction deletes the row
        try:
            update = row.update if isinstance(row, TakenUpdate) else open_payload(self._crypto, row)
            await self._dispatcher.feed_raw_update(self._bot, update)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # Handler errors are answered by the dispatcher's error handler; what gets here failed
            # around it (database gone, a key no longer configured). Only its kind is logged: its
            # text may quote what a person typed.
            self.stats.updates_failed += 1
            log.error("update %s failed (attempt %s): %s", row.update_id, row.attempts, type(error).__name__)
            await self._requeue(row, delay=min(2.0**row.attempts, RETRY_BACKOFF_MAX))
            return False
        self.stats.updates_handled += 1
        self._forget(row)
        return True

    def _forget(self, row: Leased) -> None:
        # An update applied in a transaction deleted its row there; any other (not a private chat,
        # given up) is deleted by the next claim, at the latest the next poll's. Should the process
        # die first, the row is fed again once its lease runs out, and processed_updates makes that
        # a no-op.
        self._finished.append(row.id)

    async def _requeue(self, row: Leased, *, delay: float | None) -> None:
        """Back in the queue, claimable after `delay` seconds (None: at once); what comes after it in
        its chat waits."""
        self._held.pop(row.id, None)
        not_before = None if delay is None else self._clock() + dt.timedelta(seconds=delay)
        try:
            async with self._sessionmaker() as session, session.begin():
                await retry_later(session, update_row_id=row.id, not_before=not_before)
        except DATABASE_ERRORS as error:
            log.warning("update %s kept for its lease to run out: %s", row.update_id, type(error).__name__)


async def _all_done_with(tasks: list[asyncio.Task[bool]]) -> bool:
    """Wait for these handlings; whether each is done with its update."""
    await asyncio.wait(tasks)
    return all(not task.cancelled() and task.exception() is None and task.result() for task in tasks)


def _secret_matches(request: web.Request, secret: bytes) -> bool:
    given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given, secret)


def webhook_paths(url: str) -> list[str]:
    """The local paths to serve: those of the (comma-separated) webhook URLs."""
    paths = []
    for part in url.split(","):
        path = URL(part.strip()).path or "/"
        if path not in paths:
            paths.append(path)
    return paths


STATS = web.AppKey("webhook_stats", WebhookStats)


def create_webhook_app(
    *,
    bot_id: int,
    secret: str,
    paths: list[str],
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    consumer: InboundConsumer | None,
    stats: WebhookStats | None = None,
) -> web.Application:
    """The webhook endpoint on `paths`, /healthz and /metrics. Without a consumer it only stores."""
    stats = stats or (consumer.stats if consumer is not None else WebhookStats())
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        if not _secret_matches(request, expected):
            stats.requests_unauthorised += 1
            return web.Response(status=401, text="unauthorised")
        try:
            body = await request.read()
            update = json.loads(body)
            update_id = update["update_id"]
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                raise TypeError("update_id")
            payload = body.decode("utf-8")
            key = chat_key(update)
        except (ValueError, TypeError, KeyError):
            stats.requests_malformed += 1
            return web.Response(status=400, text="not an update")
        try:
            async with asyncio.timeout(STORE_TIMEOUT):
                if consumer is not None:
                    stored = await consumer.store(update, update_id=update_id, chat_key=key, payload=payload)
                else:
                    async with sessionmaker() as session, session.begin():
                        stored = await store_update(
                            session, crypto, bot_id=bot_id, update_id=update_id, chat_key=key, payload=payload
                        )
        except _DATABASE_UNAVAILABLE as error:
            stats.store_failures += 1
            log.warning("update %s not stored (%s): answered 503", update_id, type(error).__name__)
            return web.Response(status=503, text="try again later")
        if stored is not None:
            stats.updates_stored += 1
        else:
            stats.updates_redelivered += 1
        return web.Response(status=200)

    async def healthz(request: web.Request) -> web.Response:
        # Liveness only: it must answer while the database is down, so nothing restarts in a loop.
        return web.Response(text="ok")

    async def metrics(request: web.Request) -> web.Response:
        lines = []
        for name, value in stats.items():
            lines += [f"# TYPE intake_webhook_{name}_total counter", f"intake_webhook_{name}_total {value}"]
        try:
            async with asyncio.timeout(STORE_TIMEOUT), sessionmaker() as session:
                depth, oldest = await queue_depth(session, bot_id=bot_id)
        except _DATABASE_UNAVAILABLE:
            lines += ["# TYPE intake_database_up gauge", "intake_database_up 0"]
        else:
            age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
            lines += [
                "# TYPE intake_database_up gauge",
                "intake_database_up 1",
                "# TYPE intake_inbound_queue_depth gauge",
                f"intake_inbound_queue_depth {depth}",
                "# TYPE intake_inbound_oldest_age_seconds gauge",
                f"intake_inbound_oldest_age_seconds {age:.3f}",
            ]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")

    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app[STATS] = stats
    for path in paths:
        app.router.add_post(path, receive)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


async def serve_app(
    app: web.Application, host: str, port: int, *, sock: socket.socket | None = None
) -> web.AppRunner:
    """Listen on host:port, or on `sock`, a listening socket the caller made and keeps (a copy of it
    is served and closed with the runner); the caller cleans the returned runner up. No access log:
    nothing in it would help, and a proxy in front logs requests already."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port) if sock is None else web.SockSite(runner, sock.dup())
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
