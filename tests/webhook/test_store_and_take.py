"""Store and take: an update received while a slot is free is leased by the transaction that stores
it and handled from the payload as received. One chat's updates still go in update_id order, each
once; what a replica took and did not finish is left to another after its lease."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.webhook import LEASE, InboundConsumer, create_webhook_app, serve_app
from sandbox.client import SandboxClient
from storage.crypto import Crypto
from storage.engine import create_engine, create_sessionmaker
from storage.inbound import claim_updates, store_update
from storage.models import utcnow
from storage.models_webhook import InboundUpdate
from tests.webhook.conftest import BOT_ID, PATH, SECRET, Post, Replica, bound_url, text_update
from tests.webhook.test_webhook_delivery import queue_size

CHAT = 100_000_777
OTHER_CHAT = 100_000_778


@dataclass
class BotStub:
    id: int = BOT_ID


@dataclass
class GatedDispatcher:
    """Records what it is fed; each update is held until the test opens its gate."""

    fail: set[int] = field(default_factory=set)
    started: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)
    fed: dict[int, dict[str, Any]] = field(default_factory=dict)
    gates: dict[int, asyncio.Event] = field(default_factory=dict)

    def gate(self, update_id: int) -> asyncio.Event:
        return self.gates.setdefault(update_id, asyncio.Event())

    async def feed_raw_update(self, bot: BotStub, update: dict[str, Any]) -> None:
        update_id = update["update_id"]
        self.started.append(update_id)
        self.fed[update_id] = update
        await self.gate(update_id).wait()
        self.ended.append(update_id)
        if update_id in self.fail:
            raise ConnectionResetError("the database went away")


@dataclass
class Running:
    consumer: InboundConsumer
    dispatcher: GatedDispatcher
    sessionmaker: async_sessionmaker[AsyncSession]

    async def receive(self, update_id: int, chat: int | None) -> bool:
        """What the endpoint does with an update; whether its store took it."""
        update = text_update(update_id, chat or 1, f"message {update_id}")
        stored = await self.consumer.store(
            update, update_id=update_id, chat_key=chat, payload=json.dumps(update)
        )
        assert stored is not None
        return stored.taken

    async def rows(self) -> dict[int, InboundUpdate]:
        async with self.sessionmaker() as session:
            found = (await session.scalars(select(InboundUpdate))).all()
        return {row.update_id: row for row in found}


@contextlib.asynccontextmanager
async def consumer_running(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    *,
    concurrency: int = 8,
    poll_interval: float = 60.0,
    clock: Callable[[], dt.datetime] = utcnow,
) -> AsyncIterator[Running]:
    dispatcher = GatedDispatcher()
    # Polls far apart by default: what is claimed was claimed because the consumer knew to look.
    consumer = InboundConsumer(
        dispatcher,  # type: ignore[arg-type]
        BotStub(),  # type: ignore[arg-type]
        sessionmaker,
        crypto,
        concurrency=concurrency,
        poll_interval=poll_interval,
        clock=clock,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    await asyncio.sleep(0.2)  # its first claim (nothing is queued) is over
    try:
        yield Running(consumer, dispatcher, sessionmaker)
    finally:
        for gate in dispatcher.gates.values():
            gate.set()
        stop.set()
        await asyncio.wait_for(task, 30)


async def until(condition: Any, seconds: float = 10) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - state of other tasks
            await asyncio.sleep(0.02)


async def test_an_update_stored_while_a_slot_is_free_is_taken_and_handled_from_what_was_received(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    async with consumer_running(sessionmaker, crypto) as running:
        assert await running.receive(1, CHAT)
        await until(lambda: running.dispatcher.started == [1])
        # Leased to this replica by the store itself, and sealed at rest like any other.
        (row,) = (await running.rows()).values()
        assert row.attempts == 1 and row.lease_until is not None and row.lease_until > utcnow()
        assert b"message 1" not in row.payload_enc
        async with sessionmaker() as session, session.begin():
            assert await claim_updates(session, bot_id=BOT_ID, limit=10, lease=dt.timedelta(minutes=1)) == []

        running.dispatcher.gate(1).set()
        await until(lambda: running.dispatcher.ended == [1])
        assert running.dispatcher.fed[1] == text_update(1, CHAT, "message 1")
        assert running.consumer.stats.updates_taken == 1
        assert running.consumer.stats.updates_handled == 1


async def test_a_later_update_of_the_chat_arriving_while_one_is_handled_waits_for_it(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    async with consumer_running(sessionmaker, crypto) as running:
        assert await running.receive(1, CHAT)
        await until(lambda: running.dispatcher.started == [1])
        # Taken too (nothing older of its chat is queued but what this replica holds), not started.
        assert await running.receive(2, CHAT)
        assert await running.receive(3, OTHER_CHAT)
        await until(lambda: sorted(running.dispatcher.started) == [1, 3])
        await asyncio.sleep(0.2)
        assert running.dispatcher.started == [1, 3]

        running.dispatcher.gate(1).set()
        await until(lambda: running.dispatcher.started[-1:] == [2])
        assert running.dispatcher.ended == [1]  # 2 started after 1 ended
        running.dispatcher.gate(2).set()
        running.dispatcher.gate(3).set()
        await until(lambda: sorted(running.dispatcher.ended) == [1, 2, 3])
        assert running.dispatcher.started.count(2) == 1
        assert running.consumer.stats.updates_taken == 3


async def test_an_update_leased_by_a_replica_that_died_is_taken_once_its_lease_ran_out_not_before(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, now: dt.datetime
) -> None:
    # A replica took update 1 at `now` for a minute and died; update 2 (another chat) is nobody's.
    async with sessionmaker() as session, session.begin():
        for update_id, chat in ((1, CHAT), (2, OTHER_CHAT)):
            update = text_update(update_id, chat, f"message {update_id}")
            await store_update(
                session,
                crypto,
                bot_id=BOT_ID,
                update_id=update_id,
                chat_key=chat,
                payload=json.dumps(update),
                now=now,
            )
        (dead,) = await claim_updates(session, bot_id=BOT_ID, limit=1, lease=dt.timedelta(minutes=1), now=now)
    assert dead.update_id == 1
    at = now + dt.timedelta(seconds=59)
    async with consumer_running(sessionmaker, crypto, clock=lambda: at) as running:
        # Its first claim, a second before the lease runs out, takes update 2 and not update 1.
        await until(lambda: running.dispatcher.started == [2])
        running.dispatcher.gate(2).set()
        await until(lambda: running.dispatcher.ended == [2])
        assert (await running.rows())[1].lease_until == now + dt.timedelta(minutes=1)
        at = now + dt.timedelta(minutes=1, seconds=1)
        running.consumer.wake()
        await until(lambda: running.dispatcher.started == [2, 1])
        assert (await running.rows())[1].lease_until == at + LEASE  # its own lease, from its clock
        running.dispatcher.gate(1).set()
        await until(lambda: running.dispatcher.ended == [2, 1])


async def test_an_update_queued_behind_one_that_failed_is_given_back_not_handled_first(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    async with consumer_running(sessionmaker, crypto) as running:
        running.dispatcher.fail.add(1)
        assert await running.receive(1, CHAT)
        assert await running.receive(2, CHAT)
        running.dispatcher.gate(1).set()
        await until(lambda: running.consumer.stats.updates_failed == 1)
        async with asyncio.timeout(10):
            while (rows := await running.rows())[2].lease_until is not None:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        assert running.dispatcher.started == [1]
        # The failed one waits for its retry; the one behind it is nobody's, and not claimable yet.
        assert rows[1].lease_until is not None and rows[1].lease_until > utcnow()
        assert rows[2].lease_until is None
        async with sessionmaker() as session, session.begin():
            assert await claim_updates(session, bot_id=BOT_ID, limit=10, lease=dt.timedelta(minutes=1)) == []


async def test_with_every_slot_busy_an_update_is_queued_and_claimed_when_one_frees(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    async with consumer_running(sessionmaker, crypto, concurrency=1) as running:
        assert await running.receive(1, CHAT)
        assert not await running.receive(2, OTHER_CHAT)
        assert (await running.rows())[2].lease_until is None
        running.dispatcher.gate(1).set()
        await until(lambda: running.dispatcher.started == [1, 2], seconds=5)  # not the 60 s poll
        running.dispatcher.gate(2).set()
        await until(lambda: running.dispatcher.ended == [1, 2])
        assert running.consumer.stats.updates_taken == 1


async def test_a_taken_update_is_handled_behind_its_finished_predecessor_and_both_are_deleted(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    async with consumer_running(sessionmaker, crypto, poll_interval=0.3) as running:
        assert await running.receive(1, CHAT)
        running.dispatcher.gate(1).set()
        await until(lambda: running.consumer.stats.updates_handled == 1)
        # Its row may not be deleted yet: it does not hold back the next update of its chat.
        assert await running.receive(2, CHAT)
        running.dispatcher.gate(2).set()
        await until(lambda: running.dispatcher.ended == [1, 2])
        # What people typed is kept no longer than a poll after it was handled.
        async with asyncio.timeout(5):
            while await running.rows():  # noqa: ASYNC110 - the consumer's work
                await asyncio.sleep(0.05)
        assert running.consumer.stats.updates_taken == 2


async def test_a_database_outage_answers_503_when_the_consumer_would_take_the_update(
    post: Post, crypto: Crypto
) -> None:
    # Nothing listens on port 9: every connection is refused, as when the database is down.
    engine = create_engine("postgresql+asyncpg://root@127.0.0.1:9/none", pool_pre_ping=False)
    unreachable = create_sessionmaker(engine)
    dispatcher = GatedDispatcher()
    consumer = InboundConsumer(dispatcher, BotStub(), unreachable, crypto)  # type: ignore[arg-type]
    app = create_webhook_app(
        bot_id=BOT_ID, secret=SECRET, paths=[PATH], sessionmaker=unreachable, crypto=crypto, consumer=consumer
    )
    runner = await serve_app(app, "127.0.0.1", 0)
    try:
        for update_id in (9, 10):
            assert await post(f"{bound_url(runner)}{PATH}", text_update(update_id, CHAT, "hello")) == 503
        assert consumer.stats.store_failures == 2
        assert consumer.stats.updates_taken == 0 and dispatcher.started == []
    finally:
        await runner.cleanup()
        await engine.dispose()


async def test_an_applied_update_leaves_the_queue_with_its_own_transaction(
    replica: Replica, phone: SandboxClient, post: Post, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await replica.start()
    user = await phone.create_user(language_code="en")
    assert await post(replica.url, text_update(7, user, "/start")) == 200
    await phone.wait_for_bot_message(user, contains="🌐")
    # Replies are sent after the commit: by then the row is gone, without waiting for a claim.
    assert await queue_size(sessionmaker) == 0
