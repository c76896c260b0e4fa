"""In a real browser (Debian's Chromium, headless): an outreach officer makes a channel, reads its
deep link, downloads its flyer as PDF and PNG, and changes its flyer's languages.

Set up as tests/console/test_console_browser.py (uvicorn on 127.0.0.1 on the test's event loop).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pypdf
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseworker_console.app import create_app
from storage.crypto import Crypto
from storage.models import StaffUser
from storage.models_channels import Channel
from tests.conftest import Database
from tests.console.browser import (
    ARTIFACTS,
    BROWSER_TEST,
    chromium,
    playwright_api,
    serving,
    sign_in,
)

BOT = "bridge_intake_bot"

MakeUser = Callable[..., Awaitable[StaffUser]]

pytestmark = BROWSER_TEST


@pytest.fixture
async def console_url(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> AsyncIterator[str]:
    async with serving(create_app(sessionmaker=sessionmaker, crypto=crypto, bot_username=BOT)) as url:
        yield url


async def test_an_outreach_officer_makes_a_channel_and_downloads_its_flyer_in_the_browser(
    console_url: str, database: Database, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("nigar", role="outreach", display_name="Nigar Outreach")
    shots = ARTIFACTS / database.backend
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    async with chromium() as browser:
        context = await browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True
        )
        page = await context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        expect = playwright_api.expect

        await sign_in(page, console_url, "nigar")
        # An outreach officer has no case list: the menu offers channels.
        await expect(page.get_by_role("link", name="Cases")).to_have_count(0)
        await page.get_by_role("link", name="Channels").click()
        await expect(page.get_by_role("heading", name="Outreach channels")).to_be_visible()

        await page.get_by_label("Name (where the flyers go").fill("Baku State University, hall 3")
        await page.get_by_label("Kind").select_option("university")
        for language in ("Azərbaycanca", "English", "Türkçe"):
            await page.get_by_label(language, exact=True).uncheck()
        await page.get_by_label("Code in the link").fill("bsu-hall-3")
        await page.screenshot(path=str(shots / "channel-1-new.png"), full_page=True)
        await page.get_by_role("button", name="Create the channel").click()

        link = f"https://t.me/{BOT}?start=bsu-hall-3"
        await expect(page.get_by_role("heading", name="Baku State University, hall 3")).to_be_visible()
        await expect(page.locator("#deep-link")).to_have_text(link)
        await page.screenshot(path=str(shots / "channel-2-made.png"), full_page=True)

        async with page.expect_download() as pdf_download:
            await page.get_by_role("link", name="Flyer as PDF").click()
        pdf = await (await pdf_download.value).path()
        assert (await pdf_download.value).suggested_filename == "flyer-bsu-hall-3.pdf"
        text = pypdf.PdfReader(pdf, strict=True).pages[0].extract_text()
        assert link in text
        assert "Вы здесь недавно?" in text

        async with page.expect_download() as png_download:
            await page.get_by_role("link", name="Flyer as PNG image").click()
        png = Image.open(await (await png_download.value).path())
        assert [result.text for result in zxingcpp.read_barcodes(png)] == [link]

        # Fewer languages on the next print run.
        await page.get_by_label("Русский", exact=True).uncheck()
        await page.get_by_role("button", name="Save the changes").click()
        await expect(page.locator(".channel-facts")).to_contain_text("فارسی / دری, پښتو, اردو")
        await page.get_by_role("button", name="Deactivate the channel").click()
        await expect(page.locator(".channel-facts")).to_contain_text("Deactivated")
        await page.get_by_role("link", name="All channels").click()
        row = page.locator("tr[data-channel='bsu-hall-3']")
        await expect(row.locator("[data-figure=applicants]")).to_have_text("<5")
        await page.screenshot(path=str(shots / "channel-3-list.png"), full_page=True)
    assert problems == []
    async with sessionmaker() as session:
        channel = (await session.execute(select(Channel))).scalar_one()
    assert (channel.code, channel.languages, channel.active) == ("bsu-hall-3", ["fa", "ps", "ur"], False)
