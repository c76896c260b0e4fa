"""In a real browser (Debian's Chromium, headless), from an empty database with no demo seed: an
administrator creates an office in the console with its hours, a wrong value first (the server's
message by its field), and this year's public holidays offered from the `holidays` library; then a
simulated person books in the real bot one of exactly the times the settings give, and a caseworker
sees the booking in the console's calendar. No CSP violation or script error.

Same set-up as test_console_browser.py; screenshots go to test-artifacts/console/.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import calendar
from sandbox.client import SandboxClient
from storage.models import AuditEntry, Case, StaffUser
from storage.models_appointments import Appointment, Office
from tests.bot.test_appointments import BAKU, latest_keyboard, to_booking, values_of
from tests.bot.test_journey import tap_and_wait
from tests.bot.test_screening import Translate
from tests.conftest import Database
from tests.console.browser import ARTIFACTS, BROWSER_TEST, chromium, open_page, playwright_api, sign_in
from tests.console.test_console_browser import console_at_now
from tests.console.test_console_office_booking import bot_process, phone, sandbox, working_days
from wording import dates

MakeUser = Callable[..., Awaitable[StaffUser]]

pytestmark = BROWSER_TEST
__all__ = ["bot_process", "console_at_now", "phone", "sandbox"]  # fixtures shared with other tests

TIMES = [dt.time(10), dt.time(11), dt.time(14), dt.time(15)]


async def test_an_administrator_sets_up_an_office_from_an_empty_database_and_a_person_books_it(
    console_at_now: str,
    database: Database,
    make_user: MakeUser,
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
) -> None:
    # The console's clock and the bot's stand at the test's moment: the coming year's holidays and
    # the days the bot offers follow from the same today, whatever the hour.
    console_url = console_at_now
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Office))).scalar_one() == 0
        assert (await session.execute(select(func.count()).select_from(Case))).scalar_one() == 0
    await make_user("aysel", role="admin", display_name="Aysel Admin")
    await make_user("leyla", role="caseworker", display_name="Leyla Caseworker")
    shots = ARTIFACTS / database.backend
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    expect = playwright_api.expect
    today = now.astimezone(BAKU).date()
    async with chromium() as browser:
        page = await open_page(browser, problems)
        await sign_in(page, console_url, "aysel")
        await page.get_by_role("link", name="Offices").click()
        await expect(page.get_by_text("No office yet")).to_be_visible()
        await page.get_by_role("link", name="New office").click()
        await page.get_by_label("Name", exact=True).fill("Khirdalan office")
        await page.get_by_label("Address", exact=True).fill("Heydar Aliyev avenue 3, Khirdalan")
        await page.get_by_label("Latitude").fill("40.4481")
        await page.get_by_label("Longitude").fill("49.7553")
        for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
            await page.get_by_label(day, exact=True).fill("10:00-12:00, 14:00-16:00")
        await page.get_by_label("Saturday", exact=True).fill("10:00-10:20")  # shorter than a slot
        await page.get_by_label("Slot length, in minutes").fill("60")
        await page.get_by_label("Places per slot").fill("1")
        await page.get_by_role("button", name="Save the office").click()
        await expect(page.locator("#err-hours_5")).to_have_text(
            "10:00-10:20 is shorter than one slot (60 minutes)."
        )
        await expect(page.get_by_label("Name", exact=True)).to_have_value("Khirdalan office")
        await page.screenshot(path=str(shots / "offices-1-refused.png"), full_page=True)
        assert problems == [
            "Failed to load resource: the server responded with a status of 400 (Bad Request)"
        ]
        problems.clear()

        await page.get_by_label("Saturday", exact=True).fill("")
        await page.get_by_role("button", name="Add Azerbaijan's public holidays of the coming year").click()
        await expect(page.locator("#office-notice")).to_be_visible()
        holidays = await page.get_by_label("Holidays").input_value()
        assert f"{today.year + 1}-01-01" in holidays
        await page.screenshot(path=str(shots / "offices-2-holidays.png"), full_page=True)
        await page.get_by_role("button", name="Save the office").click()
        await expect(page.locator("main").get_by_role("status")).to_have_text("Saved.")
        section = page.locator("section.office")
        await expect(section).to_contain_text("Khirdalan office")
        await expect(section.locator("a.map-link")).to_have_attribute(
            "href", re.compile(r"^https://www\.openstreetmap\.org/\?mlat=40\.44810&mlon=49\.75530")
        )
        await expect(section.locator("ul.holidays")).to_contain_text("New Year")
        await page.screenshot(path=str(shots / "offices-3-saved.png"), full_page=True)

        # A person books in the bot: exactly the weekdays without a holiday, exactly the four times.
        user = await to_booking(phone, t)
        await tap_and_wait(
            phone, user, t("First meeting"), t("Choose a day. Days marked · have no free time.")
        )
        day = min(working_days(today, set()))
        message = await latest_keyboard(phone, user)
        if not message["text"].startswith(calendar.month_title(day.year, day.month, "en")):
            await phone.press(user, t("Next month") + " ▶️")
        await tap_and_wait(phone, user, calendar.day_label(day, "en"), t("Choose a time."))
        times = [label for label in values_of(await latest_keyboard(phone, user)) if re.match(r"^\d", label)]
        starts = [dt.datetime.combine(day, time, tzinfo=BAKU) for time in TIMES]
        assert times == [dates.time_label(start, BAKU, "en") for start in starts]
        await phone.press(user, times[1])
        await phone.wait_for_bot_message(user, contains="Please check your appointment")
        await tap_and_wait(phone, user, "✅ " + t("Confirm"), t("Your appointment is booked."))
        async with sessionmaker() as session:
            appointment = (await session.execute(select(Appointment))).scalar_one()
            code = (await session.execute(select(Case.code))).scalar_one()
        assert appointment.starts_at == starts[1]

        # The caseworker's calendar shows the booking by its code, in the slot the bot offered.
        page = await open_page(browser, problems)
        await sign_in(page, console_url, "leyla")
        await page.goto(f"{console_url}/appointments?view=day&date={day.isoformat()}")
        slot = page.locator(f"tr.calendar-slot[data-at='{starts[1].astimezone(dt.UTC).isoformat()}']")
        await expect(slot.locator("li.calendar-booking")).to_have_attribute("data-case", code)
        await expect(page.locator("tr.calendar-slot")).to_have_count(len(TIMES))
        await page.screenshot(path=str(shots / "offices-4-calendar.png"), full_page=True)
    assert problems == []
    async with sessionmaker() as session:
        actions = set((await session.execute(select(AuditEntry.action))).scalars())
    assert {"office.created", "appointment.booked"} <= actions
