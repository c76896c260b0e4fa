"""In a real browser (Debian's Chromium, headless): an outreach officer types cities into the campaign
composer's segment and the draft's recipient count follows, as it does for the other filters.

Set up as tests/console/test_console_browser.py (uvicorn on 127.0.0.1 on the test's event loop).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.crypto import Crypto
from storage.models import StaffUser
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
from tests.console.test_console_campaign_city import interviewed

__all__ = ["console_url"]  # the fixture

MakeUser = Callable[..., Awaitable[StaffUser]]

pytestmark = BROWSER_TEST


async def test_an_officer_types_cities_into_the_segment_and_the_count_follows_in_the_browser(
    console_url: str,
    database: Database,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await make_user("olga", role="outreach", display_name="Olga Outreach")
    await interviewed(sessionmaker, crypto)
    shots = ARTIFACTS / database.backend
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    async with chromium() as browser:
        page = await open_page(browser, problems, patience=20)
        expect = playwright_api.expect
        await sign_in(page, console_url, "olga")
        await page.get_by_role("link", name="Campaigns").click()
        await page.get_by_role("link", name="New campaign").click()

        form = page.locator("form.campaign-form")
        await form.get_by_label("Name (only the console shows it)").fill("Baku office moves")
        await form.get_by_label("Text in English").fill("The Baku office has moved.")
        cities = form.get_by_label("City or district they gave in the interview, one per line")
        await cities.fill("BAKI")
        await page.screenshot(path=str(shots / "campaign-city-1-compose.png"), full_page=True)
        await form.get_by_role("button", name="Save the draft and preview it").click()
        count = page.locator(".campaign-recipients")
        # Three people: under 5, masked as on the figures page (the exact counts are checked in
        # test_console_campaign_city.py).
        await expect(count).to_have_text("People who would get it now: <5")

        # On the draft: a second city, then one nobody gave.
        form = page.locator("form.campaign-form")
        cities = form.get_by_label("City or district they gave in the interview, one per line")
        await expect(cities).to_have_value("BAKI")
        await cities.fill("BAKI\nsumqayit")
        await form.get_by_role("button", name="Save the draft and preview it").click()
        await expect(count).to_have_text("People who would get it now: 5")
        await page.screenshot(path=str(shots / "campaign-city-2-draft.png"), full_page=True)
        form = page.locator("form.campaign-form")
        await form.get_by_label("City or district they gave in the interview, one per line").fill("Şəki")
        await form.get_by_role("button", name="Save the draft and preview it").click()
        await expect(count).to_have_text("People who would get it now: <5")
    assert problems == []
