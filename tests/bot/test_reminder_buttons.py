"""Reminders through the real bot and sender against the sandbox: their buttons in the person's
language (right to left too), confirm once, stale and forged taps, cancel and reschedule through the
appointment dialog, and the no-show follow-up into the booking dialog."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.utils.i18n import I18n
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialogs.reminders import ReminderTap, reminder_message
from bot.factory import create_bot
from outreach.reminders import Scheduler
from outreach.sender import Sender
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage.appointments import book_appointment
from storage.crypto import Crypto
from storage.journey import ensure_case
from storage.models import AuditEntry
from storage.models_appointments import Appointment, Office
from storage.models_reminders import Reminder
from storage.queries import find_beneficiary
from tests.bot.conftest import TOKEN
from tests.bot.test_appointments import BAKU, choose_slot, offices, target_day
from tests.bot.test_journey import screened, tap_and_wait
from tests.bot.test_screening import Translate
from tests.outreach.conftest import drain
from wording import dates

pytestmark = pytest.mark.slow

HOUR = dt.timedelta(hours=1)
NO_LONGER = "This button is no longer active. Please use the newest message."


@pytest.fixture
async def sender_bot(sandbox: SandboxServer) -> AsyncIterator[Bot]:
    bot = create_bot(TOKEN, sandbox.url)
    yield bot
    await bot.session.close()


class Worker:
    """The worker's scheduler at a time the test sets, and its sender draining the outbox."""

    def __init__(
        self,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        crypto: Crypto,
        i18n: I18n,
        now: dt.datetime,
    ) -> None:
        self.now = now
        self.sessionmaker = sessionmaker
        self.scheduler = Scheduler(
            sessionmaker,
            crypto,
            functools.partial(reminder_message, i18n),
            default_timezone="Asia/Baku",
            clock=lambda: self.now,
        )
        self.sender = Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05)

    async def at(self, now: dt.datetime) -> int:
        self.now = now
        count = await self.scheduler.run_once()
        await drain(self.sender, self.sessionmaker)
        return count


@pytest.fixture
def worker(
    sender_bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    i18n: I18n,
    now: dt.datetime,
) -> Worker:
    return Worker(sender_bot, sessionmaker, crypto, i18n, now)


async def book_for(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    user: int,
    starts_at: dt.datetime,
    now: dt.datetime,
) -> Appointment:
    """An appointment booked at `now` (its reminders scheduled from then)."""
    async with sessionmaker() as session, session.begin():
        beneficiary = await find_beneficiary(session, crypto, telegram_id=user)
        assert beneficiary is not None
        case = await ensure_case(session, beneficiary=beneficiary)
        [office] = (await session.execute(select(Office))).scalars().all()
        appointment = await book_appointment(
            session, case=case, office=office, appointment_type="first", starts_at=starts_at, now=now
        )
        assert appointment is not None
        return appointment


def ten_oclock(now: dt.datetime, days: int = 2) -> dt.datetime:
    return dt.datetime.combine(target_day(now, days), dt.time(10), tzinfo=BAKU).astimezone(dt.UTC)


def labels(message: dict) -> list[str]:
    return [button["text"] for row in message["reply_markup"]["inline_keyboard"] for button in row]


def data_of(message: dict, label: str) -> str:
    return next(
        button["callback_data"]
        for row in message["reply_markup"]["inline_keyboard"]
        for button in row
        if button["text"] == label
    )


async def reminders(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Reminder]:
    async with sessionmaker() as session:
        return list((await session.execute(select(Reminder).order_by(Reminder.due_at))).scalars())


