"""Withdrawal stops processing at once: after /withdraw (or "Withdraw my consent") no campaign message
and no reminder goes to the person, not even one queued before, and a later campaign leaves them out;
the person is told what happens to their data. Real bot, worker and sender against the sandbox."""

from __future__ import annotations

import datetime as dt

import pytest
from aiogram.utils.i18n import I18n
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sandbox.client import SandboxClient
from storage.crypto import Crypto
from storage.models import Beneficiary, OutboxMessage, utcnow
from storage.models_journey import DataRequest
from storage.models_reminders import DROPPED, ENQUEUED
from storage.outbox import Lane, Status
from tests.bot.conftest import BotProcess
from tests.bot.test_appointments import offices
from tests.bot.test_campaign_stop import campaign
from tests.bot.test_journey import screened, tap_and_wait, type_and_wait
from tests.bot.test_reminder_buttons import HOUR, Worker, book_for, reminders, ten_oclock
from tests.bot.test_screening import Translate, choose_language

pytestmark = pytest.mark.slow

REMINDER = "Reminder of your appointment"


@pytest.fixture
def worker(
    bot_process: BotProcess,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    i18n: I18n,
    now: dt.datetime,
) -> Worker:
    """The worker's scheduler and sender, sending through the running bot's session."""
    assert bot_process.bot is not None
    return Worker(bot_process.bot, sessionmaker, crypto, i18n, now)


async def outbox(sessionmaker: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessionmaker() as session:
        return list(
            (await session.execute(select(OutboxMessage).order_by(OutboxMessage.created_at))).scalars()
        )


async def test_after_withdraw_no_campaign_or_reminder_goes_out_even_one_queued_before(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    bot_process: BotProcess,
    worker: Worker,
    now: dt.datetime,
) -> None:
    await offices(sessionmaker, {})
    user = await screened(phone, t)
    start = ten_oclock(now)
    await book_for(sessionmaker, crypto, user, start, now)
    # Queued before the withdrawal: a campaign row, and the day-before reminder in the outbox.
    [queued] = await campaign(sessionmaker, crypto, "News queued before the withdrawal.")
    worker.now = start - 24 * HOUR
    assert await worker.scheduler.run_once() == 1
    assert [r.status for r in await reminders(sessionmaker)] == [ENQUEUED, "pending"]

    await type_and_wait(phone, user, "/withdraw", "why you want to stop")
    told = await type_and_wait(phone, user, "I moved to another city.", "/delete")
    assert "no reminders" in told["text"] and "2 years" in told["text"]

    # The sender, later: the campaign row is settled unsent; the reminder's row was cancelled.
    await worker.at(start - 2 * HOUR)
    rows = {row.id: row for row in await outbox(sessionmaker)}
    assert (rows[queued.id].status, rows[queued.id].error) == (Status.FAILED, "withdrawn")
    reminder_rows = [row for row in rows.values() if row.lane == Lane.REMINDER]
    assert [row.status for row in reminder_rows] == [Status.CANCELLED]
    assert [(r.status, r.reason) for r in await reminders(sessionmaker)] == [(DROPPED, "withdrawn")] * 2
    texts = [message["text"] for message in await phone.bot_messages(user)]
    assert not any("News queued before the withdrawal." in text for text in texts)
    assert not any(t(REMINDER) in text for text in texts)
    # A campaign expanded after the withdrawal leaves them out.
    assert await campaign(sessionmaker, crypto, "News after the withdrawal.") == []


async def test_a_reminder_already_in_the_outbox_is_checked_when_it_is_sent(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    worker: Worker,
    now: dt.datetime,
) -> None:
    """The withdrawal commits between the scheduler's enqueueing and the sender's claim (its own
    cancelling of queued rows aside): the sender drops it with the reminder."""
    await offices(sessionmaker, {})
    user = await screened(phone, t)
    start = ten_oclock(now)
    await book_for(sessionmaker, crypto, user, start, now)
    worker.now = start - 24 * HOUR
    assert await worker.scheduler.run_once() == 1
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Beneficiary).values(withdrawn_at=utcnow()))
    await worker.at(start - 24 * HOUR + dt.timedelta(minutes=1))
    [row] = [row for row in await outbox(sessionmaker) if row.lane == Lane.REMINDER]
    assert (row.status, row.error) == (Status.CANCELLED, "reminder withdrawn")
    assert [r.reason for r in await reminders(sessionmaker)] == ["withdrawn", None]
    # The next one, when it falls due, is not even enqueued.
    await worker.at(start - 2 * HOUR)
    assert [r.reason for r in await reminders(sessionmaker)] == ["withdrawn", "withdrawn"]
    assert not any(t(REMINDER) in message["text"] for message in await phone.bot_messages(user))


