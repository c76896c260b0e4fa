"""A campaign that sensitive filters narrow to few people waits for a supervisor's approval: the
officer cannot send it (not even by a forged form), a supervisor's approval (audited) lets them,
changing who gets it or what they get voids the approval, and a wide one needs none."""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from outreach import campaigns as work
from storage.crypto import Crypto
from storage.models import AuditEntry, Beneficiary, StaffUser
from storage.models_outreach import Campaign
from tests.console.conftest import form_token
from tests.console.test_console_campaigns import FORM
from tests.outreach.conftest import campaign_worker

SignIn = Callable[..., Awaitable[StaffUser]]
# "No case yet" is a case stage: a sensitive filter (what the programme knows of the person).
NO_CASE_YET: dict[str, Any] = {"stages": ["none"]}


async def people_without_a_case(
    sessionmaker: async_sessionmaker[AsyncSession], count: int
) -> list[uuid.UUID]:
    async with sessionmaker() as session, session.begin():
        made = [
            Beneficiary(telegram_hash=secrets.token_hex(32), telegram_id_enc=b"x", language="ru")
            for _ in range(count)
        ]
        session.add_all(made)
    return [person.id for person in made]


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


async def draft(client: httpx.AsyncClient, **changes: Any) -> str:
    token = form_token(await client.get("/campaigns/new"))
    created = await client.post("/campaigns/new", data={**FORM, "csrf_token": token, **changes})
    assert created.status_code == 303, created.text[:300]
    return str(created.headers["location"])


async def post(client: httpx.AsyncClient, location: str, what: str, **data: Any) -> httpx.Response:
    page = await client.get(location)
    version = soup(page).select_one("input[name=version]")
    fields = {"csrf_token": form_token(page), "version": version["value"] if version else "", **data}
    return await client.post(f"{location}/{what}", data=fields)


async def stored(sessionmaker: async_sessionmaker[AsyncSession], location: str) -> Campaign:
    async with sessionmaker() as session:
        campaign = await session.get(Campaign, uuid.UUID(location.rsplit("/", 1)[1]))
        assert campaign is not None
        return campaign


