"""In a real browser (Debian's Chromium, headless): a supervisor opens Retention, sees the case the
purge will erase this month, tries the hold form with a review date in the past (the server's
message, the reason kept), puts the case on legal hold, reads it on the case's header, and lifts it.
No CSP violation or script error.

Same set-up as test_console_browser.py; screenshots go to test-artifacts/console/.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import AuditEntry, Case, StaffUser
from storage.models_retention import LegalHold
from tests.conftest import Database
from tests.console.browser import ARTIFACTS, BROWSER_TEST, chromium, open_page, playwright_api, sign_in
from tests.console.test_console_browser import console_url
from tests.console.test_console_retention import CODE, REASON, closed_days_ago, tomorrow_plus

MakeUser = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

pytestmark = BROWSER_TEST
__all__ = ["console_url"]  # the fixture, shared with the other browser tests


async def test_a_supervisor_puts_a_case_due_for_erasure_on_legal_hold_and_lifts_it(
    console_url: str,
    database: Database,
    make_user: MakeUser,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_user("sofia", role="supervisor", display_name="Sofia Supervisor")
    await closed_days_ago(seed_person, sessionmaker, days=725)
    shots = ARTIFACTS / database.backend
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    expect = playwright_api.expect
    async with chromium() as browser:
        page = await open_page(browser, problems)
        await sign_in(page, console_url, "sofia")
        await page.get_by_role("link", name="Retention").click()
        await expect(page.get_by_role("heading", name="To be erased this month")).to_be_visible()
        due = page.get_by_role("table", name="Cases the purge will erase in the next 30 days")
        row = due.locator(f"tr[data-case='{CODE}']")
        await expect(row).to_contain_text("Closed on")
        await page.screenshot(path=str(shots / "retention-1-due.png"), full_page=True)

        await row.get_by_role("link", name=f"Put case {CODE} on legal hold").click()
        await expect(page.get_by_role("heading", name=f"Legal hold of case {CODE}")).to_be_visible()
        await page.get_by_label("Why the case must be kept").fill(REASON)
        # The browser's own check would stop a past date; the server's message is what is tried here.
        review = page.get_by_label("Review on")
        await review.evaluate("input => input.removeAttribute('min')")
        await review.fill("2020-01-01")
        await page.get_by_role("button", name="Put on legal hold").click()
        await expect(page.get_by_role("alert")).to_have_text("The review date must be after today.")
        await expect(page.get_by_label("Why the case must be kept")).to_have_value(REASON)
        await page.screenshot(path=str(shots / "retention-2-refused.png"), full_page=True)
        # The refusal's 400 status is all Chromium reports; nothing else went wrong.
        assert problems == [
            "Failed to load resource: the server responded with a status of 400 (Bad Request)"
        ]
        problems.clear()

        await page.get_by_label("Review on").fill(tomorrow_plus(90))
        await page.get_by_role("button", name="Put on legal hold").click()
        await expect(page.locator("main").get_by_role("status")).to_have_text(
            f"Case {CODE} is on legal hold. The purge will not erase it."
        )
        await expect(page.get_by_text("Nothing is due for erasure in the next 30 days.")).to_be_visible()
        held = page.get_by_role("table", name="Cases kept past their retention period")
        await expect(held.locator(f"tr[data-case='{CODE}']")).to_be_visible()
        await page.screenshot(path=str(shots / "retention-3-held.png"), full_page=True)

        await held.get_by_role("link", name=CODE, exact=True).click()
        header = page.locator(".case-header")
        await expect(header.locator(".badge-hold")).to_have_text("Legal hold")
        await expect(header.locator(".case-hold")).to_contain_text("Review on")
        await page.screenshot(path=str(shots / "retention-4-case-header.png"), full_page=True)

        await header.get_by_role("link", name="Read or lift").click()
        await expect(page.locator(".hold-reason")).to_have_text(REASON)
        await page.get_by_role("button", name="Lift the legal hold").click()
        await expect(page.locator("main").get_by_role("status")).to_contain_text("is lifted")
        await expect(page.locator(f"table.retention-due tr[data-case='{CODE}']")).to_be_visible()
        await page.screenshot(path=str(shots / "retention-5-lifted.png"), full_page=True)
    assert problems == []
    async with sessionmaker() as session:
        assert (await session.execute(select(LegalHold))).first() is None
        actions = list(
            (
                await session.execute(
                    select(AuditEntry.action).where(AuditEntry.action.like("hold.%")).order_by(AuditEntry.id)
                )
            ).scalars()
        )
    assert actions == ["hold.placed", "hold.viewed", "hold.lifted"]
