"""In a real browser: an outreach officer composes a campaign in two languages, previews it, sends it,
watches the progress bar move (campaign.js, no inline script), pauses and resumes it, and reads the
results; the real sender and campaign worker deliver it to the sandbox, and the page's figures are
the outbox rows', which are what the sandbox received."""

from __future__ import annotations

import asyncio
import zoneinfo
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot
from outreach.sender import Sender
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage.crypto import Crypto
from storage.models import Beneficiary, OutboxMessage, StaffUser
from storage.outbox import Status
from tests.conftest import Database
from tests.console.browser import (
    ARTIFACTS,
    BROWSER_TEST,
    chromium,
    open_page,
    playwright_api,
    sign_in,
)
from tests.console.test_console_browser import console_url
from tests.outreach.conftest import campaign_worker, recipients
from wording.broadcast import opt_out_line

__all__ = ["console_url"]  # the fixture, shared with the case work browser test

MakeUser = Callable[..., Awaitable[StaffUser]]
TOKEN = "6161616161:" + "C" * 35
BOT_ID = 6161616161

pytestmark = BROWSER_TEST


# What a wait on the worker's loops gives up after if they run and the awaited state never comes: a
# hang's guard, far beyond the second or two they take; a loop that stopped fails the wait at once.
HANG = 120.0


@dataclass
class Delivery:
    """The sandbox's phone, and the worker's two loops (campaigns, sender) delivering to it."""

    phone: SandboxClient
    loops: dict[str, asyncio.Task[None]]

    async def until(self, check: Callable[[], Awaitable[bool]], what: str) -> None:
        """Poll `check` until it is true. A loop that stopped meanwhile (nothing would come then)
        fails the wait at once, with its exception."""
        async with asyncio.timeout(HANG):
            while not await check():
                await asyncio.wait(self.loops.values(), timeout=0.1, return_when=asyncio.FIRST_COMPLETED)
                for name, loop in self.loops.items():
                    if loop.done():
                        error = None if loop.cancelled() else loop.exception()
                        raise AssertionError(f"the {name} loop stopped while waiting for {what}") from error


@pytest.fixture
async def delivery(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> AsyncIterator[Delivery]:
    """The sandbox, and the worker's two loops (campaigns, sender) running against it."""
    async with SandboxServer() as sandbox, SandboxClient(sandbox.url, BOT_ID) as phone:
        bot = create_bot(TOKEN, sandbox.url)
        await bot.get_me()
        stop = asyncio.Event()
        sender = Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05)
        worker = campaign_worker(sessionmaker, crypto, zone=zoneinfo.ZoneInfo("Asia/Baku"), interval=0.2)
        loops = {
            "sender": asyncio.create_task(sender.run(stop)),
            "campaign": asyncio.create_task(worker.run(stop)),
        }
        try:
            yield Delivery(phone, loops)
        finally:
            stop.set()
            await asyncio.gather(*loops.values())
            await bot.session.close()


