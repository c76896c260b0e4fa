"""In a real browser (Debian's Chromium, headless): a supervisor opens the erasure requests, sees the
overdue one marked, refuses one with a reason and carries out the other after ticking the
confirmation; the erased case's address then says it was erased. No CSP violation or script error.

Same set-up as test_console_browser.py; the screenshots go to the test's own temporary directory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.crypto import Crypto
from storage.models import Beneficiary, Case, StaffUser
from storage.models_journey import DataRequest
from tests.console.browser import BROWSER_TEST, chromium, open_page, playwright_api, sign_in
from tests.console.test_console_browser import console_url
from tests.console.test_console_erasure import seed_request

MakeUser = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

pytestmark = BROWSER_TEST
__all__ = ["console_url"]  # the fixture, shared with the other browser tests


async def test_a_supervisor_refuses_one_erasure_request_and_carries_out_another_in_the_browser(
    console_url: str,
    tmp_path: Path,
    make_user: MakeUser,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    late = await seed_request(seed_person, sessionmaker, crypto, due_in=-dt.timedelta(days=3))
    await seed_request(seed_person, sessionmaker, crypto, code="IP-2026-000141")
    await make_user("sofia", role="supervisor", display_name="Sofia Supervisor")
    problems: list[str] = []
    expect = playwright_api.expect
    async with chromium() as browser:
        page = await open_page(browser, problems)
        await sign_in(page, console_url, "sofia")
        await page.get_by_role("link", name="Erasure requests").click()
        await expect(page.get_by_role("heading", name="Erasure requests", exact=True)).to_be_visible()
        rows = page.locator("tr.erasure-request")
        await expect(rows).to_have_count(2)
        overdue = page.locator(f"tr[data-request='{late.id}']")
        await expect(overdue).to_have_class("erasure-request case-urgent erasure-overdue")
        await expect(overdue.get_by_text("Overdue")).to_be_visible()
        await page.screenshot(path=str(tmp_path / "erasure-1-queue.png"), full_page=True)

        # The later one is refused: the reason is required, then sent.
        await page.get_by_role("link", name="Decide (IP-2026-000141)").click()
        await expect(page.get_by_role("heading", name="Erasure request: IP-2026-000141")).to_be_visible()
        await page.get_by_label("Reason (at most 2000 characters)").fill(
            "The court holds your file until the hearing in March."
        )
        await page.get_by_role("button", name="Refuse and tell the person").click()
        await expect(page.locator("main").get_by_role("status")).to_have_text(
            "The request was refused. The person will be told your reason."
        )
        await expect(page.locator(".erasure-refused")).to_contain_text("IP-2026-000141")

        # The overdue one is carried out once the box is ticked.
        await overdue.get_by_role("link", name="Decide").click()
        await page.screenshot(path=str(tmp_path / "erasure-2-decide.png"), full_page=True)
        await page.get_by_label(
            "I have checked that nothing about this person must be kept, and want it all erased now."
        ).check()
        await page.get_by_role("button", name="Erase everything now").click()
        await expect(page.locator("main").get_by_role("status")).to_contain_text(
            "The person's data was erased."
        )
        await expect(rows).to_have_count(0)
        await page.screenshot(path=str(tmp_path / "erasure-3-done.png"), full_page=True)

        await page.goto(f"{console_url}/cases/IP-2026-000140")
        await expect(page.get_by_role("heading", name="Case IP-2026-000140 was erased")).to_be_visible()
        await expect(page.locator(".case-erased")).to_contain_text("at the person's request")
        await page.screenshot(path=str(tmp_path / "erasure-4-tombstone.png"), full_page=True)
    # The erased case's page answers 410 Gone, which the browser notes; nothing else went wrong.
    assert problems == ["Failed to load resource: the server responded with a status of 410 (Gone)"]
    async with sessionmaker() as session:
        left = (await session.execute(select(DataRequest.status))).scalars().all()
        people = (await session.execute(select(Beneficiary))).scalars().all()
    assert left == ["refused"] and len(people) == 1
