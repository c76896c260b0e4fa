"""What the sender decides, per claimed message, before and after its request: when a message a chat
may not have yet comes back, what a withdrawal does to a reminder and to a broadcast, and whether a
dropped reminder counts an attempt. Read from the stored outbox rows, the sender's clocks set."""

from __future__ import annotations

import datetime as dt
import functools

from aiogram import Bot
from aiogram.utils.i18n import I18n
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialogs.reminders import reminder_message
from outreach.reminders import Scheduler
from outreach.sender import PER_CHAT_INTERVAL, Sender
from outreach.windows import PAST
from sandbox.client import SandboxClient
from storage.crypto import Crypto
from storage.models import Beneficiary, OutboxMessage, utcnow
from storage.models_appointments import Appointment
from storage.models_reminders import Reminder
from storage.outbox import Lane, Status
from storage.reminders import WITHDRAWN
from tests.bot.test_appointments import add_office, new_case
from tests.conftest import Clock
from tests.outreach.conftest import UTC, queue, recipients


async def outbox(sessionmaker: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessionmaker() as session:
        return list((await session.execute(select(OutboxMessage))).scalars())


async def test_a_second_message_to_a_chat_in_one_round_comes_back_a_second_later_unattempted(
    phone: SandboxClient,
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    [(user, beneficiary)] = await recipients(phone, sessionmaker, crypto, 1)
    await queue(sessionmaker, crypto, [beneficiary] * 2, not_before=now)
    sender = Sender(bot, sessionmaker, crypto, rate=25, clock=Clock(1000.0), wall_clock=lambda: now)
    assert await sender.run_once() == 2
    sent, deferred = sorted(await outbox(sessionmaker), key=lambda row: row.status != Status.SENT)
    assert sent.status == Status.SENT
    # Back for when the chat may have its next message: one second on, not before, no attempt spent.
    assert (deferred.status, deferred.attempts, deferred.error) == (Status.PENDING, 0, None)
    assert deferred.not_before == now + dt.timedelta(seconds=PER_CHAT_INTERVAL)
    assert [m["text"] for m in await phone.bot_messages(user)] == ["Notice 0"]


async def test_a_message_to_a_chat_that_had_one_less_than_a_second_ago_waits_only_the_rest_of_it(
    phone: SandboxClient,
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    [(user, beneficiary)] = await recipients(phone, sessionmaker, crypto, 1)
    clock, wall = Clock(1000.0), Clock(now)
    sender = Sender(bot, sessionmaker, crypto, rate=25, clock=clock, wall_clock=wall)
    await queue(sessionmaker, crypto, [beneficiary], not_before=now)
    assert await sender.run_once() == 1
    # A quarter of a second later (its first answered), the next message to that chat is due.
    clock.now += 0.25
    await queue(sessionmaker, crypto, [beneficiary], not_before=now)
    assert await sender.run_once() == 1
    [waiting] = [row for row in await outbox(sessionmaker) if row.status != Status.SENT]
    assert (waiting.status, waiting.attempts) == (Status.PENDING, 0)
    assert waiting.not_before == now + dt.timedelta(seconds=0.75)
    assert len(await phone.bot_messages(user)) == 1
    # At that time, a whole second after the first, it goes.
    clock.now += 0.75
    wall.now = now + dt.timedelta(seconds=0.75)
    assert await sender.run_once() == 1
    assert {row.status for row in await outbox(sessionmaker)} == {Status.SENT}
    assert len(await phone.bot_messages(user)) == 2


async def test_a_withdrawn_persons_reminder_is_dropped_unattempted_their_broadcast_fails_and_the_round_goes_on(
    phone: SandboxClient,
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    """Queued before the person withdrew: the reminder is dropped (a reminder's way out), the
    broadcast settled failed as withdrawn; the messages claimed with them still go."""
    (_, withdrew), (stays, reminded), (told, notified) = await recipients(phone, sessionmaker, crypto, 3)
    # Claimed in this order: the withdrawn reminder, the other reminder, the withdrawn broadcast,
    # another broadcast.
    await queue(sessionmaker, crypto, [withdrew], lane=Lane.REMINDER, not_before=now)
    await queue(
        sessionmaker, crypto, [reminded], lane=Lane.REMINDER, not_before=now + dt.timedelta(seconds=1)
    )
    await queue(sessionmaker, crypto, [withdrew], lane=Lane.BROADCAST, not_before=now)
    await queue(
        sessionmaker, crypto, [notified], lane=Lane.BROADCAST, not_before=now + dt.timedelta(seconds=1)
    )
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Beneficiary).where(Beneficiary.id == withdrew).values(withdrawn_at=now))
    later = now + dt.timedelta(seconds=2)
    sender = Sender(
        bot, sessionmaker, crypto, rate=25, zone=UTC, clock=Clock(1000.0), wall_clock=lambda: later
    )
    assert await sender.run_once() == 4
    rows = {(row.beneficiary_id, row.lane): row for row in await outbox(sessionmaker)}
    assert {key: (row.status, row.error) for key, row in rows.items()} == {
        (withdrew, Lane.REMINDER): (Status.CANCELLED, f"reminder {WITHDRAWN}"),
        (reminded, Lane.REMINDER): (Status.SENT, None),
        (withdrew, Lane.BROADCAST): (Status.FAILED, WITHDRAWN),
        (notified, Lane.BROADCAST): (Status.SENT, None),
    }
    # Settled unsent: no attempt counted (an attempt is a request made).
    assert rows[withdrew, Lane.REMINDER].attempts == rows[withdrew, Lane.BROADCAST].attempts == 0
    assert [m["text"] for m in await phone.bot_messages(stays)] == ["Notice 0"]
    assert [m["text"] for m in await phone.bot_messages(told)] == ["Notice 0"]


async def test_a_reminder_whose_retry_would_come_too_late_is_dropped_with_its_failed_attempt_counted(
    phone: SandboxClient,
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    i18n: I18n,
) -> None:
    user = await phone.create_user()
    due = utcnow()  # the scheduler's time: it stamps the row's
    starts_at = due + dt.timedelta(hours=2)
    async with sessionmaker() as session, session.begin():
        office = await add_office(session)
        case = await new_case(session, crypto, user)
        appointment = Appointment(case_id=case.id, office_id=office.id, type="first", starts_at=starts_at)
        session.add(appointment)
        await session.flush()
        session.add(Reminder(appointment_id=appointment.id, kind="before", offset_minutes=60, due_at=due))
    render = functools.partial(reminder_message, i18n)
    assert await Scheduler(sessionmaker, crypto, render, default_timezone="UTC").run_once() == 1
    await phone.inject_fault("500", count=1, method="sendMessage")
    # Sent a second before the appointment: the 5xx's retry (two seconds on) would be after it began.
    last_moment = starts_at - dt.timedelta(seconds=1)
    sender = Sender(bot, sessionmaker, crypto, rate=25, zone=UTC, wall_clock=lambda: last_moment)
    assert await sender.run_once() == 1
    [row] = await outbox(sessionmaker)
    assert (row.status, row.error, row.attempts) == (Status.CANCELLED, f"reminder {PAST}", 1)
    async with sessionmaker() as session:
        [reminder] = (await session.execute(select(Reminder))).scalars()
    assert (reminder.status, reminder.reason) == ("dropped", PAST)
    [call] = [entry for entry in await phone.call_log() if entry["method"] == "sendMessage"]
    assert not call["ok"]
