"""A caseworker's appointments as an iCalendar feed at a secret URL: it parses, names no one,
shows only their own cases' appointments, and a replaced or revoked token answers 404."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import httpx
from bs4 import BeautifulSoup
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake.demo_data import Story, add_story
from storage.crypto import Crypto
from storage.models import AuditEntry, StaffUser, utcnow
from storage.models_appointments import Office
from storage.models_figures import CalendarFeed
from tests.console.conftest import BASE_URL, form_token

SignIn = Callable[..., Awaitable[StaffUser]]
NAME = "Zarina Nazarova"


async def seed(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, me: StaffUser, other: StaffUser
) -> dict[str, dt.datetime]:
    soon = (utcnow() + dt.timedelta(days=2)).replace(microsecond=0)
    async with sessionmaker() as session:
        office = Office(
            name="North office", address="1 Example Street", latitude=40.4, longitude=49.8, slot_minutes=45
        )
        session.add(office)
        await session.flush()
        stories = [
            Story(
                code="IP-2026-000001",
                name=NAME,
                assigned_to=me.id,
                appointments=[(office.id, "booked", soon)],
            ),
            Story(
                code="IP-2026-000002",
                name=NAME,
                assigned_to=me.id,
                appointments=[(office.id, "cancelled", soon + dt.timedelta(hours=1))],
            ),
            Story(
                code="IP-2026-000003",
                name=NAME,
                assigned_to=other.id,
                appointments=[(office.id, "booked", soon + dt.timedelta(hours=2))],
            ),
        ]
        for index, story in enumerate(stories):
            await add_story(session, crypto, story, telegram_id=900 + index)
        await session.commit()
    return {"soon": soon}


async def new_feed(client: httpx.AsyncClient) -> str:
    page = await client.get("/calendar-feed")
    made = await client.post("/calendar-feed/new", data={"csrf_token": form_token(page)})
    assert made.status_code == 200
    url = BeautifulSoup(made.text, "lxml").select_one("#feed-url")["value"]
    assert url.startswith(BASE_URL + "/feeds/") and url.endswith(".ics")
    return url.removeprefix(BASE_URL)


async def test_the_feed_parses_names_nobody_and_holds_only_ones_own_appointments(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    make_user: Callable[..., Awaitable[StaffUser]],
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("leyla", role="caseworker")
    other = await make_user("bahram")
    when = await seed(sessionmaker, crypto, me, other)
    path = await new_feed(client)
    client.cookies.clear()  # the calendar app has no session

    feed = await client.get(path)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert NAME not in feed.text and "Zarina" not in feed.text
    calendar = Calendar.from_ical(feed.content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    (event,) = events
    assert "IP-2026-000001" in str(event["summary"]) and "First meeting" in str(event["summary"])
    assert str(event["location"]) == "North office, 1 Example Street"
    assert event.decoded("dtstart") == when["soon"]
    assert event.decoded("dtend") - event.decoded("dtstart") == dt.timedelta(minutes=45)
    assert set(event) <= {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "LOCATION"}


async def test_a_replaced_or_revoked_token_is_404(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("leyla", role="caseworker")
    first = await new_feed(client)
    second = await new_feed(client)
    assert (await client.get(first)).status_code == 404
    assert (await client.get(second)).status_code == 200
    page = await client.get("/calendar-feed")
    assert "feed-url" not in page.text  # the address is shown once only
    revoked = await client.post("/calendar-feed/revoke", data={"csrf_token": form_token(page)})
    assert revoked.status_code == 303
    assert (await client.get(second)).status_code == 404
    assert (await client.get("/feeds/" + "x" * 43 + ".ics")).status_code == 404
    async with sessionmaker() as session:
        assert (await session.execute(select(CalendarFeed))).first() is None
        actions = (await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars().all()
    assert actions == ["calendar_feed.created", "calendar_feed.created", "calendar_feed.revoked"]


async def test_only_the_tokens_hash_is_stored(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("leyla", role="caseworker")
    path = await new_feed(client)
    token = path.removeprefix("/feeds/").removesuffix(".ics")
    async with sessionmaker() as session:
        stored = (await session.execute(select(CalendarFeed.token_hash))).scalar_one()
    assert token not in stored and len(stored) == 64


async def test_a_disabled_account_s_feed_stops(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    me = await sign_in_as("leyla", role="caseworker")
    path = await new_feed(client)
    async with sessionmaker() as session:
        user = await session.get(StaffUser, me.id)
        assert user is not None
        user.active = False
        await session.commit()
    assert (await client.get(path)).status_code == 404
