"""Reminders through failures: a retry that would fall past the appointment, or into quiet hours that
end after it, is dropped with its reason (never sent late, never in quiet hours); one with time left
waits for the quiet hours' end. Replies keep no quiet hours."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import uuid
import zoneinfo

import pytest
from aiogram import Bot
from aiogram.utils.i18n import I18n
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialogs.reminders import reminder_message
from outreach.campaigns import QuietHours as CampaignQuietHours
from outreach.reminders import Scheduler
from outreach.sender import Sender
from outreach.windows import PAST, QUIET, Window, seconds_quiet
from programme.reminders import QuietHours
from sandbox.client import SandboxClient
from storage.crypto import Crypto
from storage.models import OutboxMessage, utcnow
from storage.models_appointments import Appointment
from storage.models_reminders import Reminder
from storage.outbox import Lane, Status
from tests.bot.test_appointments import add_office, new_case
from tests.outreach.conftest import drain, queue, recipients

UTC = zoneinfo.ZoneInfo("UTC")
BAKU = zoneinfo.ZoneInfo("Asia/Baku")


def baku(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=BAKU).astimezone(dt.UTC)


def test_a_window_moves_a_time_out_of_the_quiet_hours_and_refuses_one_too_late() -> None:
    night = CampaignQuietHours(21 * 3600, 9 * 3600)
    campaign = Window(BAKU, night)
    assert campaign.place(baku(1, 20)) == (baku(1, 20), None)
    assert campaign.place(baku(1, 22)) == (baku(2, 9), None)
    reminder = Window(BAKU, night, deadline=baku(2, 10))
    assert reminder.place(baku(1, 23)) == (baku(2, 9), None)
    assert reminder.place(baku(2, 9, 59)) == (baku(2, 9, 59), None)
    assert reminder.place(baku(2, 10)) == (None, PAST)
    early = Window(BAKU, night, deadline=baku(2, 8, 30))
    assert early.place(baku(1, 20, 59)) == (baku(1, 20, 59), None)
    assert early.place(baku(1, 21)) == (None, QUIET)
    assert early.place(baku(2, 8, 45)) == (None, PAST)
    # Quiet hours that end the minute the appointment begins leave no time before it.
    at_nine = Window(BAKU, night, deadline=baku(2, 9))
    assert at_nine.place(baku(1, 23)) == (None, QUIET)


def test_a_window_cannot_be_changed_in_place() -> None:
    """A campaign's window is shared by every claimed row of it: stopping or moving one row's would
    stop or move them all."""
    window = Window(BAKU, CampaignQuietHours(21 * 3600, 9 * 3600))
    with pytest.raises(dataclasses.FrozenInstanceError):
        window.stopped = "paused"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        window.deadline = baku(2, 10)  # type: ignore[misc]
    assert window.stopped is None
    assert window.deadline is None


def test_reminder_quiet_hours_as_seconds_after_midnight() -> None:
    """The reminder setting's local times become the window's seconds after midnight, to the second."""
    assert seconds_quiet(QuietHours(dt.time(21, 30), dt.time(8, 5, 7))) == CampaignQuietHours(
        21 * 3600 + 30 * 60, 8 * 3600 + 5 * 60 + 7
    )
    assert seconds_quiet(None) is None


def clock_time(at: dt.datetime) -> dt.time:
    return at.astimezone(UTC).time().replace(microsecond=0)


@pytest.mark.slow
async def test_reminder_retries_that_would_go_late_are_dropped_with_their_reason(
    phone: SandboxClient,
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    i18n: I18n,
) -> None:
    now = utcnow()
    # Office time is UTC here; quiet hours begin within two seconds and last three.
    quiet_from = dt.datetime.fromtimestamp(math.ceil(now.timestamp()) + 1, dt.UTC)
    quiet_until = quiet_from + dt.timedelta(seconds=3)
    quiet = QuietHours(clock_time(quiet_from), clock_time(quiet_until))
    # Each first attempt fails (5xx): its retry, two seconds on, is inside the quiet hours.
    starts = {
        "soon": now + dt.timedelta(seconds=1.5),  # the retry would be after it began
        "in_quiet": quiet_until - dt.timedelta(seconds=0.5),  # it begins before the quiet hours end
        "later": now + dt.timedelta(hours=1),  # time enough: it waits for their end
    }
    users = {name: await phone.create_user() for name in starts}
    reminder_of: dict[str, uuid.UUID] = {}
    async with sessionmaker() as session, session.begin():
        office = await add_office(session, capacity=10)
        for name, starts_at in starts.items():
            case = await new_case(session, crypto, users[name])
            appointment = Appointment(case_id=case.id, office_id=office.id, type="first", starts_at=starts_at)
            session.add(appointment)
            await session.flush()
            reminder = Reminder(appointment_id=appointment.id, kind="before", offset_minutes=60, due_at=now)
            session.add(reminder)
            await session.flush()
            reminder_of[name] = reminder.id
    scheduler = Scheduler(
        sessionmaker,
        crypto,
        functools.partial(reminder_message, i18n),
        default_timezone="UTC",
        quiet_hours=quiet,
    )
    assert await scheduler.run_once() == 3
    await phone.inject_fault("500", count=3, method="sendMessage")
    sender = Sender(
        bot, sessionmaker, crypto, rate=25, idle_interval=0.05, zone=UTC, reminder_quiet_hours=quiet
    )
    await drain(sender, sessionmaker, within=30)

    async with sessionmaker() as session:
        reminders = {r.id: r for r in (await session.execute(select(Reminder))).scalars()}
        rows = {row.id: row for row in (await session.execute(select(OutboxMessage))).scalars()}
    outcome = {
        name: (
            reminders[reminder_of[name]].status,
            reminders[reminder_of[name]].reason,
            rows[reminders[reminder_of[name]].outbox_id].status,  # type: ignore[index]
            rows[reminders[reminder_of[name]].outbox_id].error,  # type: ignore[index]
        )
        for name in starts
    }
    assert outcome == {
        "soon": ("dropped", PAST, Status.CANCELLED, f"reminder {PAST}"),
        "in_quiet": ("dropped", QUIET, Status.CANCELLED, f"reminder {QUIET}"),
        "later": ("enqueued", None, Status.SENT, None),
    }
    log = [entry for entry in await phone.call_log() if entry["method"] == "sendMessage"]
    assert sum(not entry["ok"] for entry in log) == 3
    delivered = [entry for entry in log if entry["ok"]]
    assert [entry["chat_id"] for entry in delivered] == [users["later"]]
    # Its retry was placed at the quiet hours' end, and its attempt was not made before that.
    later = rows[reminders[reminder_of["later"]].outbox_id]  # type: ignore[index]
    assert later.not_before == quiet_until
    assert later.sent_at is not None and later.sent_at >= later.not_before
    for name in ("soon", "in_quiet"):
        assert not await phone.bot_messages(users[name])


@pytest.mark.slow
async def test_in_quiet_hours_a_reply_goes_and_a_reminder_waits_for_their_end(
    phone: SandboxClient,
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    # The sender's clock set; quiet hours all day but for a second that has just passed.
    end = now - dt.timedelta(seconds=6)
    quiet = QuietHours(clock_time(now - dt.timedelta(seconds=5)), clock_time(end))
    (replied, reply_to), (waits, reminded) = await recipients(phone, sessionmaker, crypto, 2)
    await queue(sessionmaker, crypto, [reply_to], lane=Lane.REPLY, not_before=now)
    await queue(sessionmaker, crypto, [reminded], lane=Lane.REMINDER, not_before=now)
    sender = Sender(
        bot,
        sessionmaker,
        crypto,
        rate=25,
        idle_interval=0.05,
        zone=UTC,
        reminder_quiet_hours=quiet,
        wall_clock=lambda: now,
    )
    # One round takes both and settles each: the reply sent, the reminder put back for later.
    assert await sender.run_once() == 2
    assert await sender.run_once() == 0  # nothing else is due at this time
    assert len(await phone.bot_messages(replied)) == 1
    assert await phone.bot_messages(waits) == []  # put back, not also sent
    async with sessionmaker() as session:
        rows = {row.lane: row for row in (await session.execute(select(OutboxMessage))).scalars()}
    assert rows[Lane.REPLY].status == Status.SENT
    waiting = rows[Lane.REMINDER]
    assert (waiting.status, waiting.attempts) == (Status.PENDING, 0)
    morning = dt.datetime.combine(now.date(), clock_time(end), tzinfo=dt.UTC)
    assert waiting.not_before == (morning if morning > now else morning + dt.timedelta(days=1))


async def test_a_reminder_back_for_a_retry_after_its_appointment_was_cancelled_is_dropped(
    phone: SandboxClient,
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    i18n: I18n,
) -> None:
    user = await phone.create_user()
    now = utcnow()
    async with sessionmaker() as session, session.begin():
        office = await add_office(session)
        case = await new_case(session, crypto, user)
        appointment = Appointment(
            case_id=case.id, office_id=office.id, type="first", starts_at=now + dt.timedelta(hours=2)
        )
        session.add(appointment)
        await session.flush()
        session.add(Reminder(appointment_id=appointment.id, kind="before", offset_minutes=60, due_at=now))
    render = functools.partial(reminder_message, i18n)
    assert await Scheduler(sessionmaker, crypto, render, default_timezone="UTC").run_once() == 1
    # Cancelled while the sender had its row out (drop_reminders leaves such a row to the sender),
    # which then came back pending from a 5xx.
    async with sessionmaker() as session, session.begin():
        await session.execute(
            Appointment.__table__.update().where(Appointment.id == appointment.id).values(status="cancelled")
        )
    sender = Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05, zone=UTC)
    assert await sender.run_once() == 1
    async with sessionmaker() as session:
        [reminder] = (await session.execute(select(Reminder))).scalars()
        [row] = (await session.execute(select(OutboxMessage))).scalars()
    assert (reminder.status, reminder.reason) == ("dropped", "cancelled")
    assert (row.status, row.error) == (Status.CANCELLED, "reminder cancelled")
    assert not await phone.bot_messages(user)


@pytest.mark.slow
async def test_a_reminder_held_by_a_429_pause_that_outlasts_its_time_left_is_dropped_not_sent_late(
    phone: SandboxClient,
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    i18n: I18n,
) -> None:
    """A reply's 429 pauses every send for RETRY_AFTER seconds; the reminders claimed meanwhile
    wait in the rate limiter. When the pause ends, the one whose appointment began during it is
    dropped (the last check before its request), and the one with time left goes."""
    retry_after, time_left = 5, dt.timedelta(seconds=3)
    (replied, reply_to), *_ = await recipients(phone, sessionmaker, crypto, 1)
    users = {name: await phone.create_user() for name in ("soon", "later")}
    appointments: dict[str, uuid.UUID] = {}
    now = utcnow()
    async with sessionmaker() as session, session.begin():
        office = await add_office(session, capacity=10)
        for name, user in users.items():
            case = await new_case(session, crypto, user)
            appointment = Appointment(
                case_id=case.id, office_id=office.id, type="first", starts_at=now + dt.timedelta(hours=1)
            )
            session.add(appointment)
            await session.flush()
            session.add(Reminder(appointment_id=appointment.id, kind="before", offset_minutes=60, due_at=now))
            appointments[name] = appointment.id
    render = functools.partial(reminder_message, i18n)
    assert await Scheduler(sessionmaker, crypto, render, default_timezone="UTC").run_once() == 2
    await queue(sessionmaker, crypto, [reply_to], lane=Lane.REPLY)  # its lane goes first
    await phone.inject_fault("429", count=1, method="sendMessage", retry_after=retry_after)
    # One send a second: the reply's 429 is back long before the first reminder's turn.
    sender = Sender(bot, sessionmaker, crypto, rate=1, idle_interval=0.05, zone=UTC)
    async with sessionmaker() as session, session.begin():
        # Time left for "soon", from now: less than the pause, more than its claim takes.
        await session.execute(
            Appointment.__table__.update()
            .where(Appointment.id == appointments["soon"])
            .values(starts_at=utcnow() + time_left)
        )
    await drain(sender, sessionmaker, within=30)

    async with sessionmaker() as session:
        reminders = {
            reminder.appointment_id: reminder
            for reminder in (await session.execute(select(Reminder))).scalars()
        }
        rows = {row.id: row for row in (await session.execute(select(OutboxMessage))).scalars()}
    soon, later = reminders[appointments["soon"]], reminders[appointments["later"]]
    assert (soon.status, soon.reason) == ("dropped", PAST)
    assert (rows[soon.outbox_id].status, rows[soon.outbox_id].error) == (Status.CANCELLED, f"reminder {PAST}")
    assert rows[later.outbox_id].status == Status.SENT
    calls = [
        (entry["chat_id"], entry["ok"])
        for entry in await phone.call_log()
        if entry["method"] == "sendMessage"
    ]
    # The 429 first; "soon" never reached Telegram; the reply went again after the pause.
    assert calls[0] == (replied, False)
    assert sorted(calls[1:]) == sorted([(replied, True), (users["later"], True)])
    assert not await phone.bot_messages(users["soon"])
