"""The caseworker's daily digest on the first page of the case list: the open plan activities due
today or overdue in their own open cases, linked to each plan, without the activities' sealed text."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from caseworker_console.app import create_app
from storage import person_keys
from storage.crypto import Crypto
from storage.models import Case, StaffUser
from storage.models_plan import PlanActivity, PlanGoal, PlanNeed
from storage.sealing import seal

SignIn = Callable[..., Awaitable[StaffUser]]
SeedCases = Callable[..., Awaitable[list[Case]]]

# The console's clock, set: half past midnight in Baku (the console's office time zone) while it is
# still the day before in UTC, so the digest's today is the office's, whatever hour the test runs at.
NOW = dt.datetime(2026, 3, 11, 0, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Baku"))
TODAY = NOW.date()
DAY = dt.timedelta(days=1)
SECRET = "Go with Leyla to the clinic"


@pytest.fixture
def app(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> Starlette:
    return create_app(sessionmaker=sessionmaker, crypto=crypto, clock=lambda: NOW.astimezone(dt.UTC))


def test_the_set_moment_is_another_day_in_utc() -> None:
    assert NOW.astimezone(dt.UTC).date() == TODAY - DAY


async def activities(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, case: Case, *items: dict[str, Any]
) -> None:
    async with sessionmaker() as session, session.begin():
        await person_keys.load_for_case(session, crypto, case.id)
        need = PlanNeed(case_id=case.id, rank=1)
        seal(crypto, need, "text_enc", "A need")
        goal = PlanGoal(case_id=case.id, need_id=need.id, term="short")
        seal(crypto, goal, "text_enc", "A goal")
        for row in (need, goal):  # no relationships: flushed in order
            session.add(row)
            await session.flush()
        for item in items:
            fields = {"service_area": "health_social", "status": "planned", **item}
            activity = PlanActivity(case_id=case.id, goal_id=goal.id, **fields)
            seal(crypto, activity, "text_enc", SECRET)
            session.add(activity)


def digest(response: httpx.Response) -> list[tuple[str, str, str, bool, str]]:
    page = BeautifulSoup(response.text, "lxml")
    return [
        (
            row["data-case"],
            row.select_one(".due-area").get_text(strip=True),
            row.select_one("time")["datetime"],
            "due-overdue" in row["class"],
            row.select_one("a")["href"],
        )
        for row in page.select(".digest tr.due")
    ]


async def test_the_digest_lists_what_is_due_today_or_overdue_in_the_readers_own_open_cases(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    make_user: Callable[..., Awaitable[StaffUser]],
    seed_cases: SeedCases,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("amina")
    other = await make_user("rustam")
    mine, theirs, closed = await seed_cases(
        {"code": "IP-2026-000001", "stage": "intervention_planning", "assigned_to": me.id},
        {"code": "IP-2026-000002", "stage": "intervention_planning", "assigned_to": other.id},
        {"code": "IP-2026-000003", "stage": "closed", "assigned_to": me.id},
    )
    await activities(
        sessionmaker,
        crypto,
        mine,
        {"due_on": TODAY},
        {"due_on": TODAY - 3 * DAY, "status": "in_progress"},
        {"due_on": TODAY + DAY},  # not yet
        {"due_on": TODAY - DAY, "status": "done"},
        {"due_on": TODAY - DAY, "status": "cancelled"},
        {"due_on": None},
    )
    await activities(sessionmaker, crypto, theirs, {"due_on": TODAY})
    await activities(sessionmaker, crypto, closed, {"due_on": TODAY})

    response = await client.get("/cases")
    assert response.status_code == 200
    plan = "/cases/IP-2026-000001/plan"
    assert digest(response) == [
        ("IP-2026-000001", "Health and social services", (TODAY - 3 * DAY).isoformat(), True, plan),
        ("IP-2026-000001", "Health and social services", TODAY.isoformat(), False, plan),
    ]
    assert SECRET not in response.text
    assert (await client.get(plan)).status_code == 200
    # Only the first page of the list carries it.
    assert BeautifulSoup((await client.get("/cases?page=2")).text, "lxml").select(".digest") == []


async def test_the_digest_speaks_the_readers_language_and_says_when_nothing_is_due(
    client: httpx.AsyncClient, sign_in_as: SignIn
) -> None:
    await sign_in_as("leyla", language="ru")
    page = BeautifulSoup((await client.get("/cases", headers={"Accept-Language": "ru"})).text, "lxml")
    heading = page.select_one("#digest-heading")
    assert heading is not None
    assert heading.get_text(strip=True) == "Сегодня: мероприятия планов ваших дел, срок которых наступил"
    empty = page.select_one(".digest-empty")
    assert empty is not None
    assert empty.get_text(strip=True) == "В планах ваших дел нет ничего на сегодня и ничего просроченного."
