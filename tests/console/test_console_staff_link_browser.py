"""In a real browser: an outreach officer links their own Telegram from the account page (the test
plays their phone, sending the page's deep link to the real bot on the sandbox), composes a campaign
in three languages, presses "Send a test to me", and the real sender delivers each language's
message to that chat, as its readers would get it; the campaign itself stays an untouched draft.

Set up as tests/console/test_console_browser.py (the console under uvicorn on this test's loop)."""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot
from bot.staff_link import LINKED
from caseworker_console.app import create_app
from intake.runtime import poll
from outreach.sender import Sender
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage.crypto import Crypto
from storage.models import OutboxMessage, StaffUser
from storage.models_outreach import Campaign
from storage.outbox import Status
from tests.conftest import Database
from tests.console.browser import (
    ARTIFACTS,
    BROWSER_TEST,
    chromium,
    open_page,
    playwright_api,
    serving,
    sign_in,
)
from tests.outreach.conftest import until
from wording.broadcast import opt_out_line

MakeUser = Callable[..., Awaitable[StaffUser]]
Translate = Callable[..., str]
TOKEN = "6262626262:" + "D" * 35
BOT_ID = 6262626262
BOT_USERNAME = "intake_test_bot"

pytestmark = BROWSER_TEST


@pytest.fixture
async def phone(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> AsyncIterator[SandboxClient]:
    """The sandbox, the real bot long-polling it, and the outbox sender sending to it."""
    async with SandboxServer() as sandbox, SandboxClient(sandbox.url, BOT_ID) as client:
        polling_bot, sending_bot = create_bot(TOKEN, sandbox.url), create_bot(TOKEN, sandbox.url)
        await sending_bot.get_me()
        stop = asyncio.Event()
        sender = Sender(sending_bot, sessionmaker, crypto, rate=25, idle_interval=0.05)
        running = [
            asyncio.create_task(poll(polling_bot, sessionmaker, crypto, stop)),
            asyncio.create_task(sender.run(stop)),
        ]
        try:
            yield client
        finally:
            stop.set()
            await asyncio.gather(*running)
            await polling_bot.session.close()
            await sending_bot.session.close()


@pytest.fixture
async def console_url(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> AsyncIterator[str]:
    app = create_app(sessionmaker=sessionmaker, crypto=crypto, bot_username=BOT_USERNAME)
    async with serving(app) as url:
        yield url


async def test_an_officer_links_their_telegram_and_sends_a_campaign_test_to_it_in_the_browser(
    console_url: str,
    database: Database,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    phone: SandboxClient,
    t: Translate,
) -> None:
    await make_user("olga", role="outreach", display_name="Olga Outreach")
    chat = await phone.create_user(first_name="Olga", language_code="en")
    shots = ARTIFACTS / database.backend
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    async with chromium() as browser:
        page = await open_page(browser, problems, patience=20)
        expect = playwright_api.expect
        expect.set_options(timeout=30_000)

        await sign_in(page, console_url, "olga")

        # Before linking, a test has nowhere to go: the page says where to link.
        await page.get_by_role("link", name="My account").click()
        await expect(page.get_by_role("heading", name="My account")).to_be_visible()
        await page.get_by_role("button", name="Link my Telegram").click()
        deep_link = await page.locator("#telegram-link").get_attribute("href")
        assert deep_link is not None and deep_link.startswith(f"https://t.me/{BOT_USERNAME}?start=staff-")
        start = urllib.parse.parse_qs(urllib.parse.urlsplit(deep_link).query)["start"][0]
        command = await page.locator("#telegram-command").inner_text()
        assert command == f"/link {start.removeprefix('staff-')}"
        await page.screenshot(path=str(shots / "staff-link-1-code.png"), full_page=True)
        # What Telegram sends the bot when the link is opened and Start pressed.
        await phone.send_text(chat, f"/start {start}")
        answer = await phone.wait_for_bot_message(chat)
        assert answer["text"] == t(LINKED, "en", account="Olga Outreach")
        await page.get_by_role("link", name="My account").click()
        await expect(page.locator(".telegram-status")).to_contain_text("Your Telegram chat is linked since")
        await expect(page.get_by_role("button", name="Unlink my Telegram")).to_be_visible()

        await page.get_by_role("link", name="Campaigns").click()
        await page.get_by_role("link", name="New campaign").click()
        form = page.locator("form.campaign-form")
        await form.get_by_label("Name (only the console shows it)").fill("Saturday opening")
        await form.get_by_label("Text in English").fill("The office is open on Saturday.")
        await form.get_by_label("Text in Russian").fill("Офис открыт в субботу.")
        await form.get_by_label("Text in Persian").fill("دفتر شنبه باز است.")
        await form.get_by_label("Button", exact=True).select_option("start")
        await form.get_by_label("Web address (https://…) or deep link code").fill("saturday")
        await form.get_by_label("Button label in English").fill("Details")
        await form.get_by_label("Button label in Russian").fill("Подробнее")
        await form.get_by_role("button", name="Save the draft and preview it").click()
        await expect(page.locator(".campaign-recipients")).to_be_visible()

        await page.get_by_role("button", name="Send a test to me", exact=True).click()
        await expect(page.locator("#test-sent")).to_have_text(
            "Test messages on their way to your Telegram: 3"
        )
        await page.screenshot(path=str(shots / "staff-link-2-test-sent.png"), full_page=True)
    assert problems == []

    await phone.wait_for_bot_message(chat, count=4, timeout=30)
    tests = (await phone.bot_messages(chat))[1:]
    texts = {
        "ru": "Офис открыт в субботу.",
        "en": "The office is open on Saturday.",
        "fa": "دفتر شنبه باز است.",
    }
    assert [message["text"] for message in tests] == [
        f"{texts[code]}\n\n{opt_out_line(code)}" for code in ("ru", "en", "fa")
    ]
    link = f"https://t.me/{BOT_USERNAME}?start=saturday"
    # Persian has no label of its own: the fallback language's, as its readers would get.
    assert [message["reply_markup"]["inline_keyboard"] for message in tests] == [
        [[{"text": label, "url": link}]] for label in ("Подробнее", "Details", "Details")
    ]

    async def statuses() -> list[str]:
        async with sessionmaker() as session:
            return list((await session.execute(select(OutboxMessage.status))).scalars().all())

    # The chat has the messages; the sender writes their outcome once each answer is back.
    async def settled() -> bool:
        return Status.SENDING not in await statuses()

    await until(settled, 10)
    async with sessionmaker() as session:
        campaign = (await session.execute(select(Campaign))).scalar_one()
        counted = (
            await session.execute(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.campaign_id.is_not(None))
            )
        ).scalar_one()
    assert (campaign.status, campaign.expanded, counted) == ("draft", 0, 0)
    assert await statuses() == [Status.SENT] * 3
