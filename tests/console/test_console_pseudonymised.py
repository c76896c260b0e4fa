"""Who sees whom on a case's pages: every page of a case walked by its own caseworker, a supervisor and
a caseworker looking at it in the queue, each page's HTML (a PDF's text) searched for the person's name,
phone, a chat message and what was written about them.

The walk takes every GET route of a case from the route table, so a new tab is walked too, and fails
until this file says what its owner should find there.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Awaitable, Callable

import httpx
import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from caseworker_console import casework as work
from caseworker_console.app import create_app
from caseworker_console.permissions import CaseAccess, case_access, sees_identity
from caseworker_console.routing import ConsoleRoute
from programme.assessment import INITIAL_ASSESSMENT, SCREENING_CONFIRMATION
from programme.forms import INTERVIEW
from storage import casework
from storage import plan as plans
from storage.crypto import Crypto
from storage.journey import add_case_message, add_data_request, record_consent
from storage.models import AuditEntry, Beneficiary, Case, StaffUser, utcnow
from storage.models_figures import Partner, Referral
from tests.console.conftest import BASE_URL, form_token

SignIn = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

CODE = "IP-2026-000100"
NAME = "Zarina Nazarova"
PHONE = "+994501234567"
CHAT = "Farid keeps my passport at the bakery"
# Every text written about the person carries this word, so one search finds any of them.
WRITTEN = "Quillfeather"

# What the case's own caseworker finds on each page (the walk's other direction): the name and phone
# sit behind the overview's audited reveal and the requests' texts behind theirs, so neither GET page
# shows them to anyone.
OWNER_FINDS: dict[str, set[str]] = {
    "case": set(),
    "case_screening": {WRITTEN},
    "case_interview": {NAME, PHONE, WRITTEN},
    "case_assessment": {WRITTEN},
    "case_assessment_pdf": {WRITTEN},
    "case_conversation": {CHAT},
    "case_requests": set(),
    "case_consent": set(),
    "case_consent_pdf": set(),
    "case_plan": {WRITTEN},
    "case_plan_pdf": {WRITTEN},
    "case_referrals": {WRITTEN},
    "case_adverse": {WRITTEN},
    "case_appointments": set(),
}


def case_pages(app: Starlette) -> list[ConsoleRoute]:
    return [
        route
        for route in app.routes
        if isinstance(route, ConsoleRoute) and route.case_scoped and route.method == "GET"
    ]


async def seed_everything(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, seed_person: SeedPerson, author: StaffUser
) -> Case:
    """A queued case in intervention planning with something of the person on every tab."""
    case = await seed_person(
        name=NAME,
        phone=PHONE,
        stage="intervention_planning",
        handoff_at=utcnow(),
        screening={"resides_for_reason": "yes", "has_permit": "yes", "directions": ["language"]},
    )
    now = utcnow()
    written = f"Sleeps at the {WRITTEN} Street shelter"
    forms = {
        INTERVIEW: {
            "preferred_name": NAME,
            "phone": PHONE,
            "interpreter": "yes",
            "city": f"{WRITTEN} district",
        },
        SCREENING_CONFIRMATION: {
            "resides_for_reason": "yes",
            "has_permit": "yes",
            "directions": ["language"],
            "impairment": "no",
            "eligible": "yes",
            "decision_reason": written,
            "venue": "office",
        },
        INITIAL_ASSESSMENT: {"gender": "female", "emotional_state": written},
    }
    async with sessionmaker() as session:
        stored = await session.get(Case, case.id)
        assert stored is not None
        for form, answers in forms.items():
            await casework.add_form_response(
                session,
                crypto,
                case=stored,
                form_id=form.id,
                form_version=form.version,
                answers=answers,
                at=now,
            )
        await record_consent(
            session,
            case=stored,
            casework=True,
            publicity="none",
            third_party=False,
            language="ru",
            text_version="2026-01",
            text_hash="0" * 64,
        )
        agreed = {"staff_id": author.id, "at": now, "via": "in_person"}
        need = await plans.add_need(session, crypto, case=stored, text=f"Housing near {WRITTEN}", **agreed)
        goal = await plans.add_goal(
            session, crypto, case=stored, need=need, term="short", text=f"{WRITTEN} flat", **agreed
        )
        activity = await plans.add_activity(
            session,
            crypto,
            case=stored,
            goal=goal,
            text=f"Visit the {WRITTEN} housing office",
            service_area="health_social",
            due_on=dt.date(2026, 5, 1),
            who=f"Her aunt from {WRITTEN}",
            status="planned",
            **agreed,
        )
        await plans.add_review(
            session,
            crypto,
            case=stored,
            reviewed_on=dt.date(2026, 4, 1),
            note=f"{WRITTEN} went well",
            **agreed,
        )
        partner = Partner(name="Baku Housing Desk", service_area="health_social")
        session.add(partner)
        await session.flush()
        session.add(Referral(case_id=stored.id, activity_id=activity.id, partner_id=partner.id))
        await add_case_message(session, crypto, case=stored, direction="in", kind="text", body={"text": CHAT})
        await add_case_message(
            session,
            crypto,
            case=stored,
            direction="in",
            kind="location",
            body={"latitude": 40.40926, "longitude": 49.86709},
        )
        await add_data_request(
            session,
            crypto,
            beneficiary=await session.get(Beneficiary, stored.beneficiary_id),
            case=stored,
            kind="correction",
            details={"text": f"My name is {NAME}, not {WRITTEN}"},
        )
        await work.record_adverse_event(
            session,
            crypto,
            case=stored,
            answers={
                "event_date": "2026-03-01",
                "what_happened": ["exploitation"],
                "how_managed": written,
                "recommendations_given": "yes",
                "follow_up_call": "no",
            },
            actor="test",
            at=now,
        )
        await session.commit()
    return case


async def assign(sessionmaker: async_sessionmaker[AsyncSession], case: Case, staff: StaffUser | None) -> None:
    async with sessionmaker() as session:
        stored = await session.get(Case, case.id)
        assert stored is not None
        stored.assigned_to = staff.id if staff else None
        await session.commit()


def page_text(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("application/pdf"):
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    return response.text


async def walk(client: httpx.AsyncClient, app: Starlette) -> dict[str, tuple[int, str]]:
    """Every page of the case: route name → (status, its HTML or a PDF's text)."""
    pages = {}
    for route in case_pages(app):
        response = await client.get(route.url_path_for(route.name, code=CODE))
        pages[route.name] = (response.status_code, page_text(response))
    return pages


def found(text: str) -> set[str]:
    return {secret for secret in (NAME, PHONE, CHAT, WRITTEN) if secret in text}


def test_every_page_of_a_case_is_in_the_walk(app: Starlette) -> None:
    assert {route.name for route in case_pages(app)} == set(OWNER_FINDS)


async def test_the_cases_own_caseworker_and_a_supervisor_find_the_person_on_every_tab(
    app: Starlette,
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    owner = await sign_in_as("leyla", role="caseworker")
    case = await seed_everything(sessionmaker, crypto, seed_person, owner)
    await assign(sessionmaker, case, owner)
    for reader in ("owner", "supervisor"):
        if reader == "supervisor":
            await sign_in_as("samir", role="supervisor")  # not assigned: supervisors see by role
        pages = await walk(client, app)
        assert {name: status for name, (status, _) in pages.items()} == dict.fromkeys(OWNER_FINDS, 200)
        missing = {name: OWNER_FINDS[name] - found(text) for name, (_, text) in pages.items()}
        assert {name: left for name, left in missing.items() if left} == {}, reader
        header = BeautifulSoup(pages["case_interview"][1], "lxml")
        assert header.select_one(".case-pseudonymised") is None


async def test_a_caseworker_looking_at_a_queued_case_finds_nothing_of_the_person_on_any_tab(
    app: Starlette,
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    author = await sign_in_as("leyla", role="caseworker")
    await seed_everything(sessionmaker, crypto, seed_person, author)
    reader = await sign_in_as("rashad", role="caseworker")
    pages = await walk(client, app)
    statuses = {name: status for name, (status, _) in pages.items()}
    # Annex 3 reports stay with the case's caseworker and supervisors altogether.
    assert statuses == {**dict.fromkeys(OWNER_FINDS, 200), "case_adverse": 403}
    assert {name: found(text) for name, (_, text) in pages.items() if found(text)} == {}

    # Pseudonymised, not empty: what does not identify is there, and the way to the rest.
    interview = BeautifulSoup(pages["case_interview"][1], "lxml")
    answers = {
        dt_.get_text(strip=True): dd.get_text(strip=True)
        for dt_, dd in zip(
            interview.select(".interview-answers dt"), interview.select(".interview-answers dd"), strict=True
        )
    }
    assert answers["Do you need an interpreter at meetings?"] == "Yes"
    assert answers["What is your phone number? Tap the button below to share it, or type it."] == "Hidden"
    assert interview.select_one(".case-pseudonymised form[action$='/take']") is not None
    conversation = BeautifulSoup(pages["case_conversation"][1], "lxml")
    assert [m.get_text(strip=True) for m in conversation.select(".message-text")] == ["Hidden", "Hidden"]
    # A location's coordinates say where the person is: only its kind is shown.
    assert [m.get_text(strip=True) for m in conversation.select(".message-attachment")] == ["Location"]
    plan = BeautifulSoup(pages["case_plan"][1], "lxml")
    assert plan.select_one(".plan-goal-term").get_text(strip=True) == "Short-term goal:"
    assert plan.select_one(".plan-need-text").get_text(strip=True) == "Hidden"

    # The reveal stays the caseworker's of the case; the requests' texts too.
    token = form_token(await client.get(f"/cases/{CODE}"))
    assert (await client.post(f"/cases/{CODE}/identity", data={"csrf_token": token})).status_code == 403
    revealed = await client.post(f"/cases/{CODE}/requests/texts", data={"csrf_token": token})
    assert revealed.status_code == 403

    # Every opening was audited as a view of the case, and no reveal happened.
    async with sessionmaker() as session:
        entries = (
            (await session.execute(select(AuditEntry).where(AuditEntry.actor == f"staff:{reader.id}")))
            .scalars()
            .all()
        )
    assert {entry.action for entry in entries} == {"case.viewed"}

    # Taking the case opens it.
    take = interview.select_one(".case-pseudonymised form[action$='/take']")
    fields = {field["name"]: field["value"] for field in take.select("input[type=hidden]")}
    taken = await client.post(f"/cases/{CODE}/take", data=fields)
    assert taken.status_code == 303
    assert {NAME, PHONE} <= found((await client.get(f"/cases/{CODE}/interview")).text)
    assert CHAT in (await client.get(f"/cases/{CODE}/conversation")).text


class CountingCrypto(Crypto):
    """The data keys as configured, noting the table of every value opened."""

    def __init__(self, secrets: list[bytes]) -> None:
        super().__init__(secrets)
        self.opened: set[str] = set()

    def decrypt_bytes(self, blob: bytes, *, table: str, column: str, row: object) -> bytes:
        self.opened.add(table)
        return super().decrypt_bytes(blob, table=table, column=column, row=row)


# The conversation's messages and the plan (its needs, goals, activities and reviews).
NEVER_OPENED = {"case_messages", "plan_needs", "plan_goals", "plan_activities", "plan_reviews"}


async def test_a_reader_not_on_the_case_never_has_the_messages_or_the_plan_decrypted(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    data_key: bytes,
) -> None:
    # The same pages through an app whose keys note what they open; sessions live in the database,
    # so the signed-in cookie works there.
    counting = CountingCrypto([data_key])
    app = create_app(sessionmaker=sessionmaker, crypto=counting)
    author = await sign_in_as("leyla", role="caseworker")
    authors_cookies = httpx.Cookies(client.cookies)
    case = await seed_everything(sessionmaker, crypto, seed_person, author)
    await sign_in_as("rashad", role="caseworker")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, cookies=client.cookies) as reader:
        pages = await walk(reader, app)
        assert pages["case_conversation"][0] == pages["case_plan"][0] == 200
        assert counting.opened & NEVER_OPENED == set()

        # The case's own caseworker has them opened: the count sees them.
        await assign(sessionmaker, case, author)
        reader.cookies = authors_cookies
        await walk(reader, app)
    assert counting.opened >= NEVER_OPENED


@pytest.mark.parametrize(
    ("role", "relation", "sees"),
    [
        ("caseworker", "own", True),
        ("caseworker", "queued", False),
        ("caseworker", "other", False),
        ("supervisor", "own", True),
        ("supervisor", "queued", True),
        ("supervisor", "other", True),
        ("outreach", "queued", False),
        ("admin", "queued", False),
    ],
)
def test_who_sees_the_identity_is_who_may_reveal_it(role: str, relation: str, sees: bool) -> None:
    me, other = 1, 2
    case = Case(code=CODE, stage="new", assigned_to={"own": me, "other": other, "queued": None}[relation])
    assert sees_identity(role=role, staff_id=me, case=case) is sees
    # The same rule as the reveal's route (Permission.IDENTITY, on a case of one's own).
    assert sees == (
        role in ("caseworker", "supervisor")
        and case_access(role=role, staff_id=me, case=case) is CaseAccess.OWN
    )
