"""The integration plan tab: opens with the cycle, every change needs the beneficiary's agreement,
free text is sealed, changes are audited without their text, and stale pages save nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from programme.plan import reorder
from storage.crypto import Crypto
from storage.journey import record_consent
from storage.models import AuditEntry, Case, StaffUser
from storage.models_plan import PlanActivity, PlanGoal, PlanNeed, PlanReview
from tests.console.conftest import form_token

SignIn = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

CODE = "IP-2026-000100"
PLAN = f"/cases/{CODE}/plan"
SECRET = "Needs a flat near the clinic for Leyla"


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


async def post(client: httpx.AsyncClient, path: str, data: dict[str, Any]) -> httpx.Response:
    """Post one of the tab's forms as a browser would: its hidden fields from a fresh page, then `data`."""
    form = soup(await client.get(PLAN)).select_one(f"form[action='{path}']")
    assert form is not None, path
    fields = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    return await client.post(path, data={**fields, **data})


async def with_consent(
    sessionmaker: async_sessionmaker[AsyncSession], case: Case, *, casework: bool = True
) -> None:
    async with sessionmaker() as session:
        stored = await session.get(Case, case.id)
        assert stored is not None
        await record_consent(
            session,
            case=stored,
            casework=casework,
            publicity="none",
            third_party=False,
            language="az",
            text_version="2026-01",
            text_hash="0" * 64,
        )
        await session.commit()


@pytest.fixture
async def planning(
    sign_in_as: SignIn, seed_person: SeedPerson, sessionmaker: async_sessionmaker[AsyncSession]
) -> tuple[StaffUser, Case]:
    me = await sign_in_as("aysel", display_name="Aysel")
    case = await seed_person(assigned_to=me.id, stage="intervention_planning")
    await with_consent(sessionmaker, case)
    return me, case


async def rows(sessionmaker: async_sessionmaker[AsyncSession], model: Any) -> list[Any]:
    async with sessionmaker() as session:
        return list((await session.execute(select(model))).scalars().all())


async def add_need(client: httpx.AsyncClient, text: str) -> httpx.Response:
    return await post(client, f"{PLAN}/needs", {"text": text, "agreed": "yes"})


def test_reordering_puts_a_moved_need_before_the_one_it_displaced() -> None:
    assert reorder(["a", "b", "c"], {"a": "1", "b": "2", "c": "1"}) == ["c", "a", "b"]
    assert reorder(["a", "b", "c"], {"a": "3", "b": "x", "c": None}) == ["b", "c", "a"]
    assert reorder(["a", "b", "c"], {"a": "2"}) == ["b", "a", "c"]
    assert reorder(["a", "b", "c"], {"c": "-4", "a": "99"}) == ["c", "b", "a"]
    assert reorder(["a", "b"], {}) == ["a", "b"]


async def test_the_plan_stays_locked_before_intervention_planning(
    client: httpx.AsyncClient, sign_in_as: SignIn, seed_person: SeedPerson
) -> None:
    me = await sign_in_as("aysel")
    await seed_person(assigned_to=me.id, stage="initial_assessment")
    overview = soup(await client.get(f"/cases/{CODE}"))
    assert overview.select_one(f"a[href='{PLAN}']") is None  # no tab yet
    locked = await client.get(PLAN)
    assert locked.status_code == 409
    assert "intervention planning" in soup(locked).select_one(".plan-note").get_text()
    assert soup(locked).select("form[action^='/cases/IP-2026-000100/plan']") == []
    token = form_token(locked)
    refused = await client.post(
        f"{PLAN}/needs", data={"csrf_token": token, "version": "1", "text": "x", "agreed": "yes"}
    )
    assert refused.status_code == 409


async def test_a_need_goal_activity_and_review_are_recorded_sealed_with_the_agreement(
    client: httpx.AsyncClient,
    planning: tuple[StaffUser, Case],
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me, case = planning
    overview = soup(await client.get(f"/cases/{CODE}"))
    assert overview.select_one(f"a[href='{PLAN}']") is not None
    assert (await add_need(client, SECRET)).status_code == 303
    [need] = await rows(sessionmaker, PlanNeed)
    assert SECRET.encode() not in need.text_enc
    assert (need.agreed, need.changed_by, need.rank) == (True, me.id, 1)

    goal = await post(
        client,
        f"{PLAN}/goals",
        {"need_id": str(need.id), "term": "short", "text": "Rent a flat", "agreed": "yes"},
    )
    assert goal.status_code == 303
    [stored_goal] = await rows(sessionmaker, PlanGoal)
    activity = await post(
        client,
        f"{PLAN}/activities",
        {
            "goal_id": str(stored_goal.id),
            "text": "Visit the housing office together",
            "service_area": "orientation",
            "due_on": "2026-12-01",
            "who": "Aysel and an interpreter",
            "status": "planned",
            "agreed": "yes",
        },
    )
    assert activity.status_code == 303
    [stored_activity] = await rows(sessionmaker, PlanActivity)
    assert stored_activity.due_on is not None and stored_activity.due_on.isoformat() == "2026-12-01"
    assert b"interpreter" not in (stored_activity.who_enc or b"")
    status = await post(
        client,
        f"{PLAN}/activities/status",
        {"activity_id": str(stored_activity.id), "status": "in_progress", "agreed": "yes"},
    )
    assert status.status_code == 303
    review = await post(
        client,
        f"{PLAN}/reviews",
        {"reviewed_on": "2026-12-15", "note": "Flat found, moving soon", "agreed": "yes"},
    )
    assert review.status_code == 303
    [stored_review] = await rows(sessionmaker, PlanReview)
    assert stored_review.agreed and stored_review.changed_by == me.id

    page = soup(await client.get(PLAN))
    assert page.select_one(".plan-need-text").get_text() == SECRET
    assert page.select_one(".plan-goal-short .plan-goal-text").get_text() == "Rent a flat"
    row = page.select_one("tr.plan-activity")
    assert "plan-activity-in_progress" in row["class"]
    assert row.select_one(".plan-activity-area").get_text() == "Planning services and arranging meetings"
    assert row.select_one(".plan-activity-due time")["datetime"] == "2026-12-01"
    assert row.select_one(".plan-activity-who").get_text() == "Aysel and an interpreter"
    assert "Aysel" in page.select_one(".plan-agreement").get_text()
    assert page.select_one(".plan-review-note").get_text() == "Flat found, moving soon"
    # Printing keeps the plan and a place to sign, and drops the forms.
    assert page.select_one(".print-only.plan-signatures") is not None

    async with sessionmaker() as session:
        entries = (
            (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.action.like("plan.%")).order_by(AuditEntry.id)
                )
            )
            .scalars()
            .all()
        )
        stored_case = await session.get(Case, case.id)
    assert [entry.action for entry in entries] == [
        "plan.need",
        "plan.goal",
        "plan.activity",
        "plan.status",
        "plan.review",
    ]
    assert all(entry.details["agreed"] is True and entry.actor for entry in entries)
    assert entries[3].details["from"] == "planned" and entries[3].details["to"] == "in_progress"
    text_in_audit = " ".join(str(entry.details) for entry in entries)
    for secret in (SECRET, "Rent a flat", "housing office", "interpreter", "moving soon"):
        assert secret not in text_in_audit
    assert stored_case is not None and stored_case.version == case.version + 5


