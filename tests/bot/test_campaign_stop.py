"""/stop sent to the real bot keeps a person out of campaigns: out of the segment of a later one, and
out of one already queued for them (the sender settles their row without sending); /start brings
them back."""

from __future__ import annotations

import asyncio
import zoneinfo
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach.campaign_worker import CampaignWorker
from outreach.campaigns import CampaignStatus, Segment
from outreach.sender import Sender
from sandbox.client import SandboxClient
from storage.crypto import Crypto
from storage.models import OutboxMessage, utcnow
from storage.models_outreach import Campaign
from storage.outbox import FINAL, Status
from tests.bot.conftest import BotProcess

Translate = Callable[..., str]
STOPPED = "You will get no more news from us. Send /start to get them again."


async def campaign(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, text: str
) -> list[OutboxMessage]:
    """A campaign to everyone, expanded by the worker; its outbox rows."""
    made = Campaign(
        name=text,
        texts={"en": text},
        fallback_language="en",
        segment=Segment().as_data(),
        starts_at=utcnow(),
        spread_seconds=0.0,
        status=CampaignStatus.SCHEDULED,
        expanded=0,
        version=1,
    )
    async with sessionmaker() as session, session.begin():
        session.add(made)
    worker = CampaignWorker(
        sessionmaker,
        crypto,
        zone=zoneinfo.ZoneInfo("UTC"),
        rate=25,
        bot_username=lambda: asyncio.sleep(0, None),
    )
    await worker.run_once()
    async with sessionmaker() as session:
        return list(
            (
                await session.execute(select(OutboxMessage).where(OutboxMessage.campaign_id == made.id))
            ).scalars()
        )


async def settle(sender: Sender, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Send until no campaign row is left unsettled (one chat's second message waits a second)."""
    async with asyncio.timeout(30):
        while True:
            await sender.run_once()
            async with sessionmaker() as session:
                statuses = (await session.execute(select(OutboxMessage.status))).scalars().all()
            if all(status in FINAL for status in statuses):
                return
            await asyncio.sleep(0.05)


async def test_stop_keeps_a_person_out_of_campaigns_and_start_lets_them_back_in(
    phone: SandboxClient,
    bot_process: BotProcess,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    stays, leaves = await phone.create_user(), await phone.create_user()
    for user in (stays, leaves):
        await phone.send_text(user, "/help")
        await phone.wait_for_bot_message(user)
    queued = await campaign(sessionmaker, crypto, "Queued before the /stop.")
    assert len(queued) == 2

    await phone.send_text(leaves, "/stop")
    await phone.wait_for_bot_message(leaves, contains=t(STOPPED))
    assert bot_process.bot is not None
    sender = Sender(bot_process.bot, sessionmaker, crypto, rate=25, idle_interval=0.05)
    await settle(sender, sessionmaker)
    async with sessionmaker() as session:
        outcomes = {
            row.error or row.status
            for row in (await session.execute(select(OutboxMessage))).scalars()
            if row.campaign_id is not None
        }
    assert outcomes == {Status.SENT, "opted out"}
    later = await campaign(sessionmaker, crypto, "After the /stop.")
    assert len(later) == 1

    await phone.send_text(leaves, "/start")
    await phone.wait_for_bot_message(leaves, contains=t("Welcome back! You will get our news again."))
    back = await campaign(sessionmaker, crypto, "After /start again.")
    assert len(back) == 2
    await settle(sender, sessionmaker)
    texts = {user: [m["text"] for m in await phone.bot_messages(user)] for user in (stays, leaves)}
    assert not any("Queued before the /stop." in text for text in texts[leaves])
    assert not any("After the /stop." in text for text in texts[leaves])
    assert any(text.startswith("After /start again.") for text in texts[leaves])
    # Each campaign once; not necessarily in order: a send retried after a slow answer goes later.
    assert sorted(text.split("\n")[0] for text in texts[stays] if "/stop." in text.split("\n")[-1]) == [
        "After /start again.",
        "After the /stop.",
        "Queued before the /stop.",
    ]
