"""Every outbox row ends sent, failed or uncertain, never sent twice; long texts; paid broadcasts; lanes."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiogram import Bot
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach.sender import Sender
from sandbox.client import SandboxClient
from storage.crypto import Crypto
from storage.models import OutboxMessage, utcnow
from storage.outbox import TEXT_LIMIT, Lane, Status, claim, enqueue, mark_attempts_started, split_text
from tests.outreach.conftest import drain, queue, recipients, until

pytestmark = pytest.mark.slow
# The sender's default: how much sending one round claims.
ROUND_SECONDS = 0.25


def test_long_texts_are_cut_at_paragraphs_then_lines_then_spaces() -> None:
    paragraph = ("word " * 500).strip()  # 2,499 characters
    parts = split_text(f"{paragraph}\n\n{paragraph}\n\n{paragraph}")
    assert parts == [paragraph] * 3
    lines = split_text("\n".join(["x" * 99] * 100))
    assert all(len(part) <= TEXT_LIMIT and not part.endswith("\n") for part in lines)
    assert "".join(lines).replace("\n", "") == "x" * 9900
    assert split_text("y" * 5000) == ["y" * 4096, "y" * 904]  # no boundary at all: a hard cut
    assert split_text("short") == ["short"]


def test_the_limit_counts_utf16_units_as_telegram_does() -> None:
    parts = split_text("😀" * 3000)  # each is two UTF-16 units
    assert [len(part) for part in parts] == [2048, 952]


async def test_a_row_whose_attempt_had_started_is_settled_uncertain_and_never_resent(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    [(user, beneficiary)] = await recipients(phone, sessionmaker, crypto, 1)
    await queue(sessionmaker, crypto, [beneficiary])
    async with sessionmaker() as session, session.begin():
        [row] = await claim(session, now=utcnow(), lease=dt.timedelta(seconds=1), limit=10)
        # A sender that marked the attempt, then died during the request.
        await mark_attempts_started(session, message_ids=[row.id], at=utcnow())
    await drain(Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05), sessionmaker)
    async with sessionmaker() as session:
        assert (await session.execute(select(OutboxMessage.status))).scalars().all() == [Status.UNCERTAIN]
    assert await phone.bot_messages(user) == []


class CommittedBetweenStatements:
    """A claim's session, after whose first statement `meanwhile` runs in its transaction: what
    another transaction committing between the two statements shows the second on PostgreSQL (each
    statement sees what was committed before it began)."""

    def __init__(self, session: AsyncSession, meanwhile: Callable[[AsyncSession], Awaitable[None]]) -> None:
        self._session = session
        self._meanwhile: Callable[[AsyncSession], Awaitable[None]] | None = meanwhile

    def get_bind(self) -> Any:
        return self._session.get_bind()

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        result = await self._session.execute(*args, **kwargs)
        if self._meanwhile is not None:
            meanwhile, self._meanwhile = self._meanwhile, None
            await meanwhile(self._session)
        return result


async def test_a_row_a_dead_sender_attempted_is_not_claimed_again_when_it_turns_up_mid_claim(
    phone: SandboxClient, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    """The campaign-uncertain browser test's flake on PostgreSQL: the row appeared, attempted by a
    dead sender, after the claim had settled such rows uncertain; its second statement took it to be
    sent again."""
    [(_, beneficiary)] = await recipients(phone, sessionmaker, crypto, 1)
    await queue(sessionmaker, crypto, [beneficiary])
    async with sessionmaker() as session, session.begin():
        await session.execute(update(OutboxMessage).values(status=Status.PAUSED))
    died = utcnow() - dt.timedelta(minutes=1)

    async def dead_senders_row(session: AsyncSession) -> None:
        await session.execute(
            update(OutboxMessage).values(status=Status.SENDING, attempt_started_at=died, lease_until=died)
        )

    async with sessionmaker() as session, session.begin():
        claiming = CommittedBetweenStatements(session, dead_senders_row)
        taken = await claim(claiming, now=utcnow(), lease=dt.timedelta(seconds=60), limit=10)  # type: ignore[arg-type]
    assert taken == []
    async with sessionmaker() as session, session.begin():
        assert await claim(session, now=utcnow(), lease=dt.timedelta(seconds=60), limit=10) == []
    async with sessionmaker() as session:
        assert (await session.execute(select(OutboxMessage.status))).scalars().all() == [Status.UNCERTAIN]


async def test_every_settled_row_has_no_attempt_mark_left(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    people = await recipients(phone, sessionmaker, crypto, 30)
    await queue(sessionmaker, crypto, [beneficiary for _, beneficiary in people])
    await drain(Sender(bot, sessionmaker, crypto, rate=1000, idle_interval=0.05), sessionmaker)
    async with sessionmaker() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
    assert {(row.status, row.attempt_started_at, row.attempts) for row in rows} == {(Status.SENT, None, 1)}
    assert all(row.telegram_message_id for row in rows)


async def test_a_text_over_4096_characters_arrives_as_several_messages_in_order(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    [(user, beneficiary)] = await recipients(phone, sessionmaker, crypto, 1)
    paragraphs = [f"Paragraph {n}. " + "text " * 400 for n in range(5)]  # about 10,000 characters
    button = {"inline_keyboard": [[{"text": "Open", "url": "https://example.org"}]]}
    async with sessionmaker() as session, session.begin():
        await enqueue(
            session, crypto, beneficiary_id=beneficiary, text="\n\n".join(paragraphs), reply_markup=button
        )
    await drain(Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05), sessionmaker)
    messages = await phone.bot_messages(user)
    assert len(messages) == 3
    assert all(len(message["text"]) <= TEXT_LIMIT for message in messages)
    assert " ".join(message["text"] for message in messages).split() == "\n\n".join(paragraphs).split()
    assert [bool(message.get("reply_markup")) for message in messages] == [False, False, True]


async def test_paid_broadcast_mode_asks_for_it_on_broadcasts_only(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    people = await recipients(phone, sessionmaker, crypto, 4)
    await queue(sessionmaker, crypto, [people[0][1], people[1][1]], lane=Lane.BROADCAST)
    await queue(sessionmaker, crypto, [people[2][1], people[3][1]], lane=Lane.REPLY)
    sender = Sender(bot, sessionmaker, crypto, rate=25, paid_broadcast=True, idle_interval=0.05)
    await drain(sender, sessionmaker)
    asked = {
        entry["chat_id"]: entry.get("paid_broadcast", False)
        for entry in await phone.call_log()
        if entry["method"] == "sendMessage" and entry["ok"]
    }
    assert asked == {people[0][0]: True, people[1][0]: True, people[2][0]: False, people[3][0]: False}


@pytest.mark.parametrize("rate", [25, 1000])
async def test_a_reply_enqueued_during_a_2000_recipient_broadcast_overtakes_it_within_two_rounds(
    phone: SandboxClient,
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    rate: int,
) -> None:
    """Counted in sends, not seconds: after the reply is committed, at most the rest of the round
    being sent and the round already claimed go before it (outreach.sender.Sender)."""
    people = await recipients(phone, sessionmaker, crypto, 2001)
    (asker, asker_id), crowd = people[0], people[1:]
    await queue(sessionmaker, crypto, [beneficiary for _, beneficiary in crowd], lane=Lane.BROADCAST)
    stop = asyncio.Event()
    round_size = max(1, round(rate * ROUND_SECONDS))
    sender = Sender(bot, sessionmaker, crypto, rate=rate, round_seconds=ROUND_SECONDS)
    running = asyncio.create_task(sender.run(stop))
    try:

        async def broadcasting() -> bool:  # get_me, then a good part of a second of the broadcast
            return len(await phone.call_log()) > 1 + min(rate, 200)

        await until(broadcasting)
        await queue(sessionmaker, crypto, [asker_id], lane=Lane.REPLY)
        committed = len(await phone.call_log())  # every call logged so far began before the commit

        async def reply_calls() -> list[dict[str, Any]]:
            return [entry for entry in await phone.call_log() if entry["chat_id"] == asker]

        replies = await until(reply_calls, every=0.02)
        log = await phone.call_log()
    finally:
        stop.set()
        await running
    overtaken = [
        entry for entry in log[committed : log.index(replies[0])] if entry["method"] == "sendMessage"
    ]
    assert log.index(replies[0]) < len(crowd)  # the broadcast was still going when the reply overtook it
    assert replies[0]["ok"]
    print(f"{len(overtaken)} broadcast sends after the reply was committed, at {rate}/s")
    assert len(overtaken) <= 2 * round_size
