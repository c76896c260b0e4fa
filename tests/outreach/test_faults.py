"""A campaign through an unreliable Telegram: 10% server errors, timeouts and 429 bursts."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections import Counter

import pytest
from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach.sender import Sender
from sandbox.client import SandboxClient
from storage.crypto import Crypto
from storage.models import OutboxMessage
from storage.outbox import Lane, Status
from tests.outreach.conftest import check_exactly_once, copies_per_chat, drain, queue, recipients

pytestmark = pytest.mark.slow

RATE = 200
TIMEOUT_DELAY = 1.0


async def inject_faults(phone: SandboxClient) -> None:
    """One call in ten fails: mostly 5xx, some timeouts, now and then a burst of three 429s."""
    for n in itertools.count():
        calls = len(await phone.call_log())
        while (n + 1) * 10 > calls:  # keep to one fault per ten calls made so far
            await asyncio.sleep(0.02)
            calls = len(await phone.call_log())
        if n % 20 == 19:
            await phone.inject_fault("429", count=3, retry_after=1, method="sendMessage")
        elif n % 5 == 4:
            await phone.inject_fault("timeout", delay=TIMEOUT_DELAY, method="sendMessage")
        else:
            await phone.inject_fault("500" if n % 2 else "502", method="sendMessage")


async def test_a_campaign_through_server_errors_timeouts_and_429_bursts_completes_with_exact_counts(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    people = await recipients(phone, sessionmaker, crypto, 400)
    await queue(sessionmaker, crypto, [b for _, b in people], lane=Lane.BROADCAST, campaign_id=uuid.uuid4())
    sender = Sender(
        bot, sessionmaker, crypto, rate=RATE, request_timeout=TIMEOUT_DELAY / 3, idle_interval=0.05
    )
    injector = asyncio.create_task(inject_faults(phone))
    try:
        await drain(sender, sessionmaker, within=120)
    finally:
        injector.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await injector
    await phone.clear_faults()
    await asyncio.sleep(TIMEOUT_DELAY * 1.5)  # the calls the sender gave up on still land
    async with sessionmaker() as session:
        rows = list((await session.execute(select(OutboxMessage))).scalars())
    chat_of = dict((b, user) for user, b in people)
    copies = await copies_per_chat(phone)
    check_exactly_once(rows, {row.id: chat_of[row.beneficiary_id] for row in rows}, copies)
    log = [entry for entry in await phone.call_log() if entry["method"] == "sendMessage"]
    refused = Counter(entry["error_code"] for entry in log if not entry["ok"])
    statuses = Counter(row.status for row in rows)
    print(f"refused {dict(refused)}; outbox {dict(statuses)}; {len(log)} calls for {len(rows)} messages")
    assert refused[429] and (refused[500] + refused[502]) >= len(rows) // 20  # the faults did happen
    assert statuses[Status.UNCERTAIN] >= 1  # the timeouts: reported, not resent
