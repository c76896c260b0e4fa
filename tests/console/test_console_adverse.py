"""Adverse events (Annex 3): their own permission to read, recording marks the case urgent and
raises an alert the badge counts, the report is sealed and the audit holds none of it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseworker_console.permissions import ROLE_PERMISSIONS, Permission
from storage.models import AuditEntry, Case, FormResponse, StaffUser
from storage.models_journey import Alert
from tests.console.conftest import form_token

SignIn = Callable[..., Awaitable[StaffUser]]
MakeUser = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

CODE = "IP-2026-000100"
PAGE = f"/cases/{CODE}/adverse"
HOW = "Calmed her down, called the crisis line with her"
REPORT = {
    "event_date": "2026-11-20",
    "what_happened": ["psychological_stress", "other"],
    "other_description": "Threatened by the landlord",
    "how_managed": HOW,
    "recommendations_given": "yes",
    "referred_to": "Women's shelter",
    "follow_up_call": "no",
}


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


async def record(client: httpx.AsyncClient, data: dict[str, Any]) -> httpx.Response:
    form = soup(await client.get(PAGE)).select_one(f"form[action='{PAGE}']")
    assert form is not None
    fields = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    return await client.post(PAGE, data={**fields, **data})


def test_only_case_workers_and_supervisors_may_read_adverse_events() -> None:
    readers = {role for role, granted in ROLE_PERMISSIONS.items() if Permission.ADVERSE_READ in granted}
    assert readers == {"caseworker", "supervisor"}


async def test_recording_an_adverse_event_marks_the_case_urgent_and_alerts_the_badge(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    me = await sign_in_as("aysel", display_name="Aysel")
    case = await seed_person(assigned_to=me.id, stage="implementation")
    assert (await client.get("/queue/badge")).json()["urgent"] == 0
    assert soup(await client.get(PAGE)).select_one(".no-adverse") is not None

    saved = await record(client, REPORT)
    assert saved.status_code == 303
    async with sessionmaker() as session:
        stored = await session.get(Case, case.id)
        alerts = (await session.execute(select(Alert))).scalars().all()
        response = (
            await session.execute(select(FormResponse).where(FormResponse.form_id == "adverse_event"))
        ).scalar_one()
        audit = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "adverse_event.recorded"))
        ).scalar_one()
    assert stored is not None and stored.urgent and stored.version == case.version + 1
    assert [(alert.case_id, alert.kind, alert.acknowledged_at) for alert in alerts] == [
        (case.id, "adverse_event", None)
    ]
    assert HOW.encode() not in response.answers_enc
    assert HOW not in str(audit.details) and "psychological" not in str(audit.details)
    assert (await client.get("/queue/badge")).json()["urgent"] == 1

    page = soup(await client.get(PAGE))
    assert "Urgent" in page.select_one(".case-header h1").get_text()
    answers = [item.get_text() for item in page.select(".adverse-answers dd")]
    assert HOW in answers and "Threatened by the landlord" in answers
    assert "Extreme psychological stress" in " ".join(answers)
    assert "Aysel" in page.select_one(".adverse-report h3").get_text()

    # Acknowledging takes the alert off the badge; the case stays urgent.
    token = form_token(await client.get(PAGE))
    assert (await client.post(f"{PAGE}/acknowledge", data={"csrf_token": token})).status_code == 303
    assert (await client.get("/queue/badge")).json()["urgent"] == 0
    assert soup(await client.get(PAGE)).select_one(".adverse-alerts") is None


async def test_supervisors_see_the_alert_and_other_caseworkers_do_not(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    make_user: MakeUser,
    seed_person: SeedPerson,
) -> None:
    worker = await sign_in_as("aysel")
    await seed_person(assigned_to=worker.id, stage="implementation")
    assert (await record(client, REPORT)).status_code == 303
    await sign_in_as("boss", role="supervisor")
    assert (await client.get("/queue/badge")).json()["urgent"] == 1
    assert (await client.get(PAGE)).status_code == 200
    await sign_in_as("colleague")
    assert (await client.get("/queue/badge")).json()["urgent"] == 0
    assert (await client.get(PAGE)).status_code == 404


async def test_an_incomplete_or_stale_report_records_nothing(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    me = await sign_in_as("aysel")
    await seed_person(assigned_to=me.id, stage="implementation")
    missing = await record(client, {**REPORT, "other_description": ""})
    assert missing.status_code == 400
    assert soup(missing).select_one("[data-question=other_description] .field-error") is not None
    assert (await record(client, {**REPORT, "how_managed": ""})).status_code == 400
    token = form_token(await client.get(PAGE))
    stale = await client.post(PAGE, data={"csrf_token": token, "version": "0", **REPORT})
    assert stale.status_code == 409
    async with sessionmaker() as session:
        assert (await session.execute(select(Alert))).first() is None
        assert (await session.execute(select(Case.urgent))).scalar_one() is False
