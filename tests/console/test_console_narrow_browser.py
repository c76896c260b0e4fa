"""In a real browser (Debian's Chromium, headless) 1,024 px wide, in English, Azerbaijani and Russian:
the queue's Take and Assign buttons are on screen without scrolling sideways, the funnel's labels are
not cut, and the account and search pages fit. Screenshots go to test-artifacts/console/."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.crypto import Crypto
from storage.models import Case, StaffUser, utcnow
from tests.conftest import Database
from tests.console.browser import ARTIFACTS, BROWSER_TEST, chromium, open_page, sign_in
from tests.console.test_console_browser import console_url
from tests.console.test_console_figures import seed_world

MakeUser = Callable[..., Awaitable[StaffUser]]
SeedCases = Callable[..., Awaitable[list[Case]]]
WIDTH = 1024

pytestmark = BROWSER_TEST
__all__ = ["console_url"]  # the fixture, shared with the other browser tests


async def overflow(page: Any, *, boxes: bool = True) -> int:
    """How far the page (and, with `boxes`, any table's scrolling box on it) reaches past its width,
    in CSS pixels."""
    return int(
        await page.evaluate(
            """(boxes) => Math.max(
                document.documentElement.scrollWidth - document.documentElement.clientWidth,
                ...[...document.querySelectorAll(boxes ? '.table-scroll' : 'none')]
                    .map(b => b.scrollWidth - b.clientWidth))""",
            boxes,
        )
    )


@pytest.mark.parametrize("language", ["en", "az", "ru"])
async def test_the_console_fits_1024_pixels_in_every_language(
    console_url: str,
    database: Database,
    make_user: MakeUser,
    seed_cases: SeedCases,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    language: str,
) -> None:
    await seed_world(sessionmaker, crypto)
    now = utcnow()
    await seed_cases(
        *(
            {
                "code": f"IP-2026-0009{n:02d}",
                "handoff_at": now - dt.timedelta(hours=n),
                "urgent": n == 0,
                "priority": True,
                "source": "flyer-university-campus-north",
                "language": "fa",
            }
            for n in range(4)
        )
    )
    await make_user("sofia", role="supervisor", display_name="Sofia Supervisor", language=language)
    await make_user("konstantin", display_name="Konstantin Aleksandrovich Verkhovsky-Zakharov")
    shots = ARTIFACTS / database.backend
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    async with chromium() as browser:
        page = await open_page(browser, problems)
        await page.set_viewport_size({"width": WIDTH, "height": 768})
        await sign_in(page, console_url, "sofia")

        await page.goto(f"{console_url}/queue")
        rows = page.locator("main table.queue tbody tr")
        assert await rows.count() >= 4
        await page.screenshot(path=str(shots / f"narrow-queue-{language}.png"), full_page=True)
        buttons = page.locator("main .case-actions button")
        assert await buttons.count() >= 8  # Take and Assign on each row
        for index in range(await buttons.count()):
            box = await buttons.nth(index).bounding_box()
            assert box is not None
            assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, (language, index, box)
        assert await overflow(page) <= 0

        await page.goto(f"{console_url}/figures")
        cut = await page.evaluate(
            """() => {
                const svg = document.querySelector('svg.funnel-chart');
                const view = svg.viewBox.baseVal;
                return [...svg.querySelectorAll('g.funnel-step text')]
                    .map(t => [t.textContent, t.getBBox()])
                    .filter(([, b]) => b.x < view.x || b.x + b.width > view.x + view.width)
                    .map(([text]) => text);
            }"""
        )
        assert cut == []
        # The figures' wide tables (a column a month) may scroll in their own box; the page does not.
        assert await overflow(page, boxes=False) <= 0
        await page.screenshot(path=str(shots / f"narrow-figures-{language}.png"), full_page=True)

        for path in ("/cases?q=%2B994501234567", "/account", "/grants"):
            await page.goto(f"{console_url}{path}")
            assert await overflow(page) <= 0, path
        await page.screenshot(path=str(shots / f"narrow-account-{language}.png"), full_page=True)
    assert problems == []


async def test_the_accounts_page_fits_1024_pixels_in_russian(
    console_url: str, database: Database, make_user: MakeUser
) -> None:
    await make_user("admin1", role="admin", display_name="Administrator", language="ru")
    for n in range(3):
        await make_user(f"worker{n}", display_name="Konstantin Aleksandrovich Verkhovsky-Zakharov")
    problems: list[str] = []
    async with chromium() as browser:
        page = await open_page(browser, problems)
        await page.set_viewport_size({"width": WIDTH, "height": 768})
        await sign_in(page, console_url, "admin1")
        await page.goto(f"{console_url}/accounts")
        for summary in await page.locator("main details.account-changes summary").all():
            await summary.click()
        assert await overflow(page) <= 0
        await page.screenshot(
            path=str(ARTIFACTS / database.backend / "narrow-accounts-ru.png"), full_page=True
        )
    assert problems == []
