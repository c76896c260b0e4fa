"""Hostile text from beneficiaries (through the bot) is shown as text on every console page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from storage import person_keys, plan
from storage.crypto import Crypto
from storage.journey import add_case_message, record_consent
from storage.models import Case, FormResponse, StaffUser, utcnow
from storage.models_channels import Channel
from storage.models_outreach import Campaign
from storage.queries import record_audit
from storage.sealing import seal_json
from tests.console.conftest import form_token
from tests.console.test_console_authorization import console_routes, path_for

SignIn = Callable[..., Awaitable[StaffUser]]
MakeUser = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
RTL = "\u202eevil.exe\u202c Ali"
LONG = "A" * 4092 + "<b>Z"  # 4,096 characters, with markup at the very end
HOSTILE = (SCRIPT, IMAGE, RTL, LONG)
CODE = "IP-2026-000100"


def assert_inert(response: httpx.Response, where: str) -> BeautifulSoup:
    """No markup from the data became markup in the page."""
    assert response.status_code < 500, where
    page = BeautifulSoup(response.text, "lxml")
    assert [tag.get("src") for tag in page.select("script")] in ([], ["/static/badge.js"]), where
    # The one SVG allowed is the figures page's own chart, drawn from counts.
    assert page.select("img, iframe, object, embed, svg:not(.funnel-chart), b") == [], where
    assert len(page.select("svg")) <= 1 and not page.select("svg image, svg script, svg foreignObject"), where
    for tag in page.find_all(True):
        assert not [name for name in tag.attrs if name.lower().startswith("on")], (where, tag.name)
    return page


async def seed_hostile_case(
    seed_person: SeedPerson, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, owner: StaffUser
) -> Case:
    case = await seed_person(
        name=SCRIPT + IMAGE + RTL,
        phone=IMAGE,
        assigned_to=owner.id,
        stage="initial_assessment",
        source=IMAGE[:60],  # a campaign channel is shown as it is
        screening={
            "resides_for_reason": SCRIPT,
            "has_permit": "yes",
            "directions": ["language", IMAGE, RTL],
            "note": LONG,
        },
    )
    async with sessionmaker() as session:
        for form_id, answers in (
            (
                "screening_confirmation",
                {"eligible": "yes", "decision_reason": SCRIPT, "_caseworker_name": IMAGE},
            ),
            (
                "initial_assessment",
                {"summary": LONG, "urgent_need": RTL, "gender": SCRIPT, "_caseworker_name": SCRIPT},
            ),
        ):
            await person_keys.load_for_case(session, crypto, case.id)
            response = FormResponse(case_id=case.id, form_id=form_id, form_version=1, source="console")
            seal_json(crypto, response, "answers_enc", answers)
            session.add(response)
        for kind, body in (
            ("text", {"text": SCRIPT + LONG}),
            ("document", {"file_id": "x", "file_name": IMAGE, "caption": RTL}),
        ):
            await add_case_message(session, crypto, case=case, direction="in", kind=kind, body=body)
        # Audit details are never personal data, but the page must not trust them either.
        await record_audit(
            session, actor=SCRIPT, action=IMAGE[:60], object_type="case", object_id=CODE, details={"x": IMAGE}
        )
        await session.commit()
    return case


@pytest.mark.parametrize("role", ["caseworker", "supervisor"])
async def test_hostile_text_is_shown_as_text_on_every_page(
    role: str,
    app: Starlette,
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    make_user: MakeUser,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("hostile-reader", role=role, display_name=RTL)
    await make_user("colleague", display_name=SCRIPT)
    await seed_hostile_case(seed_person, sessionmaker, crypto, me)
    async with sessionmaker() as session:
        # A channel's name is typed by staff, and shown as text too.
        channel = Channel(code="hostile", name=(SCRIPT + IMAGE)[:120], kind="other", languages=["fa"])
        session.add(channel)
        # A campaign's name and texts are typed by an outreach officer: shown as text too.
        campaign = Campaign(
            name=SCRIPT + IMAGE,
            texts={"en": SCRIPT + IMAGE + RTL, "fa": RTL},
            button={"kind": "url", "target": "https://x.test/" + IMAGE, "labels": {"en": SCRIPT}},
            segment={"sources": [IMAGE]},
            status="draft",
        )
        session.add(campaign)
        await session.commit()

    pages: dict[str, str] = {}
    for route in console_routes(app):
        if route.method == "GET" and route.permission is not None and route.name != "queue_badge":
            path = path_for(route, code=CODE, user_id=me.id, channel_id=channel.id, campaign_id=campaign.id)
            response = await client.get(path)
            if response.status_code == 200:
                pages[path] = response.text
                assert_inert(response, path)
    assert {f"/cases/{CODE}", f"/cases/{CODE}/screening", f"/cases/{CODE}/assessment", "/cases"} <= set(pages)
    if role == "supervisor":
        shown = BeautifulSoup(pages[f"/campaigns/{campaign.id}"], "lxml")
        assert shown.select_one("h1").get_text() == SCRIPT + IMAGE
        assert shown.select_one("#campaign-text-en").get_text() == SCRIPT + IMAGE + RTL
        assert shown.select_one(".campaign-preview .campaign-button .badge").get_text() == SCRIPT

    token = form_token(await client.get(f"/cases/{CODE}"))
    reveal = await client.post(f"/cases/{CODE}/identity", data={"csrf_token": token})
    shown = assert_inert(reveal, "identity")
    assert shown.select_one(".identity-name").get_text() == SCRIPT + IMAGE + RTL
    assert shown.select_one(".identity-phone").get_text() == IMAGE

    screening = BeautifulSoup(pages[f"/cases/{CODE}/screening"], "lxml")
    bot_answers = [item.get_text() for item in screening.select(".bot-answers dd")]
    assert SCRIPT in bot_answers
    assert any(IMAGE in answer and RTL in answer for answer in bot_answers)
    assessment = BeautifulSoup(pages[f"/cases/{CODE}/assessment"], "lxml")
    assert assessment.select_one("#q-summary").get_text() == LONG
    assert assessment.select_one("#q-urgent_need").get_text() == RTL
    conversation = BeautifulSoup(pages[f"/cases/{CODE}/conversation"], "lxml")
    assert [item.get_text() for item in conversation.select(".message-text")] == [SCRIPT + LONG, RTL]
    assert conversation.select_one(".message-attachment").get_text() == f"Document: {IMAGE}"

    # Sent back by a caseworker's browser, the same text comes back in the form as text.
    form_page = await client.get(f"/cases/{CODE}/assessment")
    version = BeautifulSoup(form_page.text, "lxml").select_one("input[name=version]")["value"]
    echoed = await client.post(
        f"/cases/{CODE}/assessment",
        data={"csrf_token": token, "version": version, "summary": LONG + "x" * 10, "education": IMAGE},
    )
    assert echoed.status_code == 400  # too long
    echoed_page = assert_inert(echoed, "assessment echo")
    assert echoed_page.select_one("#q-education").get_text() == IMAGE


async def test_hostile_text_in_the_audit_log_is_shown_as_text(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("auditor", role="supervisor")
    await seed_hostile_case(seed_person, sessionmaker, crypto, me)
    for params in ({}, {"actor": SCRIPT}, {"action": IMAGE}, {"case": IMAGE}):
        page = assert_inert(await client.get("/audit", params=params), repr(params))
        assert page.select("script:not([src])") == []
    row = BeautifulSoup((await client.get("/audit", params={"actor": SCRIPT})).text, "lxml").select_one(
        "tr.audit-entry"
    )
    assert row.select_one(".audit-actor").get_text() == SCRIPT
    assert row.select_one(".audit-details").get_text() == f"x: {IMAGE}"


def test_hostile_samples_are_what_the_issue_asks_for() -> None:
    assert len(LONG) == 4096
    assert "\u202e" in RTL
    assert all(isinstance(sample, str) for sample in HOSTILE)


async def test_hostile_text_in_the_integration_plan_is_shown_as_text(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("planner", display_name=SCRIPT)
    case = await seed_person(assigned_to=me.id, stage="intervention_planning")
    async with sessionmaker() as session:
        stored = await session.get(Case, case.id)
        assert stored is not None
        await record_consent(
            session,
            case=stored,
            casework=True,
            publicity="none",
            third_party=False,
            language="en",
            text_version="1",
            text_hash="0" * 64,
        )
        at = utcnow()
        need = await plan.add_need(
            session, crypto, case=stored, text=SCRIPT + RTL, staff_id=me.id, at=at, via="in_person"
        )
        goal = await plan.add_goal(
            session,
            crypto,
            case=stored,
            need=need,
            term="long",
            text=IMAGE,
            staff_id=me.id,
            at=at,
            via="phone",
        )
        await plan.add_activity(
            session,
            crypto,
            case=stored,
            goal=goal,
            text=LONG,
            service_area="language",
            due_on=None,
            who=IMAGE,
            status="planned",
            staff_id=me.id,
            at=at,
            via="bot",
        )
        await plan.add_review(
            session,
            crypto,
            case=stored,
            reviewed_on=at.date(),
            note=SCRIPT,
            staff_id=me.id,
            at=at,
            via="in_person",
        )
        await session.commit()
    page = assert_inert(await client.get(f"/cases/{CODE}/plan"), "plan")
    assert page.select_one(".plan-need-text").get_text() == SCRIPT + RTL
    assert page.select_one(".plan-goal-text").get_text() == IMAGE
    assert page.select_one(".plan-activity-text").get_text().startswith(LONG)
    assert page.select_one(".plan-activity-who").get_text() == IMAGE
    assert page.select_one(".plan-review-note").get_text() == SCRIPT

    # Typed back by a caseworker's browser (and refused: no agreement), it returns as text.
    version = page.select_one("form.plan-need-form input[name=version]")["value"]
    echoed = await client.post(
        f"/cases/{CODE}/plan/needs",
        data={
            "csrf_token": form_token(await client.get(f"/cases/{CODE}/plan")),
            "version": version,
            "text": IMAGE,
        },
    )
    assert echoed.status_code == 400
    assert assert_inert(echoed, "plan echo").select_one("#q-need-text").get_text() == IMAGE
