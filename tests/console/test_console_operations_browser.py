"""In a real browser (Debian's Chromium, headless): the first administrator signs in to a new
installation and finds the setup checklist at the top, follows its office step, and opens the
operations page with a running worker and a late reply in the outbox; the same pages in Russian
and Azerbaijani. No CSP violation or script error.

Screenshots go to the test's own temporary folder (`--basetemp` keeps them where you want them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach.heartbeat import who
from storage import ops
from storage.crypto import Crypto
from storage.migrate import newest_revision
from storage.models import OutboxMessage, ProcessedUpdate, StaffUser
from storage.models_appointments import Office
from tests.conftest import Database
from tests.console.browser import BROWSER_TEST, chromium, open_page, playwright_api, sign_in
from tests.console.test_console_browser import console_at_now

MakeUser = Callable[..., Awaitable[StaffUser]]

pytestmark = BROWSER_TEST
__all__ = ["console_at_now"]  # the fixture, shared with the other browser tests

HEAD = newest_revision()


async def running_installation(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, now: dt.datetime
) -> None:
    """A worker that beat a few seconds before `now` (the console's clock), a reply due for ten
    minutes, the bot's last update, and the key check a process writes at start."""
    async with sessionmaker() as session, session.begin():
        await ops.beat(session, ops.SENDER_HEARTBEAT, who(), now=now - dt.timedelta(seconds=3))
        await ops.check_keys(session, crypto)
        session.add(ProcessedUpdate(bot_id=1, update_id=5, processed_at=now - dt.timedelta(minutes=4)))
        session.add(
            OutboxMessage(
                lane=0, status="pending", not_before=now - dt.timedelta(minutes=10), payload_enc=b"\x01" * 40
            )
        )
        session.add(
            OutboxMessage(
                lane=2, status="pending", not_before=now + dt.timedelta(hours=2), payload_enc=b"\x01" * 40
            )
        )


async def test_the_first_administrator_sees_the_checklist_and_the_operations_page(
    console_at_now: str,
    database: Database,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    tmp_path: Path,
    now: dt.datetime,
) -> None:
    # The page's "minutes ago" and "running" are by the console's clock, standing at `now`.
    console_url = console_at_now
    await make_user("adam", role="admin", display_name="Adam Admin")
    await running_installation(sessionmaker, crypto, now)
    shots = tmp_path / database.backend
    shots.mkdir()
    problems: list[str] = []
    expect = playwright_api.expect
    async with chromium() as browser:
        page = await open_page(browser, problems)
        await sign_in(page, console_url, "adam")
        checklist = page.get_by_role("region", name="Before the first person comes")
        await expect(checklist).to_be_visible()
        await expect(checklist).to_contain_text("0 of 5 steps done. This list stays here until each is done.")
        await expect(checklist.get_by_role("listitem")).to_have_count(5)
        await page.screenshot(path=str(shots / "checklist-en.png"), full_page=True)

        await checklist.get_by_role("link", name="Add an office").click()
        await expect(page.get_by_role("heading", name="New office", exact=True)).to_be_visible()
        # The checklist stays on every page of theirs until it is done.
        await expect(page.get_by_role("region", name="Before the first person comes")).to_be_visible()

        await page.get_by_role("link", name="Operations").click()
        await expect(page.get_by_role("heading", name="Operations", level=1)).to_be_visible()
        checks = page.get_by_role("table", name="Checks")
        await expect(checks.locator("tr[data-check=sender]")).to_contain_text(
            "Running: its last heartbeat was"
        )
        await expect(checks.locator("tr[data-check=keys]")).to_contain_text("The data keys open the data.")
        await expect(checks.locator("tr[data-check=database]")).to_contain_text(
            f"at the newest schema ({HEAD})"
        )
        await expect(checks.locator("tr[data-check=bot]")).to_contain_text(
            "It last received an update 4 minutes ago"
        )
        outbox = page.get_by_role("table", name="Messages waiting to be sent, by lane")
        await expect(outbox.get_by_role("row", name="Replies")).to_contain_text("10 minutes ago Late")
        await expect(page.get_by_role("status")).to_contain_text("Messages due for more than five minutes")
        await page.screenshot(path=str(shots / "operations-en.png"), full_page=True)
    assert problems == []


async def test_the_checklist_and_the_operations_page_in_russian_and_azerbaijani(
    console_at_now: str,
    database: Database,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    tmp_path: Path,
    now: dt.datetime,
) -> None:
    # The page's "minutes ago" and "running" are by the console's clock, standing at `now`.
    console_url = console_at_now
    await make_user("ruslan", role="admin", language="ru", display_name="Руслан")
    await make_user("aysel", role="admin", language="az", display_name="Aysel")
    await running_installation(sessionmaker, crypto, now)
    async with sessionmaker() as session, session.begin():
        session.add(
            Office(
                name="Integration Centre Ganja", address="1 Example Street", latitude=40.68, longitude=46.36
            )
        )
    shots = tmp_path / database.backend
    shots.mkdir()
    problems: list[str] = []
    expect = playwright_api.expect
    expected = {
        "ruslan": ("ru", "До прихода первого человека", "Работа системы", "Работает: последний сигнал был"),
        "aysel": ("az", "İlk insan gəlməzdən əvvəl", "Sistemin işi", "İşləyir: son siqnal"),
    }
    async with chromium() as browser:
        for username, (locale, checklist_name, operations, running) in expected.items():
            page = await open_page(browser, problems)
            await sign_in(page, console_url, username)
            checklist = page.get_by_role("region", name=checklist_name)
            await expect(checklist).to_be_visible()
            # A step done is ticked off and stays in the list, the others still to do.
            await expect(checklist.locator("li[data-done=yes]")).to_have_count(1)
            await expect(checklist.locator("li[data-step=office]")).to_have_attribute("data-done", "yes")
            await page.screenshot(path=str(shots / f"checklist-{locale}.png"), full_page=True)
            await page.get_by_role("link", name=operations).click()
            await expect(page.get_by_role("heading", name=operations, level=1)).to_be_visible()
            await expect(page.locator("tr[data-check=sender]")).to_contain_text(running)
            await page.screenshot(path=str(shots / f"operations-{locale}.png"), full_page=True)
    assert problems == []