async def test_a_change_without_the_beneficiarys_agreement_is_refused(
    client: httpx.AsyncClient,
    planning: tuple[StaffUser, Case],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    refused = await post(client, f"{PLAN}/needs", {"text": SECRET})
    assert refused.status_code == 400
    page = soup(refused)
    assert page.select_one(".plan-need-form [data-question=agreed] .field-error") is not None
    # What was typed comes back to be corrected.
    assert page.select_one("#q-need-text").get_text() == SECRET
    assert await rows(sessionmaker, PlanNeed) == []


async def test_needs_are_put_in_order_of_urgency(
    client: httpx.AsyncClient,
    planning: tuple[StaffUser, Case],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    for text in ("Language course", "Health registration", "Housing"):
        assert (await add_need(client, text)).status_code == 303
    needs = {need.rank: need for need in await rows(sessionmaker, PlanNeed)}
    housing = needs[3]
    ordered = await post(client, f"{PLAN}/needs/order", {f"rank-{housing.id}": "1", "agreed": "yes"})
    assert ordered.status_code == 303
    page = soup(await client.get(PLAN))
    assert [item.get_text() for item in page.select(".plan-need-text")] == [
        "Housing",
        "Language course",
        "Health registration",
    ]
    unagreed = await post(client, f"{PLAN}/needs/order", {f"rank-{housing.id}": "3"})
    assert unagreed.status_code == 400


async def test_a_goal_for_another_cases_need_or_a_bad_date_is_refused(
    client: httpx.AsyncClient,
    planning: tuple[StaffUser, Case],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    assert (await add_need(client, "Housing")).status_code == 303
    foreign = await post(
        client,
        f"{PLAN}/goals",
        {"need_id": "00000000-0000-0000-0000-000000000000", "term": "long", "text": "x", "agreed": "yes"},
    )
    assert foreign.status_code == 400
    assert await rows(sessionmaker, PlanGoal) == []
    review = await post(
        client, f"{PLAN}/reviews", {"reviewed_on": "15/12/2026", "note": "ok", "agreed": "yes"}
    )
    assert review.status_code == 400
    assert soup(review).select_one("#err-review-date") is not None
    assert await rows(sessionmaker, PlanReview) == []


async def test_a_change_from_a_stale_page_saves_nothing(
    client: httpx.AsyncClient,
    planning: tuple[StaffUser, Case],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    token = form_token(await client.get(PLAN))
    stale = await client.post(
        f"{PLAN}/needs", data={"csrf_token": token, "version": "0", "text": SECRET, "agreed": "yes"}
    )
    assert stale.status_code == 409
    assert "changed by someone else" in soup(stale).select_one("[role=alert]").get_text()
    assert await rows(sessionmaker, PlanNeed) == []


async def test_without_consent_for_case_work_the_plan_is_read_only(
    client: httpx.AsyncClient,
    planning: tuple[StaffUser, Case],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    _, case = planning
    assert (await add_need(client, "Housing")).status_code == 303
    await with_consent(sessionmaker, case, casework=False)
    page = await client.get(PLAN)
    assert page.status_code == 200
    assert soup(page).select_one(".plan-need-text").get_text() == "Housing"
    assert soup(page).select("form.plan-need-form") == []
    token = form_token(page)
    version = str(case.version + 1)
    refused = await client.post(
        f"{PLAN}/needs", data={"csrf_token": token, "version": version, "text": "x", "agreed": "yes"}
    )
    assert refused.status_code == 409
    assert len(await rows(sessionmaker, PlanNeed)) == 1


async def test_viewing_the_plan_is_audited(
    client: httpx.AsyncClient,
    planning: tuple[StaffUser, Case],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    _, case = planning
    assert (await client.get(PLAN)).status_code == 200
    async with sessionmaker() as session:
        # Reading changes nothing: a form opened elsewhere is still current.
        assert (await session.get(Case, case.id)).version == case.version  # type: ignore[union-attr]
        parts = (
            (await session.execute(select(AuditEntry.details).where(AuditEntry.action == "case.viewed")))
            .scalars()
            .all()
        )
    assert {"part": "plan"} in parts