async def test_withdraw_my_consent_asks_first_and_a_double_tap_withdraws_once(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await screened(phone, t)
    await tap_and_wait(phone, user, t("Later"), t("What would you like to do? Choose from the menu below."))
    await type_and_wait(phone, user, "/consent", t("Are you 18 years old or older?"))
    await tap_and_wait(phone, user, t("Yes"), "Bridge Aid Association")
    await tap_and_wait(phone, user, t("I have read it"), "1 of 3")
    await tap_and_wait(phone, user, t("Yes"), "2 of 3")
    await tap_and_wait(phone, user, t("No"), "3 of 3")
    await tap_and_wait(phone, user, t("No"), "/consent")
    await type_and_wait(phone, user, "/consent", t("Your consent choices"))
    # "No, keep my consent" changes nothing.
    await tap_and_wait(phone, user, t("Withdraw my consent"), t("Do you want to withdraw your consent?"))
    await tap_and_wait(phone, user, t("No, keep my consent"), t("Nothing was changed."))
    async with sessionmaker() as session:
        assert (await session.execute(select(Beneficiary.withdrawn_at))).scalar_one() is None

    await type_and_wait(phone, user, "/consent", t("Your consent choices"))
    sure = await tap_and_wait(
        phone, user, t("Withdraw my consent"), t("Do you want to withdraw your consent?")
    )
    yes = next(
        button["callback_data"]
        for row in sure["reply_markup"]["inline_keyboard"]
        for button in row
        if button["text"] == t("Yes, withdraw my consent")
    )
    await tap_and_wait(phone, user, t("Yes, withdraw my consent"), "/delete")
    # The same button again (a late double tap): nothing more is recorded.
    await phone.press_for_answer(user, message_id=sure["message_id"], callback_data=yes)
    await phone.wait_idle(user)
    async with sessionmaker() as session:
        kinds = (await session.execute(select(DataRequest.kind))).scalars().all()
    assert kinds == ["withdrawal"]
    # /consent now offers only to give it again; /withdraw says it is already done.
    again = await type_and_wait(phone, user, "/consent", t("Your consent choices"))
    assert [row[0]["text"] for row in again["reply_markup"]["inline_keyboard"]] == [
        t("Give my consent again")
    ]
    await type_and_wait(phone, user, "/withdraw", "/delete")
    async with sessionmaker() as session:
        assert (await session.execute(select(DataRequest.kind))).scalars().all() == ["withdrawal"]
    # A consent given again is a fresh agreement: what it covers may go on again.
    await tap_and_wait(phone, user, t("Give my consent again"), "Bridge Aid Association")
    await tap_and_wait(phone, user, t("I have read it"), "1 of 3")
    await tap_and_wait(phone, user, t("Yes"), "2 of 3")
    await tap_and_wait(phone, user, t("No"), "3 of 3")
    await tap_and_wait(phone, user, t("No"), "/consent")
    async with sessionmaker() as session:
        assert (await session.execute(select(Beneficiary.withdrawn_at))).scalar_one() is None


@pytest.mark.parametrize(("locale", "label"), [("en", "English"), ("ur", "اردو")])
async def test_the_privacy_notice_names_the_controller_the_contact_how_long_and_the_rights(
    phone: SandboxClient, t: Translate, i18n: I18n, locale: str, label: str
) -> None:
    user = await phone.create_user(language_code=locale)
    await choose_language(phone, user, label)
    notice = (await phone.bot_messages(user))[-1]["text"]
    assert "Bridge Aid Association" in notice
    assert t("write to us here in this chat", locale) in notice  # no INTAKE_DATA_CONTACT set
    two_years = i18n.gettext("{count} year", "{count} years", 2, locale=locale).format(count=2)
    six_months = i18n.gettext("{count} month", "{count} months", 6, locale=locale).format(count=6)
    assert two_years in notice and six_months in notice
    for command in ("/mydata", "/correct", "/delete", "/withdraw"):
        assert command in notice, command