async def audit(sessionmaker: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
    async with sessionmaker() as session:
        rows = await session.execute(select(AuditEntry.actor, AuditEntry.action).order_by(AuditEntry.id))
        return [(actor, action) for actor, action in rows.all() if action != "campaign.changed"]


async def test_an_officer_cannot_send_a_narrow_sensitive_campaign_until_a_supervisor_approves_it(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await people_without_a_case(sessionmaker, 9)
    officer = await sign_in_as("olga", role="outreach")
    location = await draft(client, **NO_CASE_YET)
    page = soup(await client.get(location))
    note = page.select_one(".campaign-approval").get_text(" ", strip=True)
    assert "A supervisor must approve" in note and "Stage of their case" in note and "fewer than 10" in note
    assert page.select_one("form.schedule-form") is None  # no "Send it now"
    assert page.select_one("form.approve-form") is None  # not theirs to approve

    # A forged form is refused, audited, and nothing goes in the outbox.
    refused = await post(client, location, "schedule")
    assert refused.status_code == 403
    assert "A supervisor must approve" in soup(refused).select_one(".campaign-approval").get_text()
    assert (await post(client, location, "approve")).status_code == 403
    assert (await stored(sessionmaker, location)).status == "draft"
    assert await campaign_worker(sessionmaker, crypto).run_once() == 0

    supervisor = await sign_in_as("sabina", role="supervisor", display_name="Sabina Supervisor")
    page = soup(await client.get(location))
    assert page.select_one("form.schedule-form") is None
    approved = await post(client, location, "approve")
    assert approved.status_code == 303
    campaign = await stored(sessionmaker, location)
    assert (campaign.approved_by, campaign.approved_at is not None) == (supervisor.id, True)
    assert (await post(client, location, "approve")).status_code == 409  # a second tap

    await sign_in_as("olga2", role="outreach")
    page = soup(await client.get(location))
    assert (
        page.select_one(".campaign-approval")
        .get_text(" ", strip=True)
        .startswith("Approved by Sabina Supervisor on")
    )
    assert (await post(client, location, "schedule")).status_code == 303
    assert await campaign_worker(sessionmaker, crypto).run_once() == 9
    assert await audit(sessionmaker) == [
        (f"staff:{officer.id}", "campaign.created"),
        (f"staff:{officer.id}", "campaign.approval_needed"),
        (f"staff:{supervisor.id}", "campaign.approved"),
        (f"staff:{officer.id + 2}", "campaign.scheduled"),
    ]


async def test_changing_who_gets_it_or_what_they_get_voids_the_approval_and_the_start_does_not(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await people_without_a_case(sessionmaker, 3)
    await sign_in_as("sabina", role="supervisor")
    location = await draft(client, **NO_CASE_YET)
    assert (await post(client, location, "approve")).status_code == 303

    # Another start and quiet hours: still approved.
    kept = await post(
        client, location, "edit", **FORM, **NO_CASE_YET, start_date="2031-05-01", start_time="10:00"
    )
    assert kept.status_code == 303
    assert work.approved(await stored(sessionmaker, location))
    # Another segment: void.
    segment = await post(
        client, location, "edit", **FORM, stages=["none", "screening"], start_date="2031-05-01"
    )
    assert segment.status_code == 303
    assert not work.approved(await stored(sessionmaker, location))
    assert (
        "A supervisor must approve"
        in soup(await client.get(location)).select_one(".campaign-approval").get_text()
    )
    # Approved again, then another text: void again.
    assert (await post(client, location, "approve")).status_code == 303
    changed = {**FORM, "text_en": "Another text."}
    text = await post(client, location, "edit", **changed, stages=["none", "screening"])
    assert text.status_code == 303
    assert not work.approved(await stored(sessionmaker, location))
    actions = [action for _, action in await audit(sessionmaker)]
    assert actions == [
        "campaign.created",
        "campaign.approved",
        "campaign.approval_voided",
        "campaign.approved",
        "campaign.approval_voided",
    ]


async def test_a_wide_sensitive_campaign_and_a_narrow_plain_one_need_no_approval(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await people_without_a_case(sessionmaker, 10)
    await sign_in_as("olga", role="outreach")
    wide = await draft(client, **NO_CASE_YET)
    page = soup(await client.get(wide))
    assert page.select_one(".campaign-approval") is None
    assert (await post(client, wide, "schedule")).status_code == 303
    # A segment narrowed only by what the figures page filters by (language here): no approval.
    async with sessionmaker() as session, session.begin():
        session.add(Beneficiary(telegram_hash=secrets.token_hex(32), telegram_id_enc=b"x", language="tr"))
    plain = await draft(client, languages=["tr"])
    assert (await post(client, plain, "schedule")).status_code == 303
    # The segment is taken when it goes: the wide one reaches the Turkish reader too.
    assert await campaign_worker(sessionmaker, crypto).run_once() == 11 + 1


async def test_a_campaign_that_shrank_under_the_threshold_before_it_went_returns_to_draft_for_approval(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    ids = await people_without_a_case(sessionmaker, 10)
    await sign_in_as("olga", role="outreach")
    location = await draft(client, **NO_CASE_YET)
    assert (await post(client, location, "schedule")).status_code == 303
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Beneficiary).where(Beneficiary.id == ids[0]).values(opted_out=True))
    assert await campaign_worker(sessionmaker, crypto).run_once() == 0
    campaign = await stored(sessionmaker, location)
    assert (campaign.status, campaign.planned, campaign.segment_at) == ("draft", None, None)
    assert (await audit(sessionmaker))[-1] == ("worker", "campaign.held_for_approval")
    assert soup(await client.get(location)).select_one("form.schedule-form") is None


async def test_the_threshold_is_the_setting(
    app: Starlette,
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    app.state.config = dataclasses.replace(app.state.config, campaign_approval_below=3)
    await people_without_a_case(sessionmaker, 3)
    await sign_in_as("olga", role="outreach")
    assert (await post(client, await draft(client, **NO_CASE_YET), "schedule")).status_code == 303
    app.state.config = dataclasses.replace(app.state.config, campaign_approval_below=4)
    assert (await post(client, await draft(client, **NO_CASE_YET), "schedule")).status_code == 403


async def test_another_button_voids_the_approval_and_other_quiet_hours_or_spread_do_not(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await people_without_a_case(sessionmaker, 3)
    await sign_in_as("sabina", role="supervisor")
    location = await draft(client, **NO_CASE_YET)
    assert (await post(client, location, "approve")).status_code == 303

    # When it may go: still approved.
    timing = {**FORM, "quiet_from": "22:00", "quiet_until": "08:00", "spread_hours": "3"}
    assert (await post(client, location, "edit", **timing, **NO_CASE_YET)).status_code == 303
    kept = await stored(sessionmaker, location)
    assert (kept.spread_seconds, kept.quiet_from, work.approved(kept)) == (3 * 3600, 22 * 3600, True)
    # Where its button leads: what they get, so void.
    button = {**timing, "button_target": "https://example.org/elsewhere"}
    assert (await post(client, location, "edit", **button, **NO_CASE_YET)).status_code == 303
    assert not work.approved(await stored(sessionmaker, location))
    # Approved again, then only the button's label: void again.
    assert (await post(client, location, "approve")).status_code == 303
    label = {**button, "label_en": "Read more"}
    assert (await post(client, location, "edit", **label, **NO_CASE_YET)).status_code == 303
    assert not work.approved(await stored(sessionmaker, location))
    actions = [action for _, action in await audit(sessionmaker)]
    assert actions == [
        "campaign.created",
        "campaign.approved",
        "campaign.approval_voided",
        "campaign.approved",
        "campaign.approval_voided",
    ]
