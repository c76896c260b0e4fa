"""Priority groups: the queue's order (urgent, then a priority group, then waiting time), its badges,
the caseworker's flags on the case file, and the index the queue's query is served from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import casework, person_keys
from storage.crypto import Crypto
from storage.models import AuditEntry, Case, FormResponse, StaffUser, utcnow
from storage.sealing import seal_json
from tests.conftest import Database

SignIn = Callable[..., Awaitable[StaffUser]]
SeedCases = Callable[..., Awaitable[list[Case]]]


def soup(response: httpx.Response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.text, "lxml")


def queue_rows(page: BeautifulSoup) -> list[tuple[str, list[str]]]:
    return [
        (str(row["data-case"]), [badge.text for badge in row.select(".badge-priority")])
        for row in page.select("table.queue tbody tr")
    ]


async def stored(sessionmaker: async_sessionmaker[AsyncSession], code: str) -> Case:
    async with sessionmaker() as session:
        return (await session.execute(select(Case).where(Case.code == code))).scalar_one()


async def set_groups(client: httpx.AsyncClient, code: str, groups: list[str]) -> httpx.Response:
    page = soup(await client.get(f"/cases/{code}"))
    form = page.select_one("form.priority-form")
    assert form is not None
    fields = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    return await client.post(form["action"], data={**fields, "groups": groups})


async def test_urgent_first_then_priority_groups_then_the_longest_waiting_with_badges(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_cases: SeedCases,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await sign_in_as("sabina", role="supervisor")
    now = utcnow()
    ago = [now - dt.timedelta(hours=hours) for hours in range(10)]
    await seed_cases(
        {"code": "IP-2026-000001", "created_at": ago[9]},  # waiting longest, no group
        {"code": "IP-2026-000002", "created_at": ago[5]},  # a woman (set below)
        {"code": "IP-2026-000003", "created_at": ago[1], "urgent": True},
        {"code": "IP-2026-000004", "created_at": ago[2], "guardian_consent_needed": True, "priority": True},
        {"code": "IP-2026-000005", "created_at": ago[8], "handoff_at": ago[3]},  # waiting since handoff
    )
    assert [code for code, _ in queue_rows(soup(await client.get("/queue")))] == [
        "IP-2026-000003",
        "IP-2026-000004",
        "IP-2026-000001",
        "IP-2026-000002",
        "IP-2026-000005",
    ]
    assert (await set_groups(client, "IP-2026-000002", ["women", "trauma"])).status_code == 303
    assert (await stored(sessionmaker, "IP-2026-000002")).priority is True
    rows = queue_rows(soup(await client.get("/queue")))
    assert rows == [
        ("IP-2026-000003", []),
        ("IP-2026-000002", ["Woman", "Survivor of torture or trauma"]),
        ("IP-2026-000004", ["Child"]),
        ("IP-2026-000001", []),
        ("IP-2026-000005", []),
    ]
    # Which groups is sealed; the audit counts them and names none.
    async with sessionmaker() as session:
        [flags] = (await session.execute(select(FormResponse))).scalars().all()
        [entry] = (
            (await session.execute(select(AuditEntry).where(AuditEntry.action == "priority.set")))
            .scalars()
            .all()
        )
    assert b"women" not in flags.answers_enc and b"trauma" not in flags.answers_enc
    assert entry.details == {"groups": 2}
    # Clearing the flags takes the case out again; a group the bot knows cannot be cleared this way.
    assert (await set_groups(client, "IP-2026-000002", [])).status_code == 303
    assert (await stored(sessionmaker, "IP-2026-000002")).priority is False
    assert (await set_groups(client, "IP-2026-000004", [])).status_code == 303
    assert (await stored(sessionmaker, "IP-2026-000004")).priority is True
    overview = soup(await client.get("/cases/IP-2026-000004"))
    assert "from the bot's answers" in overview.select_one("label[for=priority-children]").parent.text


async def test_an_unaccompanied_child_in_the_interview_counts_and_a_forged_group_changes_nothing(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_cases: SeedCases,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("leyla")
    [case] = await seed_cases({"code": "IP-2026-000010", "assigned_to": me.id, "stage": "screening"})
    async with sessionmaker() as session:
        await person_keys.load_for_case(session, crypto, case.id)
        response = FormResponse(case_id=case.id, form_id="interview", form_version=1, source="bot")
        seal_json(crypto, response, "answers_enc", {"unaccompanied_child": "yes"})
        session.add(response)
        await session.commit()
    async with sessionmaker() as session:
        groups = await casework.priority_groups(session, crypto, cases=[await session.get(Case, case.id)])
    assert groups[case.id] == ({"children"}, set())
    before = await stored(sessionmaker, "IP-2026-000010")
    forged = await set_groups(client, "IP-2026-000010", ["women", "vip"])
    assert forged.status_code == 400 and "Choose only from the listed priority groups." in forged.text
    after = await stored(sessionmaker, "IP-2026-000010")
    assert (after.priority, after.version) == (before.priority, before.version)


@pytest.fixture
def explain(database: Database) -> Callable[[AsyncSession, str], Awaitable[str]]:
    async def plan(session: AsyncSession, statement: str) -> str:
        if database.backend == "sqlite":
            rows = (await session.execute(text("EXPLAIN QUERY PLAN " + statement))).all()
            return "\n".join(str(row[-1]) for row in rows)
        # A test database is tiny: make the planner show whether it *can* use the index.
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        await session.execute(text("SET LOCAL enable_sort = off"))
        return "\n".join(row[0] for row in (await session.execute(text("EXPLAIN " + statement))).all())

    return plan


async def test_the_queue_is_read_in_order_from_its_index_without_a_scan_or_a_sort(
    seed_cases: SeedCases,
    sessionmaker: async_sessionmaker[AsyncSession],
    explain: Callable[[AsyncSession, str], Awaitable[str]],
) -> None:
    await seed_cases(*({"code": f"IP-2026-{n:06d}", "urgent": n % 7 == 0} for n in range(1, 30)))
    async with sessionmaker() as session, session.begin():
        dialect = session.get_bind().dialect
        sql = str(
            casework.queue_statement(limit=50, offset=50).compile(
                dialect=dialect, compile_kwargs={"literal_binds": True}
            )
        )
        plan = await explain(session, sql)
    assert "ix_cases_queue" in plan, plan
    assert "TEMP B-TREE" not in plan and "Seq Scan" not in plan, plan
    assert not [line for line in plan.splitlines() if line.strip().startswith(("SCAN cases", "Sort"))], plan
