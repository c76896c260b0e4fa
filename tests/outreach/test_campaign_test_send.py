"""A campaign's "send a test to me" through the real sender and the sandbox: the officer's linked chat
gets one message per language, each exactly as its readers get it (text, /stop line in that
language, button), while the campaign's own figures count only its recipients."""

from __future__ import annotations

import zoneinfo

from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach import campaigns
from outreach.sender import NOT_LINKED, Sender
from sandbox.client import SandboxClient
from storage import staff, staff_link
from storage.crypto import Crypto
from storage.models import Beneficiary, OutboxMessage, StaffUser, utcnow
from storage.models_outreach import Campaign
from storage.outbox import Status
from tests.outreach.conftest import campaign_worker, drain, recipients
from tests.outreach.test_campaigns import TEXTS, add, new_campaign
from wording.broadcast import opt_out_line

BUTTON = {
    "kind": "url",
    "target": "https://example.org/saturday",
    "labels": {"en": "Details", "ru": "Подробнее", "fa": "جزئیات"},
}


async def linked_officer(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, chat_id: int
) -> StaffUser:
    async with sessionmaker() as session, session.begin():
        user = await staff.add_user(
            session,
            username="olga",
            password_hash="x",
            role="outreach",
            display_name="Olga",
            language="en",
            at=utcnow(),
        )
        code = await staff_link.new_code(session, crypto, staff_user_id=user.id, now=utcnow())
        assert await staff_link.redeem(session, crypto, code=code, chat_id=chat_id, now=utcnow()) is not None
    return user


async def send_test(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, campaign: Campaign, officer: StaffUser
) -> int:
    async with sessionmaker() as session, session.begin():
        stored = await session.get(Campaign, campaign.id)
        assert stored is not None
        return await campaigns.send_test(
            session,
            crypto,
            stored,
            staff_user_id=officer.id,
            languages=campaigns.text_languages(stored),
            bot_username="intake_bot",
        )


async def test_the_officers_chat_gets_each_variant_as_its_readers_do_and_the_figures_ignore_it(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    chat = await phone.create_user(language_code="en")
    officer = await linked_officer(sessionmaker, crypto, chat)
    people = await recipients(phone, sessionmaker, crypto, 2)
    campaign = await add(sessionmaker, new_campaign(button=BUTTON))
    worker = campaign_worker(sessionmaker, crypto, zone=zoneinfo.ZoneInfo("Asia/Baku"))
    assert await worker.run_once() == 2
    assert await send_test(sessionmaker, crypto, campaign, officer) == 3
    await drain(Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05), sessionmaker)

    received = await phone.bot_messages(chat)
    assert [message["text"] for message in received] == [
        f"{TEXTS[code]}\n\n{opt_out_line(code)}" for code in ("ru", "en", "fa")
    ]
    assert [message["reply_markup"]["inline_keyboard"] for message in received] == [
        [[{"text": BUTTON["labels"][code], "url": BUTTON["target"]}]] for code in ("ru", "en", "fa")
    ]
    await worker.run_once()
    async with sessionmaker() as session:
        figures = await campaigns.figures(session, campaign.id)
        by_language = await campaigns.figures_by_language(session, campaign.id)
        stored = await session.get(Campaign, campaign.id)
        tests = (
            (
                await session.execute(
                    select(OutboxMessage.status).where(OutboxMessage.staff_user_id == officer.id)
                )
            )
            .scalars()
            .all()
        )
    assert (figures.sent, figures.total) == (2, 2)
    assert sum(f.total for f in by_language.values()) == 2
    assert stored is not None and stored.status == campaigns.CampaignStatus.DONE
    assert tests == [Status.SENT] * 3
    for user, _ in people:
        assert len(await phone.bot_messages(user)) == 1


async def test_a_test_for_a_chat_unlinked_meanwhile_is_not_sent_and_a_blocked_one_marks_no_one(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    chat = await phone.create_user(language_code="en")
    officer = await linked_officer(sessionmaker, crypto, chat)
    campaign = await add(sessionmaker, new_campaign(status=campaigns.CampaignStatus.DRAFT))
    await send_test(sessionmaker, crypto, campaign, officer)
    async with sessionmaker() as session, session.begin():
        await staff_link.unlink(session, staff_user_id=officer.id)
    await drain(Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05), sessionmaker)
    assert await phone.bot_messages(chat) == []
    async with sessionmaker() as session:
        settled = (await session.execute(select(OutboxMessage.status, OutboxMessage.error))).all()
    assert settled == [(Status.FAILED, NOT_LINKED)] * 3

    # Linked again, but the chat has blocked the bot: failed, and no beneficiary is touched.
    async with sessionmaker() as session, session.begin():
        await session.execute(OutboxMessage.__table__.delete())
        code = await staff_link.new_code(session, crypto, staff_user_id=officer.id, now=utcnow())
        await staff_link.redeem(session, crypto, code=code, chat_id=chat, now=utcnow())
    people = await recipients(phone, sessionmaker, crypto, 1)
    await phone.block(chat)
    await send_test(sessionmaker, crypto, campaign, officer)
    await drain(Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05), sessionmaker)
    async with sessionmaker() as session:
        settled = (await session.execute(select(OutboxMessage.status, OutboxMessage.error))).all()
        beneficiary = await session.get(Beneficiary, people[0][1])
    assert settled == [(Status.FAILED, "blocked")] * 3
    assert beneficiary is not None and beneficiary.unreachable_at is None
