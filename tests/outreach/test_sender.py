"""The outbox sender against the sandbox: global rate, one message per second per chat, 429 and 403."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach.sender import Sender
from sandbox.client import SandboxClient
from storage.crypto import Crypto
from storage.models import Beneficiary, OutboxMessage, utcnow
from storage.outbox import Status, claim
from tests.outreach.conftest import busiest_second, drain, queue, recipients, send_times

pytestmark = pytest.mark.slow


async def test_the_global_rate_is_never_exceeded_in_any_second(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    people = await recipients(phone, sessionmaker, crypto, 45)
    await queue(sessionmaker, crypto, [beneficiary for _, beneficiary in people])
    await drain(Sender(bot, sessionmaker, crypto, rate=20, idle_interval=0.05), sessionmaker)
    times = await send_times(phone)
    assert len(times) == 45
    assert busiest_second(times) <= 20
    for user, _ in people:
        assert len(await phone.bot_messages(user)) == 1


async def test_one_chat_never_gets_two_messages_within_a_second(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    [(user, beneficiary)] = await recipients(phone, sessionmaker, crypto, 1)
    await queue(sessionmaker, crypto, [beneficiary] * 3)
    await drain(Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05), sessionmaker)
    times = sorted(await send_times(phone))
    assert len(times) == 3
    assert all(later - earlier >= 0.95 for earlier, later in itertools.pairwise(times))
    assert [m["text"] for m in await phone.bot_messages(user)] == ["Notice 0", "Notice 1", "Notice 2"]


async def test_a_slow_send_is_not_overtaken_by_the_next_message_to_that_chat(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    [(user, beneficiary)] = await recipients(phone, sessionmaker, crypto, 1)
    await queue(sessionmaker, crypto, [beneficiary] * 2)
    # A bad connection: the first message takes 2.5 s, longer than a chat's one second apart.
    await phone.inject_fault("delay", count=1, delay=2.5, method="sendMessage")
    await drain(Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05), sessionmaker)
    assert [m["text"] for m in await phone.bot_messages(user)] == ["Notice 0", "Notice 1"]


async def test_a_429_pauses_every_send_for_retry_after(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    people = await recipients(phone, sessionmaker, crypto, 4)
    await queue(sessionmaker, crypto, [beneficiary for _, beneficiary in people])
    await phone.inject_fault("429", count=1, retry_after=2, method="sendMessage")
    await drain(Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05), sessionmaker)
    log = [entry for entry in await phone.call_log() if entry["method"] == "sendMessage"]
    refused = next(entry for entry in log if entry["error_code"] == 429)
    delivered = [entry["t"] for entry in log if entry["ok"]]
    assert len(delivered) == 4
    assert min(delivered) - refused["t"] >= 1.95


async def test_a_blocked_bot_marks_the_beneficiary_unreachable_and_stops_sending_to_them(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    [(user, beneficiary_id)] = await recipients(phone, sessionmaker, crypto, 1)
    await phone.block(user)
    await queue(sessionmaker, crypto, [beneficiary_id])
    sender = Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05)
    await drain(sender, sessionmaker)
    await queue(sessionmaker, crypto, [beneficiary_id])
    await drain(sender, sessionmaker)
    async with sessionmaker() as session:
        beneficiary = await session.get(Beneficiary, beneficiary_id)
        assert beneficiary is not None and beneficiary.unreachable_at is not None
        rows = (await session.execute(select(OutboxMessage.status, OutboxMessage.error))).all()
    assert sorted(rows) == [(Status.FAILED, "blocked"), (Status.FAILED, "unreachable")]
    attempts = [entry for entry in await phone.call_log() if entry["method"] == "sendMessage"]
    assert len(attempts) == 1


async def test_a_killed_senders_claim_is_taken_over_after_its_lease(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    [(user, beneficiary)] = await recipients(phone, sessionmaker, crypto, 1)
    await queue(sessionmaker, crypto, [beneficiary])
    async with sessionmaker() as session, session.begin():
        claimed = await claim(session, now=utcnow(), lease=dt.timedelta(seconds=1), limit=10)
        assert len(claimed) == 1  # a sender that then died without sending
    await drain(Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05), sessionmaker)
    assert [m["text"] for m in await phone.bot_messages(user)] == ["Notice 0"]
