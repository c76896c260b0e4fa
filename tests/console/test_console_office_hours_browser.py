"""In a real browser (Debian's Chromium, headless): a supervisor writes a ready reply holding the
programme's hours, a wrong placeholder refused first by its field; a caseworker on an Urdu-speaking
person's conversation sees the hours filled in Urdu, a line for each set of days, right to left, and
sends it. No CSP violation or script error.

Same set-up as test_console_browser.py; screenshots go to test-artifacts/console/.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from programme.organisation import Organisation
from storage.models import Case, StaffUser
from storage.models_organisation import ReadyReply
from storage.organisation import save_organisation
from tests.conftest import Database
from tests.console.browser import ARTIFACTS, BROWSER_TEST, chromium, open_page, playwright_api, sign_in
from tests.console.test_console_browser import console_url
from texts.bidi import without_controls

MakeUser = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

pytestmark = BROWSER_TEST
__all__ = ["console_url"]  # a fixture shared with other tests

URDU_INTRO = "ہمارا دفتر ان اوقات میں کھلا رہتا ہے:"
URDU_HOURS = [
    "پیر، منگل، بدھ، جمعرات، اور جمعہ: صبح 9:00 سے دوپہر 1:00 تک اور دوپہر 2:00 سے شام 6:00 تک",
    "ہفتہ: صبح 10:00 سے دوپہر 2:00 تک",
    "اتوار: بند",
]
REFUSED = "Failed to load resource: the server responded with a status of 400 (Bad Request)"


async def test_a_reply_with_the_hours_is_written_previewed_and_sent_in_urdu(
    console_url: str,
    database: Database,
    make_user: MakeUser,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_user("sara", role="supervisor", display_name="Sara Supervisor")
    leyla = await make_user("leyla", role="caseworker", display_name="Leyla Caseworker")
    await seed_person(assigned_to=leyla.id, stage="screening", language="ur")
    week = {day: ((dt.time(9), dt.time(13)), (dt.time(14), dt.time(18))) for day in range(5)}
    async with sessionmaker() as session, session.begin():
        await session.execute(delete(ReadyReply))  # the shipped ones: only on a database's first test
        hours = {**week, 5: ((dt.time(10), dt.time(14)),)}
        await save_organisation(session, Organisation(controller="Bridge Aid", hours=hours), staff_id=None)
    shots = ARTIFACTS / database.backend
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    expect = playwright_api.expect
    async with chromium() as browser:
        page = await open_page(browser, problems)
        await sign_in(page, console_url, "sara")
        await page.goto(f"{console_url}/ready-replies/edit")
        await expect(page.locator("#reply-placeholders dt")).to_have_text("{hours}")
        await page.get_by_label("Label in English").fill("Office hours")
        await page.get_by_label("Text in English").fill("Our office is open at these hours:\n{hours}")
        await page.get_by_label("Text in اردو").fill(f"{URDU_INTRO}\n{{اوقات}}")
        await page.get_by_role("button", name="Save the ready reply").click()
        await expect(page.locator("#err-text_ur")).to_contain_text("{اوقات} is not a placeholder")
        await expect(page.get_by_label("Text in اردو")).to_have_value(f"{URDU_INTRO}\n{{اوقات}}")
        await page.screenshot(path=str(shots / "ready-reply-hours-1-refused.png"), full_page=True)
        await page.get_by_label("Text in اردو").fill(f"{URDU_INTRO}\n{{hours}}")
        await page.get_by_role("button", name="Save the ready reply").click()
        await expect(page.locator("section.ready-reply", has_text="Office hours")).to_be_visible()

        await page.get_by_role("button", name="Log out").click()
        await sign_in(page, console_url, "leyla")
        await page.goto(f"{console_url}/cases/IP-2026-000100/conversation")
        preview = page.locator("label", has_text="Office hours").locator("q")
        # A line for each set of days, as the person will read them, laid out right to left.
        shown = without_controls(await preview.inner_text()).split("\n")
        assert shown == [URDU_INTRO, *URDU_HOURS], shown
        assert await preview.evaluate("e => getComputedStyle(e).direction") == "rtl"
        await page.screenshot(path=str(shots / "ready-reply-hours-2-preview-urdu.png"), full_page=True)
        await page.get_by_label("Office hours").check()
        await page.get_by_role("button", name="Send the ready reply").click()
        await expect(page.get_by_text("Your reply is on its way to the beneficiary.")).to_be_visible()
        sent = page.locator("li.message-out .message-text")
        assert without_controls(await sent.inner_text()).split("\n") == [URDU_INTRO, *URDU_HOURS]
        await page.screenshot(path=str(shots / "ready-reply-hours-3-sent-urdu.png"), full_page=True)
    assert problems == [REFUSED]