async def confirmations(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        statement = select(func.count()).where(AuditEntry.action == "appointment.confirmed")
        return (await session.execute(statement)).scalar_one()


@pytest.mark.parametrize(("locale", "label"), [("en", "English"), ("fa", "فارسی / دری")])
async def test_a_reminder_in_the_persons_language_is_confirmed_once_stale_and_forged_taps_do_nothing(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    worker: Worker,
    locale: str,
    label: str,
    now: dt.datetime,
) -> None:
    await offices(sessionmaker, {})
    user = await screened(phone, t, locale=locale, label=label)
    start = ten_oclock(now)
    await book_for(sessionmaker, crypto, user, start, now)
    assert await worker.at(start - 24 * HOUR) == 1
    message = await phone.wait_for_bot_message(user, contains=t("Reminder of your appointment", locale))
    confirm, cancel, move = (
        "✅ " + t("Confirm", locale),
        "✖️ " + t("Cancel", locale),
        "🔁 " + t("Reschedule", locale),
    )
    # A right-to-left reader reads the row of two from the right.
    assert labels(message) == ([confirm, move, cancel] if locale == "fa" else [confirm, cancel, move])
    assert dates.time_label(start, BAKU, locale) in message["text"]
    assert dates.date_label(start, BAKU, locale) in message["text"]
    assert "Office A street 1, Baku" in message["text"] and "IP-" not in message["text"]
    assert t("First meeting", locale) not in message["text"]  # never what the appointment is about
    if locale == "fa":
        assert "یادآوری" in message["text"]  # Persian, right to left, not the English msgid
    stale = data_of(message, confirm)

    thanks = t("Thank you for confirming. See you on {when}.", locale).split("{when}")[0].strip()
    await tap_and_wait(phone, user, confirm, thanks)
    assert [r.answer for r in await reminders(sessionmaker)] == ["confirmed", None]
    # The same button again (a double tap arriving late) and a forged token change nothing.
    again = await phone.press_for_answer(user, message_id=message["message_id"], callback_data=stale)
    assert again["text"] == t(NO_LONGER, locale)
    forged = ReminderTap(token="A" * 22, action="y").pack()
    answer = await phone.press_for_answer(user, message_id=message["message_id"], callback_data=forged)
    assert answer["text"] == t(NO_LONGER, locale)
    assert await confirmations(sessionmaker) == 1
    texts = [m["text"] for m in await phone.bot_messages(user)]
    assert sum(thanks in text for text in texts) == 1

    # The two-hour reminder, tapped twice at once: one confirmation, one "no longer active".
    assert await worker.at(start - 2 * HOUR) == 1
    await phone.wait_idle(user)
    second = [
        m for m in await phone.bot_messages(user) if t("Reminder of your appointment", locale) in m["text"]
    ]
    assert len(second) == 2
    data = data_of(second[-1], confirm)
    answers = await asyncio.gather(
        *(
            phone.press_for_answer(user, message_id=second[-1]["message_id"], callback_data=data)
            for _ in range(2)
        )
    )
    assert sorted(answer.get("text") or "" for answer in answers) == sorted(["", t(NO_LONGER, locale)])
    assert await confirmations(sessionmaker) == 2  # one per reminder


async def test_cancel_on_a_reminder_asks_first_then_drops_the_other_reminder(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    worker: Worker,
    now: dt.datetime,
) -> None:
    await offices(sessionmaker, {})
    user = await screened(phone, t)
    start = ten_oclock(now)
    appointment = await book_for(sessionmaker, crypto, user, start, now)
    await worker.at(start - 24 * HOUR)
    await phone.wait_for_bot_message(user, contains="Reminder of your appointment")
    await tap_and_wait(phone, user, "✖️ Cancel", "Do you want to cancel this appointment?")
    await tap_and_wait(phone, user, "Yes, cancel it", "Your appointment is cancelled.")
    async with sessionmaker() as session:
        assert (await session.get(Appointment, appointment.id)).status == "cancelled"
    assert [(r.status, r.answer) for r in await reminders(sessionmaker)] == [
        ("enqueued", "cancel"),
        ("dropped", None),
    ]
    assert await worker.at(start - 2 * HOUR) == 0
    texts = [m["text"] for m in await phone.bot_messages(user)]
    assert sum("Reminder of your appointment" in text for text in texts) == 1


async def test_reschedule_on_a_reminder_moves_the_appointment_and_its_reminders(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    worker: Worker,
    now: dt.datetime,
) -> None:
    await offices(sessionmaker, {})
    user = await screened(phone, t)
    start = ten_oclock(now)
    old = await book_for(sessionmaker, crypto, user, start, now)
    await worker.at(start - 24 * HOUR)
    await phone.wait_for_bot_message(user, contains="Reminder of your appointment")
    await tap_and_wait(phone, user, "🔁 Reschedule", "Choose a day. Days marked · have no free time.")
    later = target_day(now, 3)
    await choose_slot(phone, t, user, later, 11)
    await phone.wait_for_bot_message(user, contains="Move your appointment")
    await tap_and_wait(phone, user, "✅ " + t("Confirm"), t("Your appointment is moved."))
    async with sessionmaker() as session:
        new = (await session.execute(select(Appointment).where(Appointment.status == "booked"))).scalar_one()
    assert new.replaces_id == old.id
    assert {(r.appointment_id, r.status) for r in await reminders(sessionmaker)} == {
        (old.id, "enqueued"),
        (old.id, "dropped"),
        (new.id, "pending"),
    }


async def test_a_no_show_gets_one_kind_message_whose_button_opens_the_booking_calendar(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    worker: Worker,
    now: dt.datetime,
) -> None:
    await offices(sessionmaker, {})
    user = await screened(phone, t, locale="ru", label="Русский")
    missed = await book_for(sessionmaker, crypto, user, now - HOUR, now)
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Appointment).where(Appointment.id == missed.id).values(status="no_show"))
    assert await worker.at(now) == 1
    assert await worker.at(now) == 0
    message = await phone.wait_for_bot_message(user, contains=t("Would you like to choose a new time?", "ru"))
    assert labels(message) == ["📅 " + t("Choose a new time", "ru")]
    await tap_and_wait(
        phone,
        user,
        "📅 " + t("Choose a new time", "ru"),
        t("Choose a day. Days marked · have no free time.", "ru"),
    )
    texts = [m["text"] for m in await phone.bot_messages(user)]
    assert sum(t("Would you like to choose a new time?", "ru") in text for text in texts) == 1
