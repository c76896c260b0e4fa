"""Each answer Telegram (the sandbox) can give the sender, and what the outbox row says after it."""

from __future__ import annotations

import datetime as dt
import socket
import uuid
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot
from outreach.sender import Sender
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage.crypto import Crypto
from storage.models import Beneficiary, OutboxMessage, utcnow
from storage.outbox import Status, enqueue
from tests.outreach.conftest import TOKEN, recipients

pytestmark = pytest.mark.slow


async def one_row(sessionmaker: async_sessionmaker[AsyncSession]) -> OutboxMessage:
    async with sessionmaker() as session:
        [row] = (await session.execute(select(OutboxMessage))).scalars().all()
        return row


async def send_one(
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    beneficiary_id: uuid.UUID,
    text: str = "Notice",
    **options: float,
) -> OutboxMessage:
    """One message queued and one round of the sender; the row as that round left it."""
    async with sessionmaker() as session, session.begin():
        await enqueue(session, crypto, beneficiary_id=beneficiary_id, text=text)
    assert await Sender(bot, sessionmaker, crypto, rate=25, **options).run_once() == 1
    return await one_row(sessionmaker)


def retried_later(row: OutboxMessage, error: str) -> bool:
    return (
        row.status == Status.PENDING
        and row.error == error
        and row.attempts == 1
        and row.attempt_started_at is None
        and row.not_before > utcnow()
    )


async def test_a_delivered_message_is_sent_with_telegrams_message_id_and_the_bots_parse_mode(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    [(user, beneficiary)] = await recipients(phone, sessionmaker, crypto, 1)
    row = await send_one(bot, sessionmaker, crypto, beneficiary, text="Office <b>open</b> &amp; free")
    [message] = await phone.bot_messages(user)
    assert (row.status, row.error, row.attempts) == (Status.SENT, None, 1)
    assert row.telegram_message_id == message["message_id"]
    assert message["text"] == "Office open & free"  # HTML, the bot's default parse mode


async def test_a_bad_request_fails_the_message_with_telegrams_description(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    [(user, beneficiary)] = await recipients(phone, sessionmaker, crypto, 1)
    row = await send_one(bot, sessionmaker, crypto, beneficiary, text="<b>unclosed")
    assert (row.status, row.attempts) == (Status.FAILED, 1)
    assert row.error is not None and row.error.startswith("Bad Request: can't parse entities")
    assert await phone.bot_messages(user) == []


@pytest.mark.parametrize(
    ("fault", "error"), [("500", "server error"), ("502", "server error"), ("429", "429")]
)
async def test_a_server_error_or_a_429_puts_the_message_back_for_later(
    phone: SandboxClient,
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    fault: str,
    error: str,
) -> None:
    [(user, beneficiary)] = await recipients(phone, sessionmaker, crypto, 1)
    await phone.inject_fault(fault, retry_after=5, method="sendMessage")
    row = await send_one(bot, sessionmaker, crypto, beneficiary)
    assert retried_later(row, error)
    if fault == "429":
        assert row.not_before >= utcnow() + dt.timedelta(seconds=4)
    assert await phone.bot_messages(user) == []


async def test_a_403_fails_the_message_and_marks_the_person_unreachable(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    [(_, beneficiary)] = await recipients(phone, sessionmaker, crypto, 1)
    await phone.inject_fault("403", method="sendMessage")
    row = await send_one(bot, sessionmaker, crypto, beneficiary)
    assert (row.status, row.error, row.attempts) == (Status.FAILED, "blocked", 1)
    async with sessionmaker() as session:
        person = await session.get(Beneficiary, beneficiary)
        assert person is not None and person.unreachable_at is not None


async def test_no_answer_in_time_settles_the_message_uncertain(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    [(_, beneficiary)] = await recipients(phone, sessionmaker, crypto, 1)
    await phone.inject_fault("timeout", delay=1.0, method="sendMessage")
    row = await send_one(bot, sessionmaker, crypto, beneficiary, request_timeout=0.3)
    assert (row.status, row.error, row.attempts) == (Status.UNCERTAIN, "no answer after sending", 1)


@pytest.fixture
async def unreachable_bot() -> AsyncIterator[Bot]:
    with socket.socket() as silent:  # bound by us and never listening: every connection is refused
        silent.bind(("127.0.0.1", 0))
        bot = create_bot(TOKEN, f"http://127.0.0.1:{silent.getsockname()[1]}")
        yield bot
        await bot.session.close()


async def test_a_connection_that_could_not_be_made_puts_the_message_back_for_later(
    phone: SandboxClient,
    unreachable_bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    [(_, beneficiary)] = await recipients(phone, sessionmaker, crypto, 1)
    row = await send_one(unreachable_bot, sessionmaker, crypto, beneficiary)
    assert retried_later(row, "connection")


async def test_an_answer_the_sender_does_not_expect_settles_the_message_uncertain(
    sandbox: SandboxServer,
    phone: SandboxClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    [(_, beneficiary)] = await recipients(phone, sessionmaker, crypto, 1)
    bot = create_bot("5151515151:too-short-for-a-token", sandbox.url)  # the sandbox answers 401
    try:
        row = await send_one(bot, sessionmaker, crypto, beneficiary)
    finally:
        await bot.session.close()
    assert (row.status, row.error, row.attempts) == (Status.UNCERTAIN, "unexpected error", 1)
