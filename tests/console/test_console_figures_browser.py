"""In a real browser (Debian's Chromium, headless): a supervisor sees the funnel chart drawn from
the seeded data, a filter changes it, and the figures download as XLSX; a caseworker refers a
plan activity to a partner and tracks the referral to done. No CSP violation or script error.

Same set-up as test_console_browser.py (uvicorn on 127.0.0.1 on the test's own event loop, the
async Playwright API); screenshots go to test-artifacts/console/.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake.demo_data import Story, add_story
from storage.crypto import Crypto
from storage.models import StaffUser
from storage.models_figures import Referral
from tests.conftest import Database
from tests.console.browser import ARTIFACTS, BROWSER_TEST, chromium, open_page, playwright_api, sign_in
from tests.console.test_console_browser import console_url
from tests.console.test_console_figures import seed_world

MakeUser = Callable[..., Awaitable[StaffUser]]
CODE = "IP-2026-000600"

pytestmark = BROWSER_TEST
__all__ = ["console_url"]  # the fixture, shared with the other browser test


async def test_the_dashboard_charts_the_funnel_and_filters_change_it(
    console_url: str,
    database: Database,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await seed_world(sessionmaker, crypto)
    await make_user("sofia", role="supervisor", display_name="Sofia Supervisor")
    shots = ARTIFACTS / database.backend
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    expect = playwright_api.expect
    async with chromium() as browser:
        page = await open_page(browser, problems, accept_downloads=True)
        await sign_in(page, console_url, "sofia")
        await page.get_by_role("link", name="Figures").click()
        await expect(page.get_by_role("heading", name="Programme figures")).to_be_visible()
        chart = page.get_by_role("img", name="Funnel of cases from screening to closing")
        await expect(chart).to_be_visible()
        screened = chart.locator("g[data-step=screened]")
        await expect(screened).to_have_attribute("data-count", "18")
        await expect(chart.locator("g[data-step=plan]")).to_have_attribute("data-count", "6")
        await expect(chart.locator("g[data-step=closed]")).to_have_attribute("data-count", "<5")
        box = await screened.locator("rect").bounding_box()
        assert box is not None and box["width"] > 100
        await page.screenshot(path=str(shots / "figures-1-all.png"), full_page=True)

        await page.get_by_label("Channel").select_option("flyer-uni")
        await page.get_by_role("button", name="Show").click()
        await expect(page).to_have_url(
            f"{console_url}/figures?from=&to=&language=&channel=flyer-uni&office=&by=month"
        )
        await expect(screened).to_have_attribute("data-count", "6")
        await expect(chart.locator("g[data-step=plan]")).to_have_attribute("data-count", "<5")
        await expect(page.get_by_label("Channel")).to_have_value("flyer-uni")
        await page.screenshot(path=str(shots / "figures-2-flyer.png"), full_page=True)

        async with page.expect_download() as waiting:
            await page.get_by_role("link", name="XLSX").first.click()
        download = await waiting.value
        content = (await download.path()).read_bytes()
        rows = [
            [cell.value for cell in row]
            for row in load_workbook(io.BytesIO(content)).worksheets[0].iter_rows()
        ]
        assert ["Funnel", "Screened", "6"] in rows
    assert problems == []


async def test_a_caseworker_refers_an_activity_and_tracks_it_to_done(
    console_url: str,
    database: Database,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    leyla = await make_user("leyla", display_name="Leyla Caseworker")
    await make_user("sofia", role="supervisor", display_name="Sofia Supervisor")
    async with sessionmaker() as session:
        await add_story(
            session,
            crypto,
            Story(code=CODE, stage="intervention_planning", consent=True, plan=True, assigned_to=leyla.id),
            telegram_id=4242,
        )
        await session.commit()
    shots = ARTIFACTS / database.backend
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    expect = playwright_api.expect
    async with chromium() as browser:
        # The supervisor puts a partner in the directory.
        page = await open_page(browser, problems, accept_downloads=True)
        await sign_in(page, console_url, "sofia")
        await page.get_by_role("link", name="Partners").click()
        form = page.locator("form[action='/partners'][method=post]")
        await form.get_by_label("Name").fill("Baku Language Centre")
        await form.get_by_label("Service area").select_option("language")
        await form.get_by_label("Address").fill("1 Example Street, Baku")
        await form.get_by_label("Azərbaycanca").check()
        await form.get_by_role("button", name="Add the partner").click()
        await expect(page.locator("table.partners")).to_contain_text("Baku Language Centre")
        await page.context.close()

        page = await open_page(browser, problems, accept_downloads=True)
        await sign_in(page, console_url, "leyla")
        await page.goto(f"{console_url}/cases/{CODE}")
        await page.get_by_role("link", name="Referrals").click()
        await expect(page.get_by_role("heading", name="Refer to a partner")).to_be_visible()
        await page.get_by_label("Activity of the plan").select_option(index=1)
        await page.get_by_label("Partner", exact=True).select_option(label="Baku Language Centre")
        await page.get_by_role("button", name="Send the referral").click()
        await expect(page.locator(".success")).to_have_text("The referral is recorded.")
        row = page.locator("tr.referral")
        await expect(row).to_have_attribute("data-status", "sent")
        await page.screenshot(path=str(shots / "referral-1-sent.png"), full_page=True)
        await row.get_by_role("button", name="Mark as Accepted").click()
        await expect(row).to_have_attribute("data-status", "accepted")
        await row.get_by_role("button", name="Mark as Done").click()
        await expect(row).to_have_attribute("data-status", "done")
        await expect(row.get_by_role("button")).to_have_count(0)
        await page.screenshot(path=str(shots / "referral-2-done.png"), full_page=True)
    assert problems == []
    async with sessionmaker() as session:
        referral = (await session.execute(select(Referral))).scalar_one()
    assert referral.status == "done" and referral.changed_by == leyla.id
