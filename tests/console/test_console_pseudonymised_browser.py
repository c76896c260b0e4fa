"""In a real browser: a caseworker opens a queued case's Interview and Conversation tabs and finds it
pseudonymised, cannot reveal who it is, takes it from the tab's note, and then the audited reveal and
both tabs show the person. (What every page shows to whom is walked in test_console_pseudonymised.py.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseworker_console.app import create_app
from storage.crypto import Crypto
from storage.models import Case, StaffUser
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
from tests.console.test_console_pseudonymised import CHAT, CODE, NAME, PHONE, seed_everything

MakeUser = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

pytestmark = BROWSER_TEST


@pytest.fixture
async def console_url(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> AsyncIterator[str]:
    async with serving(create_app(sessionmaker=sessionmaker, crypto=crypto)) as url:
        yield url


async def test_a_queued_case_is_pseudonymised_until_the_caseworker_takes_it_in_the_browser(
    console_url: str,
    database: Database,
    make_user: MakeUser,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    author = await make_user("leyla", display_name="Leyla Caseworker")
    await make_user("rashad", display_name="Rashad Caseworker")
    await seed_everything(sessionmaker, crypto, seed_person, author)
    shots = ARTIFACTS / database.backend
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    async with chromium() as browser:
        page = await open_page(browser, problems, patience=10)
        expect = playwright_api.expect
        await sign_in(page, console_url, "rashad")

        await page.goto(f"{console_url}/cases/{CODE}/interview")
        main = page.locator("main")
        note = main.locator(".case-pseudonymised")
        await expect(note).to_contain_text("You are not on this case")
        answers = main.locator(".interview-answers")
        await expect(answers.locator("div", has_text="Do you need an interpreter")).to_contain_text("Yes")
        await expect(answers.locator("div", has_text="What is your phone number")).to_contain_text("Hidden")
        await expect(main.get_by_text(NAME)).to_have_count(0)
        await expect(main.get_by_text(PHONE)).to_have_count(0)
        await expect(main.locator("form.interview-form")).to_have_count(0)
        await page.screenshot(path=str(shots / "pseudonymised-1-interview.png"), full_page=True)

        await main.get_by_role("link", name="Conversation").click()
        await expect(main.locator(".message-text")).to_have_text(["Hidden", "Hidden"])
        await expect(main.get_by_text(CHAT)).to_have_count(0)
        await expect(main.locator(".reply-form")).to_have_count(0)
        await page.screenshot(path=str(shots / "pseudonymised-2-conversation.png"), full_page=True)

        await main.get_by_role("link", name="Overview").click()
        await expect(
            main.get_by_text("Only the caseworker of this case and supervisors may see them.")
        ).to_be_visible()
        await expect(main.get_by_role("button", name="Show identity")).to_have_count(0)

        # Taking it from a tab's note: the case is theirs, the note goes, the reveal works.
        await main.get_by_role("link", name="Conversation").click()
        await note.get_by_role("button", name="Take this case").click()
        await expect(main.locator(".case-assignee")).to_have_text("Rashad Caseworker")
        await expect(main.locator(".case-pseudonymised")).to_have_count(0)
        await main.get_by_role("button", name="Show identity").click()
        await expect(main.locator(".identity-name")).to_have_text(NAME)
        await expect(main.locator(".identity-phone")).to_have_text(PHONE)
        await page.screenshot(path=str(shots / "pseudonymised-3-revealed.png"), full_page=True)

        await main.get_by_role("link", name="Telephone interview").click()
        await expect(main.get_by_label("Name", exact=True)).to_have_value(NAME)
        await expect(main.get_by_label("Phone", exact=True)).to_have_value(PHONE)
        await main.get_by_role("link", name="Conversation").click()
        await expect(main.locator(".message-text").first).to_have_text(CHAT)
    assert problems == []
