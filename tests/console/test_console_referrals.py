"""The partner directory (kept by supervisors, read by caseworkers) and referrals from a plan
activity: consent checked, status tracked sent → accepted → done / declined, audited with codes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake.demo_data import Story, add_story
from programme import consent
from storage.crypto import Crypto
from storage.journey import withdraw
from storage.models import AuditEntry, Beneficiary, Case, StaffUser
from storage.models_figures import Partner, Referral
from storage.models_journey import Consent
from storage.models_plan import PlanActivity
from tests.console.conftest import form_token

SignIn = Callable[..., Awaitable[StaffUser]]
CODE = "IP-2026-000001"
TAB = f"/cases/{CODE}/referrals"


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


async def add_partner(client: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    page = await client.get("/partners")
    data = {
        "csrf_token": form_token(page),
        "service_area": "language",
        "address": "",
        "contact": "",
        **fields,
    }
    return await client.post("/partners", data=data)


async def test_supervisors_keep_the_directory_and_caseworkers_read_it(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("sofia", role="supervisor")
    added = await add_partner(
        client,
        name="Baku Language Centre",
        address="1 Example Street",
        contact="+994 12 000 0000",
        languages=["az", "ru"],
    )
    assert added.status_code == 303
    again = await add_partner(client, name="baku language centre")
    assert again.status_code == 400 and "already in the directory" in again.text
    no_area = await add_partner(client, name="Clinic", service_area="nonsense")
    assert no_area.status_code == 400
    async with sessionmaker() as session:
        partner = (await session.execute(select(Partner))).scalar_one()
    assert partner.languages == ["az", "ru"] and partner.service_area == "language"

    page = await client.get("/partners", params={"edit": str(partner.id)})
    form = soup(page).select_one("form[action='/partners/update']")
    assert form is not None
    retired = await client.post(
        "/partners/update",
        data={
            "csrf_token": form_token(page),
            "partner": str(partner.id),
            "name": "Baku Language Centre",
            "service_area": "language",
        },
    )
    assert retired.status_code == 303

    client.cookies.clear()
    await sign_in_as("leyla", role="caseworker")
    listing = await client.get("/partners")
    assert listing.status_code == 200 and "Baku Language Centre" not in listing.text  # retired
    assert soup(listing).select_one("form[method=post][action='/partners']") is None
    assert (
        await client.post("/partners", data={"csrf_token": form_token(listing), "name": "X"})
    ).status_code == 403
    async with sessionmaker() as session:
        actions = (await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars().all()
    assert actions == ["partner.added", "partner.changed"]


async def seed_plan_case(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, owner: StaffUser, *, consent: bool = True
) -> tuple[int, str]:
    async with sessionmaker() as session:
        await add_story(
            session,
            crypto,
            Story(code=CODE, stage="intervention_planning", consent=consent, plan=True, assigned_to=owner.id),
            telegram_id=77,
        )
        partner = Partner(name="Baku Language Centre", service_area="language", languages=["az"])
        session.add(partner)
        await session.commit()
        activity = (await session.execute(select(PlanActivity.id))).scalar_one()
        return partner.id, str(activity)


async def post_form(client: httpx.AsyncClient, action: str, **data: str) -> httpx.Response:
    page = await client.get(TAB)
    return await client.post(action, data={"csrf_token": form_token(page), **data})


async def test_a_caseworker_refers_from_an_activity_and_tracks_the_referral(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("leyla", role="caseworker")
    partner_id, activity_id = await seed_plan_case(sessionmaker, crypto, me)
    tab = await client.get(TAB)
    assert tab.status_code == 200
    options = [option["value"] for option in soup(tab).select("#r-activity option") if option["value"]]
    assert options == [activity_id]
    assert "Made-up activity" in tab.text

    made = await post_form(client, TAB, activity=activity_id, partner=str(partner_id))
    assert made.status_code == 303
    # A double tap makes no second referral.
    twice = await post_form(client, TAB, activity=activity_id, partner=str(partner_id))
    assert twice.status_code == 409
    async with sessionmaker() as session:
        referral = (await session.execute(select(Referral))).scalar_one()
    assert referral.status == "sent" and referral.created_by == me.id

    status = f"{TAB}/status"
    skipped = await post_form(client, status, referral=str(referral.id), status="done")
    assert skipped.status_code == 400 and "moves from sent" in skipped.text
    assert (await post_form(client, status, referral=str(referral.id), status="accepted")).status_code == 303
    assert (await post_form(client, status, referral=str(referral.id), status="accepted")).status_code == 303
    assert (await post_form(client, status, referral=str(referral.id), status="done")).status_code == 303
    final = await post_form(client, status, referral=str(referral.id), status="declined")
    assert final.status_code == 400
    forged = await post_form(client, status, referral="not-an-id", status="done")
    assert forged.status_code == 400

    row = soup(await client.get(TAB)).select_one(f"tr.referral[data-referral='{referral.id}']")
    assert row["data-status"] == "done" and "Baku Language Centre" in row.get_text()
    async with sessionmaker() as session:
        entries = (
            (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.action.like("referral.%")).order_by(AuditEntry.id)
                )
            )
            .scalars()
            .all()
        )
    assert [(entry.action, entry.details.get("to")) for entry in entries] == [
        ("referral.made", None),
        ("referral.status", "accepted"),
        ("referral.status", "done"),
    ]
    assert all(entry.object_id == CODE for entry in entries)
    assert "Made-up" not in str([entry.details for entry in entries])

    client.cookies.clear()
    await sign_in_as("sofia", role="supervisor")
    figures = soup(await client.get("/figures"))
    partner_row = figures.select_one("section[data-section=partners] tr[data-partner='Baku Language Centre']")
    assert partner_row is not None
    assert [cell.get_text() for cell in partner_row.select("td.count")] == ["<5"] * 5


async def test_no_referral_without_consent_to_share_for_case_work(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("leyla", role="caseworker")
    partner_id, activity_id = await seed_plan_case(sessionmaker, crypto, me, consent=False)
    tab = await client.get(TAB)
    assert soup(tab).select_one("#r-activity") is None
    assert "does not allow sharing" in tab.text
    refused = await client.post(
        TAB, data={"csrf_token": form_token(tab), "activity": activity_id, "partner": str(partner_id)}
    )
    assert refused.status_code == 400
    async with sessionmaker() as session:
        assert (await session.execute(select(Referral))).first() is None


async def test_consent_withdrawn_after_the_page_was_served_stops_the_referral(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("leyla", role="caseworker")
    partner_id, activity_id = await seed_plan_case(sessionmaker, crypto, me)
    tab = await client.get(TAB)
    async with sessionmaker() as session:
        await session.execute(update(Consent).values(casework=False))
        await session.commit()
    refused = await client.post(
        TAB, data={"csrf_token": form_token(tab), "activity": activity_id, "partner": str(partner_id)}
    )
    assert refused.status_code == 400
    async with sessionmaker() as session:
        assert (await session.execute(select(Referral))).first() is None


async def test_after_the_person_stopped_taking_part_no_referral_is_made_and_the_header_says_close_it(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("leyla", role="caseworker")
    partner_id, activity_id = await seed_plan_case(sessionmaker, crypto, me)
    tab = await client.get(TAB)
    async with sessionmaker() as session:
        case = (await session.execute(select(Case).where(Case.code == CODE))).scalar_one()
        person = await session.get(Beneficiary, case.beneficiary_id)
        assert person is not None
        await withdraw(
            session,
            crypto,
            beneficiary=person,
            case=case,
            language="en",
            text_version=consent.TEXT_VERSION,
            text_hash="0" * 64,
            reason="I moved to another city",
        )
        await session.commit()
    # The page was served before the withdrawal: the post is refused all the same, and says why.
    refused = await client.post(
        TAB, data={"csrf_token": form_token(tab), "activity": activity_id, "partner": str(partner_id)}
    )
    assert refused.status_code == 400
    error = soup(refused).select_one("p.error")
    assert error is not None and "stopped taking part" in error.get_text()
    async with sessionmaker() as session:
        assert (await session.execute(select(Referral))).first() is None
    page = soup(await client.get(TAB))
    assert page.select("form.stacked-form") == []
    flag = page.select_one(".case-header .case-withdrawn")
    assert flag is not None and "Close the case with reason 1" in flag.get_text()
    # The caseworker's case list marks it too.
    listing = soup(await client.get("/cases"))
    badge = listing.select_one(f"tr[data-case='{CODE}'] .badge-withdrawn")
    assert badge is not None and badge.get_text() == "Stopped taking part"


async def test_another_case_s_activity_or_a_retired_partner_is_refused(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("leyla", role="caseworker")
    partner_id, activity_id = await seed_plan_case(sessionmaker, crypto, me)
    async with sessionmaker() as session:
        other = await add_story(
            session,
            crypto,
            Story(code="IP-2026-000002", stage="intervention_planning", consent=True, plan=True),
            telegram_id=78,
        )
        foreign = (
            await session.execute(select(PlanActivity.id).where(PlanActivity.case_id == other.id))
        ).scalar_one()
        await session.commit()
    assert (await post_form(client, TAB, activity=str(foreign), partner=str(partner_id))).status_code == 400
    async with sessionmaker() as session:
        await session.execute(update(Partner).values(active=False))
        await session.commit()
    assert (await post_form(client, TAB, activity=activity_id, partner=str(partner_id))).status_code == 400
    async with sessionmaker() as session:
        assert (await session.execute(select(Referral))).first() is None
