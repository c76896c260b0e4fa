"""The queue: its order, taking a case, a supervisor's assignment, stale takes, and the live badge."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import AuditEntry, Case, StaffSession, StaffUser, utcnow
from tests.console.conftest import form_token

SignIn = Callable[..., Awaitable[StaffUser]]
MakeUser = Callable[..., Awaitable[StaffUser]]
SeedCases = Callable[..., Awaitable[list[Case]]]


def queue_codes(response: httpx.Response) -> list[str]:
    assert response.status_code == 200
    page = BeautifulSoup(response.text, "lxml")
    return [str(row["data-case"]) for row in page.select("table.queue tbody tr")]


async def stored_case(sessionmaker: async_sessionmaker[AsyncSession], code: str) -> Case:
    async with sessionmaker() as session:
        return (await session.execute(select(Case).where(Case.code == code))).scalar_one()


async def audit_trail(sessionmaker: async_sessionmaker[AsyncSession]) -> list[tuple[str, str | None, dict]]:
    async with sessionmaker() as session:
        entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
    return [(entry.action, entry.object_id, entry.details) for entry in entries]


async def test_the_queue_shows_unassigned_open_cases_urgent_first_then_longest_waiting(
    client: httpx.AsyncClient, sign_in_as: SignIn, make_user: MakeUser, seed_cases: SeedCases
) -> None:
    await sign_in_as("amina")
    colleague = await make_user("bilal")
    start = utcnow() - dt.timedelta(days=2)
    await seed_cases(
        {"code": "IP-2026-000001", "created_at": start + dt.timedelta(hours=3)},
        {"code": "IP-2026-000002", "created_at": start + dt.timedelta(hours=1)},
        {"code": "IP-2026-000003", "created_at": start + dt.timedelta(hours=5), "urgent": True},
        {"code": "IP-2026-000004", "created_at": start, "assigned_to": colleague.id},
        {"code": "IP-2026-000005", "created_at": start, "stage": "closed"},
        # Opened long ago but handed off to a person only now: it waits from the handoff.
        {"code": "IP-2026-000006", "created_at": start, "handoff_at": start + dt.timedelta(hours=4)},
    )
    assert queue_codes(await client.get("/queue")) == [
        "IP-2026-000003",
        "IP-2026-000002",
        "IP-2026-000001",
        "IP-2026-000006",
    ]


async def test_taking_a_case_assigns_it_to_me_starts_screening_and_is_audited(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_cases: SeedCases,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    me = await sign_in_as("camila")
    await seed_cases({"code": "IP-2026-000011"})
    page = await client.get("/queue")
    form = BeautifulSoup(page.text, "lxml").select_one("form[action='/cases/IP-2026-000011/take']")
    assert form is not None
    version = form.select_one("input[name=version]")["value"]

    response = await client.post(
        "/cases/IP-2026-000011/take", data={"csrf_token": form_token(page), "version": version}
    )
    assert (response.status_code, response.headers["location"]) == (303, "/cases/IP-2026-000011")
    case = await stored_case(sessionmaker, "IP-2026-000011")
    assert (case.assigned_to, case.stage) == (me.id, "screening")
    assert queue_codes(await client.get("/queue")) == []
    trail = [entry for entry in await audit_trail(sessionmaker) if entry[0].startswith("case.")]
    assert trail == [
        ("case.taken", "IP-2026-000011", {"assigned_to": me.id}),
        ("case.stage_changed", "IP-2026-000011", {"from": "new", "to": "screening"}),
    ]


async def test_a_take_from_a_stale_page_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_cases: SeedCases,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await sign_in_as("dara")
    (case,) = await seed_cases({"code": "IP-2026-000012"})
    page = await client.get("/queue")
    # Someone changes the case (here: marks it urgent) after the page was served.
    async with sessionmaker() as session:
        stored = (await session.execute(select(Case).where(Case.id == case.id))).scalar_one()
        stored.urgent = True
        await session.commit()

    response = await client.post(
        "/cases/IP-2026-000012/take", data={"csrf_token": form_token(page), "version": str(case.version)}
    )
    assert response.status_code == 409
    alert = BeautifulSoup(response.text, "lxml").select_one("[role=alert]")
    assert alert is not None
    assert "changed by someone else" in alert.get_text()
    assert (await stored_case(sessionmaker, "IP-2026-000012")).assigned_to is None


async def test_a_case_taken_by_a_colleague_is_gone_for_other_caseworkers(
    client: httpx.AsyncClient, sign_in_as: SignIn, make_user: MakeUser, seed_cases: SeedCases
) -> None:
    await sign_in_as("emil")
    colleague = await make_user("farah")
    await seed_cases({"code": "IP-2026-000013", "assigned_to": colleague.id})
    page = await client.get("/cases")
    response = await client.post(
        "/cases/IP-2026-000013/take", data={"csrf_token": form_token(page), "version": "1"}
    )
    assert response.status_code == 404


async def test_a_supervisor_assigns_a_case_to_a_chosen_caseworker(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    make_user: MakeUser,
    seed_cases: SeedCases,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await sign_in_as("gulnar", role="supervisor")
    worker = await make_user("hasan", display_name="Hasan")
    await make_user("outreach-ivan", role="outreach")
    await seed_cases({"code": "IP-2026-000014"})
    page = await client.get("/queue")
    choices = BeautifulSoup(page.text, "lxml").select("#assign-IP-2026-000014 option")
    assert "Hasan" in [option.get_text() for option in choices]
    assert "outreach-ivan" not in [option.get_text() for option in choices]
    token = form_token(page)

    refused = await client.post(
        "/cases/IP-2026-000014/assign", data={"csrf_token": token, "version": "1", "staff_id": "999999"}
    )
    assert refused.status_code == 400
    response = await client.post(
        "/cases/IP-2026-000014/assign", data={"csrf_token": token, "version": "1", "staff_id": str(worker.id)}
    )
    assert response.status_code == 303
    assert (await stored_case(sessionmaker, "IP-2026-000014")).assigned_to == worker.id
    assert (
        "case.assigned",
        "IP-2026-000014",
        {"assigned_to": worker.id, "previous": None},
    ) in await audit_trail(sessionmaker)


async def test_the_badge_counts_new_and_urgent_unassigned_handoffs(
    client: httpx.AsyncClient, sign_in_as: SignIn, make_user: MakeUser, seed_cases: SeedCases
) -> None:
    await sign_in_as("ilkin")
    colleague = await make_user("jale")
    empty = await client.get("/queue/badge")
    assert empty.json() == {"new": 0, "urgent": 0, "label": ""}
    await seed_cases(
        {"code": "IP-2026-000021"},
        {"code": "IP-2026-000022", "urgent": True},
        {"code": "IP-2026-000023", "stage": "screening", "urgent": True},
        {"code": "IP-2026-000024", "assigned_to": colleague.id, "urgent": True},
        {"code": "IP-2026-000025", "stage": "closed"},
    )
    response = await client.get("/queue/badge")
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {"new": 2, "urgent": 2, "label": "2 new, 2 urgent"}


async def test_polling_the_badge_does_not_keep_a_session_alive(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await sign_in_as("kamal")
    earlier = utcnow() - dt.timedelta(minutes=10)
    async with sessionmaker() as session:
        await session.execute(
            update(StaffSession).where(StaffSession.user_id == user.id).values(last_seen_at=earlier)
        )
        await session.commit()

    async def last_seen() -> dt.datetime:
        async with sessionmaker() as session:
            query = select(StaffSession.last_seen_at).where(StaffSession.user_id == user.id)
            return (await session.execute(query)).scalar_one()

    assert (await client.get("/queue/badge")).status_code == 200
    assert await last_seen() == earlier
    assert (await client.get("/queue")).status_code == 200
    assert await last_seen() > earlier


async def test_pages_load_the_badge_script_which_polls_every_15_seconds(
    client: httpx.AsyncClient, sign_in_as: SignIn
) -> None:
    await sign_in_as("lala")
    page = BeautifulSoup((await client.get("/cases")).text, "lxml")
    badge = page.select_one(".queue-badge")
    assert badge is not None
    assert badge["data-badge-url"] == "/queue/badge"
    assert badge["role"] == "status"
    assert [script["src"] for script in page.select("script")] == ["/static/badge.js"]
    served = await client.get("/static/badge.js")
    assert served.status_code == 200
    assert "javascript" in served.headers["content-type"]
    source = served.text
    assert "INTERVAL_MS = 15000" in source
    assert "innerHTML" not in source  # counts are written as text, never parsed as HTML


async def test_roles_without_case_work_get_no_badge(client: httpx.AsyncClient, sign_in_as: SignIn) -> None:
    await sign_in_as("mina", role="outreach")
    page = BeautifulSoup((await client.get("/")).text, "lxml")
    assert page.select(".queue-badge, script") == []
