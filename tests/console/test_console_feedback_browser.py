"""In a real browser (Debian's Chromium, headless): a focal point opens the feedback page, sees the
overdue feedback marked and the anonymous complaint, opens the complaint, answers it and closes it,
reads the feedback figures, and chooses off the phone alert of overdue feedback on My account.
No CSP violation or script error. The screenshots go to the test's own temporary directory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from programme.feedback import Kind, shown
from storage.crypto import Crypto
from storage.models import Case, StaffUser
from tests.console.browser import BROWSER_TEST, chromium, open_page, playwright_api, sign_in
from tests.console.test_console_browser import console_url
from tests.console.test_console_feedback import ANONYMOUS, give, world

pytestmark = BROWSER_TEST
__all__ = ["console_url"]  # the fixture, shared with the other browser tests


async def test_a_focal_point_answers_and_closes_a_complaint_in_the_browser(
    console_url: str,
    tmp_path: Path,
    make_user: Callable[..., Awaitable[StaffUser]],
    seed_person: Callable[..., Awaitable[Case]],
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    _, _, refs = await world(sessionmaker, crypto, seed_person, make_user)
    await give(sessionmaker, crypto, case=None, kind=Kind.THANKS, text="Thank you for the course.")
    focal = await make_user("farida", role="supervisor", display_name="Farida Focal")
    async with sessionmaker() as session, session.begin():
        (await session.get(StaffUser, focal.id)).focal_point = True  # type: ignore[union-attr]
    problems: list[str] = []
    expect = playwright_api.expect
    async with chromium() as browser:
        page = await open_page(browser, problems)
        await sign_in(page, console_url, "farida")
        # The case list announces the overdue one; the header's link opens the page.
        await expect(page.locator("main [data-feedback-overdue]")).to_be_visible()
        await page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Feedback").click()
        await expect(page.get_by_role("heading", name="Feedback and complaints")).to_be_visible()
        rows = page.locator("main tr[data-reference]")
        await expect(rows).to_have_count(4)
        overdue = page.locator(f"tr[data-reference='{refs['service']}']")
        await expect(overdue).to_contain_text("Overdue")
        await expect(page.locator("main [data-overdue-count]")).to_be_visible()
        await page.screenshot(path=str(tmp_path / "feedback-1-list.png"), full_page=True)

        await page.get_by_role("link", name=shown(refs["afraid"])).click()
        await expect(page.get_by_role("heading", name=f"Feedback {shown(refs['afraid'])}")).to_be_visible()
        await expect(page.locator("blockquote.feedback-text")).to_have_text(ANONYMOUS)
        await page.get_by_label("The answer, in words the person understands (sent as you write it)").fill(
            "Thank you for telling us. Please come to the office on Monday and ask for Farida."
        )
        await page.get_by_role("button", name="Send the answer").click()
        await expect(page.locator("main").get_by_role("status")).to_contain_text("The answer is saved.")
        await expect(page.locator("[data-status]")).to_have_text("Answered")
        await page.screenshot(path=str(tmp_path / "feedback-2-answered.png"), full_page=True)
        await page.get_by_role("button", name="Close", exact=True).click()
        await expect(page.locator("[data-status]")).to_have_text("Closed")

        # The figures, counts only; then the alert of overdue feedback among the phone's alerts.
        await page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Feedback").click()
        await page.get_by_role("link", name="Feedback figures").click()
        await expect(page.get_by_role("heading", name="Feedback figures")).to_be_visible()
        await expect(page.get_by_role("heading", name="By kind")).to_be_visible()
        await expect(page.locator("main")).not_to_contain_text(ANONYMOUS)
        await page.screenshot(path=str(tmp_path / "feedback-3-figures.png"), full_page=True)
        await page.goto(console_url + "/account")
        overdue_alert = page.get_by_label(
            "Feedback or a complaint waiting more than 7 days for a first answer (the alert names none of it)"
        )
        await expect(overdue_alert).to_be_checked()
        await overdue_alert.uncheck()
        await page.get_by_role("button", name="Save my alerts").click()
        await expect(page.locator("#alerts-changed")).to_be_visible()
        await expect(overdue_alert).not_to_be_checked()
        await page.locator("#alerts").screenshot(path=str(tmp_path / "feedback-4-account-alerts.png"))
    assert problems == []
    for name in ("1-list", "2-answered", "3-figures", "4-account-alerts"):
        assert (tmp_path / f"feedback-{name}.png").stat().st_size > 0
