"""In a real browser (Debian's Chromium, headless): an administrator sets the organisation up (a
wrong value first, answered by its field), a supervisor writes a ready reply with a Persian text,
and a caseworker on a Persian-speaking person's conversation sees which replies can be sent to them
and which cannot. No CSP violation or script error.

Same set-up as test_console_browser.py; screenshots go to test-artifacts/console/.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Case, StaffUser
from storage.models_organisation import ReadyReply
from storage.organisation import save_ready_reply, stored_organisation
from tests.conftest import Database
from tests.console.browser import ARTIFACTS, BROWSER_TEST, chromium, open_page, playwright_api, sign_in
from tests.console.test_console_browser import console_url

MakeUser = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

pytestmark = BROWSER_TEST
__all__ = ["console_url"]  # a fixture shared with other tests

PERSIAN_NAME = "انجمن یاری پل"
PERSIAN_REPLY = "لطفاً پاسپورت و اسناد اقامت خود را با خود به ملاقات بیاورید."
REFUSED = "Failed to load resource: the server responded with a status of 400 (Bad Request)"


async def test_the_organisation_and_a_persian_ready_reply_are_set_up_and_offered_by_language(
    console_url: str,
    database: Database,
    make_user: MakeUser,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_user("aysel", role="admin", display_name="Aysel Admin")
    await make_user("sara", role="supervisor", display_name="Sara Supervisor")
    leyla = await make_user("leyla", role="caseworker", display_name="Leyla Caseworker")
    await seed_person(assigned_to=leyla.id, stage="screening", language="fa")
    async with sessionmaker() as session, session.begin():
        # The shipped replies are there only when this test runs first on its database.
        await session.execute(delete(ReadyReply))
        await save_ready_reply(
            session,
            None,
            labels={"en": "Office hours"},
            texts={"en": "We are open Monday to Friday.", "ru": "Мы открыты с понедельника по пятницу."},
            active=True,
            staff_id=None,
        )
    shots = ARTIFACTS / database.backend
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    expect = playwright_api.expect
    async with chromium() as browser:
        page = await open_page(browser, problems)
        await sign_in(page, console_url, "aysel")
        await page.get_by_role("link", name="Organisation", exact=True).click()
        await expect(page.locator("#organisation-first-start")).to_be_visible()
        await page.get_by_label("Organisation's name").fill("Bridge Aid Association")
        await page.get_by_label("Name in فارسی / دری").fill(PERSIAN_NAME)
        await page.get_by_label("Contact: an address, a phone number or a person's title").fill(
            "privacy@bridge-aid.example"
        )
        await page.get_by_label("Saturday", exact=True).fill("14:00-10:00")
        await page.get_by_role("button", name="Save the organisation").click()
        await expect(page.locator("#err-hours_5")).to_have_text("14:00-10:00 ends before it begins.")
        await expect(page.get_by_label("Name in فارسی / دری")).to_have_value(PERSIAN_NAME)
        assert await page.get_by_label("Name in فارسی / دری").evaluate(
            "e => getComputedStyle(e).direction"
        ) == ("rtl")
        await page.screenshot(path=str(shots / "organisation-1-refused.png"), full_page=True)
        await page.get_by_label("Saturday", exact=True).fill("10:00-14:00")
        await page.get_by_role("button", name="Save the organisation").click()
        await expect(page.locator("#organisation-saved")).to_be_visible()
        await expect(page.locator("#organisation-first-start")).to_have_count(0)
        await page.screenshot(path=str(shots / "organisation-2-saved.png"), full_page=True)
        async with sessionmaker() as session:
            saved = await stored_organisation(session)
        assert saved is not None and saved.controller_in("fa") == PERSIAN_NAME and 5 in saved.hours

        await page.get_by_role("button", name="Log out").click()
        await sign_in(page, console_url, "sara")
        await page.get_by_role("link", name="Ready replies").click()
        await page.get_by_role("link", name="New ready reply").click()
        await page.get_by_label("Label in English").fill("Bring your documents")
        await page.get_by_label("Text in English").fill("Please bring your passport to the meeting.")
        await page.get_by_label("Text in فارسی / دری").fill(PERSIAN_REPLY)
        await page.get_by_role("button", name="Save the ready reply").click()
        reply = page.locator("section.ready-reply", has_text="Bring your documents")
        await expect(reply.locator(".reply-lacking")).to_contain_text("پښتو")
        persian = reply.locator(".reply-text[lang=fa]")
        await expect(persian).to_have_text(PERSIAN_REPLY)
        assert await persian.evaluate("e => getComputedStyle(e).direction") == "rtl"
        await page.screenshot(path=str(shots / "ready-replies-1-persian.png"), full_page=True)

        await page.get_by_role("button", name="Log out").click()
        await sign_in(page, console_url, "leyla")
        await page.goto(f"{console_url}/cases/IP-2026-000100/conversation")
        sendable = page.get_by_label("Bring your documents")
        await expect(sendable).to_be_enabled()
        await expect(page.get_by_label("Office hours")).to_be_disabled()
        await expect(page.locator(".choice-unavailable .reply-lacking")).to_contain_text("cannot be sent")
        await page.screenshot(path=str(shots / "conversation-ready-replies-persian.png"), full_page=True)
        await sendable.check()
        await page.get_by_role("button", name="Send the ready reply").click()
        await expect(page.get_by_text("Your reply is on its way to the beneficiary.")).to_be_visible()
        await expect(page.locator("li.message-out .message-text")).to_have_text(PERSIAN_REPLY)
    assert problems == [REFUSED]
