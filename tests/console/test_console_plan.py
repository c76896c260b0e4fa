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
from storage.models_figures import Partner, Referral
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
    # How the beneficiary agreed: the form's select starts on "in person".
    agreement = {"agreed_via": "in_person"} if "agreed" in data else {}
    return await client.post(path, data={**fields, **agreement, **data})


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
        f"{PLAN}/needs",
        data={"csrf_token": token, "version": "1", "text": "x", "agreed": "yes", "agreed_via": "bot"},
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
        f"{PLAN}/needs",
        data={
            "csrf_token": token,
            "version": "0",
            "text": SECRET,
            "agreed": "yes",
            "agreed_via": "phone",
        },
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
        f"{PLAN}/needs",
        data={
            "csrf_token": token,
            "version": version,
            "text": "x",
            "agreed": "yes",
            "agreed_via": "in_person",
        },
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


async def plan_audit(sessionmaker: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    async with sessionmaker() as session:
        statement = select(AuditEntry).where(AuditEntry.action.like("plan.%")).order_by(AuditEntry.id)
        return list((await session.execute(statement)).scalars().all())


async def build_plan(client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Two needs; the first with a goal and an activity."""
    assert (await add_need(client, SECRET)).status_code == 303
    assert (await add_need(client, "Language course")).status_code == 303
    first = next(need for need in await rows(sessionmaker, PlanNeed) if need.rank == 1)
    goal = {"need_id": str(first.id), "term": "short", "text": "Rent a flat", "agreed": "yes"}
    assert (await post(client, f"{PLAN}/goals", goal)).status_code == 303
    [stored_goal] = await rows(sessionmaker, PlanGoal)
    activity = {
        "goal_id": str(stored_goal.id),
        "text": "Visit the housing office together",
        "service_area": "orientation",
        "status": "planned",
        "agreed": "yes",
    }
    assert (await post(client, f"{PLAN}/activities", activity)).status_code == 303


async def test_needs_goals_and_activities_are_changed_with_how_the_beneficiary_agreed(
    client: httpx.AsyncClient,
    planning: tuple[StaffUser, Case],
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me, case = planning
    await build_plan(client, sessionmaker)
    need = next(need for need in await rows(sessionmaker, PlanNeed) if need.rank == 1)
    [goal] = await rows(sessionmaker, PlanGoal)
    [activity] = await rows(sessionmaker, PlanActivity)
    page = soup(await client.get(PLAN))
    # Each entry's form starts from what is stored.
    assert page.select_one(f"#q-edit-{need.id}-text").get_text() == SECRET
    assert page.select_one(f"#q-edit-{activity.id}-service_area-orientation").has_attr("checked")

    changed = {
        "need_id": str(need.id),
        "text": "A flat with two rooms",
        "agreed": "yes",
        "agreed_via": "phone",
    }
    assert (await post(client, f"{PLAN}/needs/edit", changed)).status_code == 303
    changed = {
        "goal_id": str(goal.id),
        "term": "long",
        "text": "Own lease",
        "agreed": "yes",
        "agreed_via": "bot",
    }
    assert (await post(client, f"{PLAN}/goals/edit", changed)).status_code == 303
    changed = {
        "activity_id": str(activity.id),
        "text": "Call the housing office",
        "service_area": "employment_education",
        "due_on": "2027-01-10",
        "who": "An interpreter",
        "status": "in_progress",
        "agreed": "yes",
        "agreed_via": "in_person",
    }
    assert (await post(client, f"{PLAN}/activities/edit", changed)).status_code == 303

    page = soup(await client.get(PLAN))
    assert page.select_one(".plan-need-text").get_text() == "A flat with two rooms"
    # How each change was agreed is kept on the entry and shown with it.
    assert (
        page.select_one(".plan-need .plan-agreement")
        .get_text()
        .startswith("Agreed with the beneficiary (By phone); recorded by Aysel")
    )
    assert "(In a message through the bot)" in page.select_one(".plan-goal .plan-agreement").get_text()
    [stored_need] = [row for row in await rows(sessionmaker, PlanNeed) if row.id == need.id]
    [stored_goal] = await rows(sessionmaker, PlanGoal)
    assert (stored_need.agreed_via, stored_goal.agreed_via) == ("phone", "bot")
    assert page.select_one(".plan-goal-long .plan-goal-text").get_text() == "Own lease"
    row = page.select_one("tr.plan-activity")
    assert row.select_one(".plan-activity-text span").get_text() == "Call the housing office"
    assert row.select_one(".plan-activity-due time")["datetime"] == "2027-01-10"
    assert row.select_one(".plan-activity-who").get_text() == "An interpreter"
    assert "plan-activity-in_progress" in row["class"]
    [stored_activity] = await rows(sessionmaker, PlanActivity)
    assert b"housing office" not in stored_activity.text_enc  # still sealed
    assert stored_activity.changed_by == me.id

    entries = await plan_audit(sessionmaker)
    edits = [entry for entry in entries if entry.action.startswith("plan.edit-")]
    assert [(entry.action, entry.details["agreed_via"]) for entry in edits] == [
        ("plan.edit-need", "phone"),
        ("plan.edit-goal", "bot"),
        ("plan.edit-activity", "in_person"),
    ]
    assert edits[1].details["from"] == "short" and edits[1].details["to"] == "long"
    assert edits[2].details["from"] == "planned" and edits[2].details["to"] == "in_progress"
    text_in_audit = " ".join(str(entry.details) for entry in entries)
    for secret in (SECRET, "two rooms", "Own lease", "housing office", "interpreter"):
        assert secret not in text_in_audit
    async with sessionmaker() as session:
        stored_case = await session.get(Case, case.id)
    assert stored_case is not None and stored_case.version == case.version + len(entries)


@pytest.mark.parametrize(
    "agreement",
    [
        {"agreed_via": "phone"},
        {"agreed": "yes", "agreed_via": ""},
        {"agreed": "yes", "agreed_via": "telepathy"},
    ],
)
async def test_a_change_or_removal_without_a_recorded_agreement_is_refused(
    client: httpx.AsyncClient,
    planning: tuple[StaffUser, Case],
    sessionmaker: async_sessionmaker[AsyncSession],
    agreement: dict[str, str],
) -> None:
    assert (await add_need(client, SECRET)).status_code == 303
    [need] = await rows(sessionmaker, PlanNeed)
    form = soup(await client.get(PLAN)).select_one(f"form[action='{PLAN}/needs/edit']")
    hidden = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    refused = await client.post(f"{PLAN}/needs/edit", data={**hidden, "text": "Changed", **agreement})
    assert refused.status_code == 400
    page = soup(refused)
    # The entry's form comes back open with what was typed and the problem marked.
    details = page.select_one(f"details.plan-edit-need:has(input[value='{need.id}'])")
    assert details is not None and details.has_attr("open")
    assert details.select_one(f"#q-edit-{need.id}-text").get_text() == "Changed"
    assert details.select_one(".field-error") is not None
    removed = await client.post(f"{PLAN}/needs/delete", data={**hidden, "need_id": str(need.id), **agreement})
    assert removed.status_code == 400
    [still] = await rows(sessionmaker, PlanNeed)
    assert still.text_enc == need.text_enc and still.changed_at == need.changed_at


async def test_removing_a_need_removes_its_goals_and_activities_and_the_audit_keeps_the_record(
    client: httpx.AsyncClient,
    planning: tuple[StaffUser, Case],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await build_plan(client, sessionmaker)
    need = next(need for need in await rows(sessionmaker, PlanNeed) if need.rank == 1)
    [goal] = await rows(sessionmaker, PlanGoal)
    [activity] = await rows(sessionmaker, PlanActivity)
    removed = await post(
        client, f"{PLAN}/needs/delete", {"need_id": str(need.id), "agreed": "yes", "agreed_via": "phone"}
    )
    assert removed.status_code == 303
    [left] = await rows(sessionmaker, PlanNeed)
    assert left.rank == 1  # the gap in the ranks is closed
    assert await rows(sessionmaker, PlanGoal) == [] and await rows(sessionmaker, PlanActivity) == []
    page = soup(await client.get(PLAN))
    assert [item.get_text() for item in page.select(".plan-need-text")] == ["Language course"]
    entry = (await plan_audit(sessionmaker))[-1]
    assert entry.action == "plan.delete-need"
    assert entry.details == {
        "agreed": True,
        "agreed_via": "phone",
        "need": str(need.id),
        "rank": 1,
        "goals": [str(goal.id)],
        "activities": [str(activity.id)],
    }
    assert entry.actor


async def test_removing_a_goal_or_an_activity_leaves_the_rest(
    client: httpx.AsyncClient,
    planning: tuple[StaffUser, Case],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await build_plan(client, sessionmaker)
    [goal] = await rows(sessionmaker, PlanGoal)
    [activity] = await rows(sessionmaker, PlanActivity)
    agreed = {"agreed": "yes", "agreed_via": "in_person"}
    assert (
        await post(client, f"{PLAN}/activities/delete", {"activity_id": str(activity.id), **agreed})
    ).status_code == 303
    assert await rows(sessionmaker, PlanActivity) == []
    assert len(await rows(sessionmaker, PlanGoal)) == 1
    assert (
        await post(client, f"{PLAN}/goals/delete", {"goal_id": str(goal.id), **agreed})
    ).status_code == 303
    assert await rows(sessionmaker, PlanGoal) == []
    assert len(await rows(sessionmaker, PlanNeed)) == 2
    actions = [
        (entry.action, entry.details.get("activity") or entry.details.get("goal"))
        for entry in await plan_audit(sessionmaker)
    ]
    assert actions[-2:] == [("plan.delete-activity", str(activity.id)), ("plan.delete-goal", str(goal.id))]


async def test_changing_or_removing_another_cases_entry_or_from_a_stale_page_does_nothing(
    client: httpx.AsyncClient,
    planning: tuple[StaffUser, Case],
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    me, _ = planning
    await build_plan(client, sessionmaker)
    [activity] = await rows(sessionmaker, PlanActivity)
    # Another of my cases, with its own plan: its entry cannot be reached through this case's forms.
    other = await seed_person(code="IP-2026-000200", assigned_to=me.id, stage="intervention_planning")
    await with_consent(sessionmaker, other)
    agreed = {"agreed": "yes", "agreed_via": "in_person"}
    foreign_page = f"/cases/{other.code}/plan"
    form = soup(await client.get(foreign_page)).select_one(f"form[action='{foreign_page}/needs']")
    hidden = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    forged = await client.post(
        f"{foreign_page}/activities/delete", data={**hidden, "activity_id": str(activity.id), **agreed}
    )
    assert forged.status_code == 400
    assert len(await rows(sessionmaker, PlanActivity)) == 1
    # Double tap: the second removal comes from a page that is now stale.
    form = soup(await client.get(PLAN)).select_one(f"form[action='{PLAN}/activities/delete']")
    hidden = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    first = await client.post(f"{PLAN}/activities/delete", data={**hidden, **agreed})
    second = await client.post(f"{PLAN}/activities/delete", data={**hidden, **agreed})
    assert (first.status_code, second.status_code) == (303, 409)
    assert [entry.action for entry in await plan_audit(sessionmaker)].count("plan.delete-activity") == 1


async def test_a_part_of_the_plan_with_a_referral_is_not_removed(
    client: httpx.AsyncClient,
    planning: tuple[StaffUser, Case],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    _, case = planning
    await build_plan(client, sessionmaker)
    need = next(need for need in await rows(sessionmaker, PlanNeed) if need.rank == 1)
    [goal] = await rows(sessionmaker, PlanGoal)
    [activity] = await rows(sessionmaker, PlanActivity)
    async with sessionmaker() as session:
        partner = Partner(name="Baku Language Centre", service_area="language")
        session.add(partner)
        await session.flush()
        session.add(Referral(case_id=case.id, activity_id=activity.id, partner_id=partner.id))
        await session.commit()
    agreed = {"agreed": "yes", "agreed_via": "in_person"}
    for path, field, entry in (
        ("activities", "activity_id", activity.id),
        ("goals", "goal_id", goal.id),
        ("needs", "need_id", need.id),
    ):
        refused = await post(client, f"{PLAN}/{path}/delete", {field: str(entry), **agreed})
        assert refused.status_code == 409, path
        assert "mark the activity cancelled" in soup(refused).select_one("[role=alert]").get_text()
    assert len(await rows(sessionmaker, PlanActivity)) == 1
    assert len(await rows(sessionmaker, Referral)) == 1
    assert not [entry for entry in await plan_audit(sessionmaker) if entry.action.startswith("plan.delete")]
    # The other need, without a referral, still goes.
    other = next(need for need in await rows(sessionmaker, PlanNeed) if need.rank == 2)
    removed = await post(client, f"{PLAN}/needs/delete", {"need_id": str(other.id), **agreed})
    assert removed.status_code == 303
