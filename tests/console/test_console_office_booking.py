"""An office set up in the console alone is what the real bot offers: exactly the days and times that
follow from its hours, slot length, holidays (from the `holidays` library) and closures; a person
books one of them, and the console's calendar shows the same slots and the booking."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import holidays
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from bot import calendar
from bot.conversation import BotConfig
from caseworker_console.app import create_app
from programme.appointments import BOOKING_HORIZON_DAYS
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage.crypto import Crypto
from storage.models import StaffUser
from storage.models_appointments import Appointment, Office
from tests.bot.conftest import BOT_ID, BotProcess
from tests.bot.test_appointments import BAKU, latest_keyboard, to_booking, values_of
from tests.bot.test_journey import tap_and_wait
from tests.bot.test_screening import Translate
from tests.console.test_console_appointments import soup
from tests.console.test_console_offices import office_form
from wording import dates

SignIn = Callable[..., Awaitable[StaffUser]]

pytestmark = pytest.mark.slow

# Weekdays only, a long lunch break, 45-minute slots: 09:00 09:45 10:30 11:15 | 13:00 13:45.
HOURS = "09:00-12:00, 13:00-15:00"
TIMES = [dt.time(9), dt.time(9, 45), dt.time(10, 30), dt.time(11, 15), dt.time(13), dt.time(13, 45)]


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    async with SandboxServer() as server:
        yield server


@pytest.fixture
def app(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, now: dt.datetime) -> Starlette:
    """The console, its clock at the test's moment (the bot's stands at the same one)."""
    return create_app(sessionmaker=sessionmaker, crypto=crypto, clock=lambda: now)


@pytest.fixture
async def bot_process(
    sandbox: SandboxServer, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, now: dt.datetime
) -> AsyncIterator[BotProcess]:
    process = BotProcess(sandbox.url, sessionmaker, crypto, BotConfig(clock=lambda: now))
    await process.start()
    try:
        yield process
    finally:
        await process.halt()


@pytest.fixture
async def phone(sandbox: SandboxServer, bot_process: BotProcess) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(sandbox.url, BOT_ID) as client:
        yield client


def working_days(today: dt.date, closed: set[dt.date]) -> set[dt.date]:
    """From tomorrow to the booking horizon: weekdays that are neither a public holiday nor closed."""
    public = holidays.country_holidays("AZ", years=range(today.year, today.year + 2))
    days = {today + dt.timedelta(days=offset) for offset in range(1, BOOKING_HORIZON_DAYS + 1)}
    return {day for day in days if day.weekday() < 5 and day not in public and day not in closed}


async def offered_days(phone: SandboxClient, t: Translate, user: int) -> set[dt.date]:
    found: set[dt.date] = set()
    for page in range(4):
        message = await latest_keyboard(phone, user)
        values = values_of(message)
        found |= {day for value in values.values() if (day := calendar.parse_day(value))}
        if t("Next month") + " ▶️" not in values:
            break
        assert page < 3
        await phone.press(user, t("Next month") + " ▶️")
        await phone.wait_idle(user)
    return found


async def test_an_office_made_in_the_console_is_exactly_what_the_bot_offers_and_a_person_books_it(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
) -> None:
    await sign_in_as("admin1", role="admin")
    today = now.astimezone(BAKU).date()
    closure_day = next(
        day for day in sorted(working_days(today, set())) if day > today + dt.timedelta(days=2)
    )
    week = {f"hours_{day}": HOURS for day in range(5)}
    form = office_form(
        name="Ganja office", appointment_types=["first"], capacity="1", slot_minutes="45", **week
    )
    token = soup(await client.get("/offices/edit")).select_one("form input[name=csrf_token]")["value"]
    offered = await client.post("/offices/save", data={"csrf_token": token, **form, "do": "suggest"})
    holiday_lines = soup(offered).select_one("#office-holidays").text
    assert (
        await client.post("/offices/save", data={"csrf_token": token, **form, "holidays": holiday_lines})
    ).status_code == 303
    async with sessionmaker() as session:
        office = (await session.execute(select(Office))).scalar_one()
    closure = {"office": str(office.id), "start": closure_day.isoformat(), "reason": "Training day"}
    assert (await client.post("/offices/close", data={"csrf_token": token, **closure})).status_code == 303

    user = await to_booking(phone, t)
    await tap_and_wait(phone, user, t("First meeting"), t("Choose a day. Days marked · have no free time."))
    expected = working_days(today, {closure_day})
    assert (await offered_days(phone, t, user)) - {today} == expected

    # The times of a day are exactly the slots of its spans; book the last one.
    day = min(expected)
    for _page in range(3):
        message = await latest_keyboard(phone, user)
        if message["text"].startswith(calendar.month_title(day.year, day.month, "en")):
            break
        await phone.press(user, "◀️ " + t("Previous month"))
    await tap_and_wait(phone, user, calendar.day_label(day, "en"), t("Choose a time."))
    times = [label for label in values_of(await latest_keyboard(phone, user)) if re.match(r"^\d", label)]
    starts = [dt.datetime.combine(day, time, tzinfo=BAKU) for time in TIMES]
    assert times == [dates.time_label(start, BAKU, "en") for start in starts]
    await phone.press(user, dates.time_label(starts[-1], BAKU, "en"))
    await phone.wait_for_bot_message(user, contains="Please check your appointment")
    await tap_and_wait(phone, user, "✅ " + t("Confirm"), t("Your appointment is booked."))
    async with sessionmaker() as session:
        appointment = (await session.execute(select(Appointment))).scalar_one()
    assert appointment.office_id == office.id and appointment.starts_at == starts[-1]

    # The console's calendar draws the same slots, the booking by its case code, and none on the closure.
    client.cookies.clear()
    await sign_in_as("worker1", role="caseworker")
    page = soup(await client.get(f"/appointments?office={office.id}&view=day&date={day.isoformat()}"))
    rows = page.select("main tr.calendar-slot")
    assert [row["data-at"] for row in rows] == [start.astimezone(dt.UTC).isoformat() for start in starts]
    assert rows[-1].select_one("li.calendar-booking")["data-case"].startswith("IP-")
    closed = soup(
        await client.get(f"/appointments?office={office.id}&view=day&date={closure_day.isoformat()}")
    )
    assert closed.select("main tr.calendar-slot") == []
    assert "Training day" in closed.select_one("main .calendar-closed").text


async def test_a_person_reads_the_offices_name_and_address_in_their_language_else_the_first_given(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await sign_in_as("admin1", role="admin")
    names = {"name_ur": "گنجہ دفتر", "address_ur": "نظامی سڑک 1، گنجہ"}
    form = office_form(
        name="Ganja office", address="Nizami street 1, Ganja", appointment_types=["first"], **names
    )
    token = soup(await client.get("/offices/edit")).select_one("form input[name=csrf_token]")["value"]
    assert (await client.post("/offices/save", data={"csrf_token": token, **form})).status_code == 303

    user = await to_booking(phone, t, "ur", "اردو")
    choose = t("Choose a day. Days marked · have no free time.", "ur")
    calendar_page = await tap_and_wait(phone, user, t("First meeting", "ur"), choose)
    venue = next(m for m in await phone.bot_messages(user) if m["kind"] == "venue")
    assert (venue["venue"]["title"], venue["venue"]["address"]) == ("گنجہ دفتر", "نظامی سڑک 1، گنجہ")
    assert "گنجہ دفتر" in calendar_page["text"]
    # Someone whose language has none reads the first given.
    other = await to_booking(phone, t)
    await tap_and_wait(phone, other, t("First meeting"), t("Choose a day. Days marked · have no free time."))
    venue = next(m for m in await phone.bot_messages(other) if m["kind"] == "venue")
    assert venue["venue"]["title"] == "Ganja office"
