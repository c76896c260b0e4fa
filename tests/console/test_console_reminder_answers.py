"""The case's appointments tab shows when the person confirmed an appointment with a reminder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Case, StaffUser
from storage.models_reminders import Reminder
from tests.console.test_console_appointments import (
    BAKU,
    CODE,
    TAB,
    app,  # noqa: F401 - the console at the test's set time
    at,
    baku_day,
    book,
    office_with,
)

SignIn = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]


async def test_a_confirmation_by_reminder_shows_on_the_appointment_it_confirmed(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
) -> None:
    me = await sign_in_as("leyla", language="ru")
    office = await office_with(sessionmaker)
    case = await seed_person(code=CODE, stage="screening", assigned_to=me.id)
    confirmed = await book(sessionmaker, case, office, at(baku_day(3, now), 9))
    await book(sessionmaker, case, office, at(baku_day(4, now), 9))
    answered = dt.datetime(2026, 11, 20, 8, 15, tzinfo=dt.UTC)  # 12:15 in Baku
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(Reminder)
            .where(Reminder.appointment_id == confirmed.id, Reminder.offset_minutes == 1440)
            .values(status="enqueued", answer="confirmed", answered_at=answered)
        )
    page = BeautifulSoup((await client.get(TAB)).text, "lxml")
    notes = [note.get_text(strip=True) for note in page.select(".appointment-confirmed")]
    assert len(notes) == 1
    assert notes[0].startswith("Подтверждено человеком через напоминание")
    assert answered.astimezone(BAKU).strftime("%H:%M") in notes[0]
