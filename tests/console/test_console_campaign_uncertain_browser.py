"""In a real browser: the sender stopped while sending a campaign to three people (their rows were
claimed and their requests started by a sender that died), the running sender settles them
uncertain, and the outreach officer sends it to them again from the campaign's page, past the
warning; the sandbox shows the message went to exactly those three, once each."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach.campaigns import CampaignStatus
from storage.crypto import Crypto
from storage.models import OutboxMessage, StaffUser, utcnow
from storage.models_outreach import Campaign
from storage.outbox import Status
from tests.conftest import Database
from tests.console.browser import ARTIFACTS, BROWSER_TEST, chromium, open_page, playwright_api, sign_in
from tests.console.test_console_browser import console_url
from tests.console.test_console_campaign_browser import Delivery, delivery
from tests.outreach.conftest import recipients

__all__ = ["console_url", "delivery"]  # the fixtures, shared with the other browser tests

MakeUser = Callable[..., Awaitable[StaffUser]]

pytestmark = BROWSER_TEST


async def statuses(sessionmaker: async_sessionmaker[AsyncSession], campaign_id: uuid.UUID) -> Counter[str]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(OutboxMessage.status).where(OutboxMessage.campaign_id == campaign_id)
        )
        return Counter(rows.scalars())


async def test_an_officer_sends_a_campaign_again_to_exactly_its_uncertain_recipients_in_the_browser(
    console_url: str,
    database: Database,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    delivery: Delivery,
) -> None:
    phone = delivery.phone
    olga = await make_user("olga", role="outreach", display_name="Olga Outreach")
    people = await recipients(phone, sessionmaker, crypto, 8)
    chat_of = {beneficiary: user for user, beneficiary in people}
    # Paused from the start: the running worker puts its rows in the outbox and the sender leaves them.
    async with sessionmaker() as session, session.begin():
        campaign = Campaign(
            name="Saturday opening",
            texts={"en": "The office is open on Saturday."},
            fallback_language="en",
            segment={},
            status=CampaignStatus.PAUSED,
            starts_at=utcnow(),
            created_by=olga.id,
            expanded=0,
            version=1,
        )
        session.add(campaign)
    campaign_id = campaign.id

    async def expanded() -> bool:
        async with sessionmaker() as session:
            found = await session.get(Campaign, campaign_id, populate_existing=True)
            return found is not None and found.expanded_at is not None

    await delivery.until(expanded, "the campaign in the outbox")
    # Five went out before the crash; three had been claimed and their requests started by a sender
    # that died (its lease over): what a kill -9 mid-campaign leaves.
    async with sessionmaker() as session, session.begin():
        rows = (
            await session.execute(
                select(OutboxMessage.id, OutboxMessage.beneficiary_id)
                .where(OutboxMessage.campaign_id == campaign_id)
                .order_by(OutboxMessage.id)
            )
        ).all()
        assert len(rows) == 8
        died = utcnow() - dt.timedelta(minutes=1)
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([row.id for row in rows[:5]]))
            .values(status=Status.SENT, sent_at=died, attempts=1)
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([row.id for row in rows[5:]]))
            .values(status=Status.SENDING, attempt_started_at=died, lease_until=died)
        )
        await session.execute(
            update(Campaign).where(Campaign.id == campaign_id).values(status=CampaignStatus.RUNNING)
        )
    uncertain = {chat_of[row.beneficiary_id] for row in rows[5:]}

    async def settled() -> bool:
        async with sessionmaker() as session:
            found = await session.get(Campaign, campaign_id, populate_existing=True)
            done = found is not None and found.status == CampaignStatus.DONE
        seen = await statuses(sessionmaker, campaign_id)
        # The dead sender's rows are settled uncertain, never taken to be sent again: fails at once.
        assert seen[Status.SENT] == 5 and seen[Status.PENDING] == seen[Status.PAUSED] == 0, seen
        return done and seen == Counter({Status.SENT: 5, Status.UNCERTAIN: 3})

    # The running sender settled the dead one's rows uncertain, and the worker the campaign done.
    await delivery.until(settled, "the campaign settled")
    assert [entry for entry in await phone.call_log() if entry["method"] == "sendMessage"] == []

    shots = ARTIFACTS / database.backend
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    async with chromium() as browser:
        page = await open_page(browser, problems, patience=20)
        expect = playwright_api.expect
        expect.set_options(timeout=30_000)
        await sign_in(page, console_url, "olga")
        await page.goto(f"{console_url}/campaigns/{campaign_id}")
        section = page.locator(".campaign-uncertain")
        await expect(section.get_by_role("heading", name="Delivery uncertain")).to_be_visible()
        await expect(page.locator("#campaign-progress [data-figure='uncertain']")).to_have_text("<5")
        await expect(section.locator("#uncertain-warning")).to_contain_text("second time")
        await page.screenshot(path=str(shots / "campaign-uncertain-1-asked.png"), full_page=True)

        # Not past the warning: refused, and nothing is sent.
        await section.get_by_role("button", name="Send it to them again").click()
        await expect(page.locator(".campaign-uncertain [role=alert]")).to_have_text(
            "Tick the box to confirm that some of them may get it twice."
        )
        await (
            page.locator(".campaign-uncertain")
            .get_by_label("I understand that some of them may get it twice")
            .check()
        )
        await page.screenshot(path=str(shots / "campaign-uncertain-2-confirmed.png"), full_page=True)
        await page.locator(".campaign-uncertain").get_by_role("button", name="Send it to them again").click()
        await expect(page.locator(".campaign-status")).to_have_text("Done", timeout=60_000)
        await expect(page.locator(".campaign-uncertain")).to_have_count(0)
        await page.screenshot(path=str(shots / "campaign-uncertain-3-sent-again.png"), full_page=True)
    # The 400 of the refused form is the only thing the browser may report.
    assert [problem for problem in problems if "400" not in problem] == []
    received = [entry for entry in await phone.call_log() if entry["method"] == "sendMessage" and entry["ok"]]
    assert Counter(entry["chat_id"] for entry in received) == Counter({user: 1 for user in uncertain})
    assert await statuses(sessionmaker, campaign_id) == Counter({Status.SENT: 8})