async def test_an_officer_sends_a_campaign_and_follows_pauses_and_resumes_it_in_the_browser(
    console_url: str,
    database: Database,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    delivery: Delivery,
) -> None:
    phone = delivery.phone
    await make_user("olga", role="outreach", display_name="Olga Outreach")
    people = await recipients(phone, sessionmaker, crypto, 6)
    languages = ["ru", "ru", "ru", "tr", "tr", "fa"]
    async with sessionmaker() as session, session.begin():
        for (_, beneficiary_id), language in zip(people, languages, strict=True):
            (await session.get(Beneficiary, beneficiary_id)).language = language  # type: ignore[union-attr]
    chat_language = {user: language for (user, _), language in zip(people, languages, strict=True)}
    shots = ARTIFACTS / database.backend
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    async with chromium() as browser:
        page = await open_page(browser, problems, patience=20)
        expect = playwright_api.expect
        expect.set_options(timeout=30_000)  # the worker's loops share a loaded machine

        await sign_in(page, console_url, "olga")
        await expect(page.get_by_role("link", name="Cases")).to_have_count(0)
        await page.get_by_role("link", name="Campaigns").click()
        await expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()

        await page.get_by_role("link", name="New campaign").click()
        form = page.locator("form.campaign-form")
        await form.get_by_label("Name (only the console shows it)").fill("Saturday opening")
        await form.get_by_label("Text in English").fill("The office is open on Saturday.")
        await form.get_by_label("Text in Russian").fill("Офис открыт в субботу.")
        await form.get_by_label("Text in Persian").fill("دفتر شنبه باز است.")
        await form.get_by_label("Russian", exact=True).check()
        await form.get_by_label("Turkish", exact=True).check()
        await form.get_by_label("Persian", exact=True).check()
        # Six people over about ten seconds of sending time: slow enough to pause on the way.
        await form.get_by_label("Spread over").fill("0.003")
        await form.get_by_role("checkbox", name="Quiet hours").uncheck()
        await page.screenshot(path=str(shots / "campaign-1-compose.png"), full_page=True)
        await form.get_by_role("button", name="Save the draft and preview it").click()

        await expect(page.locator(".campaign-recipients")).to_have_text("People who would get it now: 6")
        turkish = page.locator(".campaign-preview tr[data-language='tr'] .campaign-message")
        await expect(turkish).to_have_text(f"The office is open on Saturday.\n\n{opt_out_line('tr')}")
        persian = page.locator(".campaign-preview tr[data-language='fa'] .campaign-message")
        await expect(persian).to_have_attribute("dir", "rtl")
        await page.screenshot(path=str(shots / "campaign-2-preview.png"), full_page=True)
        await page.get_by_role("button", name="Send it now").click()

        # The page masks counts under 5 (as the figures page does): the first delivery is watched at
        # the phone, then the pause comes while most are still to go.
        async def first_sent() -> bool:
            return any(entry["method"] == "sendMessage" for entry in await phone.call_log())

        await delivery.until(first_sent, "the first message")
        # The progress fragment is polled by campaign.js: "remaining" drops from 6 under 5 (masked)
        # without a reload.
        await expect(page.locator("#campaign-progress [data-figure='remaining']")).to_have_text("<5")
        await page.get_by_role("button", name="Pause").click()
        await expect(page.locator(".campaign-status")).to_have_text("Paused")
        await page.screenshot(path=str(shots / "campaign-3-paused.png"), full_page=True)
        async with sessionmaker() as session:
            held = (
                await session.execute(select(func.count()).where(OutboxMessage.status == Status.PAUSED))
            ).scalar_one()
        assert 0 < held < 6
        await page.get_by_role("button", name="Resume").click()
        await expect(page.locator(".campaign-status")).to_have_text("Done", timeout=60_000)
        await expect(page.locator("#campaign-progress progress")).to_have_attribute("value", "100")
        await page.screenshot(path=str(shots / "campaign-4-done.png"), full_page=True)
        shown = {
            name: await page.locator(f"#campaign-progress [data-figure='{name}']").inner_text()
            for name in ("sent", "failed", "blocked", "remaining")
        }
        results = await page.locator(".campaign-results tbody th").all_inner_texts()
    assert problems == []
    # Counts under 5 are masked as on the figures page.
    assert shown == {"sent": "6", "failed": "<5", "blocked": "<5", "remaining": "<5"}
    assert results == [
        "Russian (variant: Russian)",
        "Persian (variant: Persian)",
        "Turkish (variant: English)",
    ]
    received = [entry for entry in await phone.call_log() if entry["method"] == "sendMessage" and entry["ok"]]
    assert Counter(entry["chat_id"] for entry in received) == Counter({user: 1 for user in chat_language})
    for user, language in chat_language.items():
        [message] = await phone.bot_messages(user)
        assert message["text"].endswith(opt_out_line(language))
    async with sessionmaker() as session:
        statuses = (await session.execute(select(OutboxMessage.status))).scalars().all()
    assert statuses == [Status.SENT] * 6
