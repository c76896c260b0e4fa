"""The supervisors' audit page: filters, paging, names; and the audit table stays append-only."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from caseworker_console.permissions import Permission
from storage.models import AuditEntry, Case, StaffUser
from tests.console.conftest import form_token
from tests.console.test_console_authorization import (
    World,
    cells,
    console_routes,
    make_campaign,
    make_channel,
    path_for,
)

SignIn = Callable[..., Awaitable[StaffUser]]
MakeUser = Callable[..., Awaitable[StaffUser]]

BAKU = dt.timezone(dt.timedelta(hours=4))


def entries(response: httpx.Response) -> list[tuple[str, str, str, str]]:
    """Each row's person, action code (shown next to its label), object and details."""
    assert response.status_code == 200, response.status_code
    page = BeautifulSoup(response.text, "lxml")
    return [
        (
            row.select_one(".audit-actor").get_text(),
            row.select_one(".audit-action code").get_text(),
            row.select_one(".audit-object").get_text(),
            row.select_one(".audit-details").get_text(),
        )
        for row in page.select("tr.audit-entry")
    ]


async def add_entries(sessionmaker: async_sessionmaker[AsyncSession], *rows: dict[str, Any]) -> None:
    async with sessionmaker() as session:
        session.add_all(AuditEntry(object_type="case", details={}, **row) for row in rows)
        await session.commit()


async def test_supervisors_filter_the_log_by_person_action_case_and_day(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    worker = await make_user("vugar", display_name="Vugar")
    day = dt.datetime(2026, 3, 10, 12, 0, tzinfo=BAKU)
    await add_entries(
        sessionmaker,
        {
            "at": day,
            "actor": f"staff:{worker.id}",
            "action": "identity.revealed",
            "object_id": "IP-2026-000001",
        },
        {
            "at": day + dt.timedelta(hours=1),
            "actor": f"staff:{worker.id}",
            "action": "case.viewed",
            "object_id": "IP-2026-000002",
        },
        {
            "at": day + dt.timedelta(days=1),
            "actor": "bot",
            "action": "case.opened",
            "object_id": "IP-2026-000003",
        },
        # 23:30 in Baku on the 9th is still the 9th in the office, though the 9th 19:30 in UTC.
        {
            "at": dt.datetime(2026, 3, 9, 23, 30, tzinfo=BAKU),
            "actor": "bot",
            "action": "case.opened",
            "object_id": "IP-2026-000004",
        },
    )
    await sign_in_as("yegana", role="supervisor")

    everything = entries(await client.get("/audit"))
    # Newest first; this view's own entry is written after the page was read.
    assert [row[2] for row in everything] == [
        "Case IP-2026-000003",
        "Case IP-2026-000002",
        "Case IP-2026-000001",
        "Case IP-2026-000004",
    ]
    by_person = entries(await client.get("/audit", params={"actor": f"staff:{worker.id}"}))
    assert [(row[0], row[1]) for row in by_person] == [
        ("Vugar", "case.viewed"),
        ("Vugar", "identity.revealed"),
    ]
    assert [row[2] for row in entries(await client.get("/audit", params={"action": "case.opened"}))] == [
        "Case IP-2026-000003",
        "Case IP-2026-000004",
    ]
    assert [row[1] for row in entries(await client.get("/audit", params={"case": "ip-2026-000001"}))] == [
        "identity.revealed"
    ]
    one_day = entries(await client.get("/audit", params={"from": "2026-03-10", "to": "2026-03-10"}))
    assert [row[2] for row in one_day] == ["Case IP-2026-000002", "Case IP-2026-000001"]
    assert [row[2] for row in entries(await client.get("/audit", params={"to": "2026-03-09"}))] == [
        "Case IP-2026-000004"
    ]
    nonsense = await client.get("/audit", params={"from": "yesterday", "page": "-3", "actor": "x" * 500})
    assert nonsense.status_code == 200


async def test_the_log_pages_by_fifty_keeping_the_filters(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    await add_entries(
        sessionmaker,
        *(
            {
                "at": start + dt.timedelta(minutes=number),
                "actor": "bot",
                "action": "case.opened",
                "object_id": f"IP-2026-{number:06d}",
            }
            for number in range(1, 56)
        ),
    )
    await sign_in_as("zahra", role="supervisor")
    first = await client.get("/audit", params={"action": "case.opened"})
    assert len(entries(first)) == 50
    next_link = BeautifulSoup(first.text, "lxml").select_one("a[rel=next]")
    assert next_link["href"] == "/audit?action=case.opened&page=2"
    second = entries(await client.get(str(next_link["href"])))
    assert [row[2] for row in second] == [f"Case IP-2026-{number:06d}" for number in range(5, 0, -1)]


async def test_reading_the_log_is_itself_audited(client: httpx.AsyncClient, sign_in_as: SignIn) -> None:
    me = await sign_in_as("anar", role="supervisor", display_name="Anar")
    await client.get("/audit")
    assert entries(await client.get("/audit"))[0] == ("Anar", "audit.viewed", "Audit log", "page: 1")
    assert me.id


def test_the_audit_log_has_no_route_but_reading(app: Starlette) -> None:
    audit_routes = [route for route in console_routes(app) if route.permission is Permission.AUDIT]
    assert [(route.path, route.method) for route in audit_routes] == [("/audit", "GET")]


WRITES_TO_AUDIT = re.compile(
    r"^\s*(UPDATE|DELETE\s+FROM|TRUNCATE|DROP|ALTER)\b[^;]*\baudit_log\b", re.IGNORECASE
)


async def test_no_route_ever_updates_or_deletes_audit_entries(
    app: Starlette,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    make_user: MakeUser,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Every route, GET and POST, with data that makes the writes happen, as a supervisor."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        other = await make_user("bahram")
        bystander = await make_user("ceyhun")
        me = await sign_in_as("dunya", role="supervisor")
        world = World(me, other, bystander)
        channel_id = await make_channel(sessionmaker)
        campaign_id = await make_campaign(sessionmaker, me.id)
        plan = [(route, world.case(relation) if relation else None) for route, relation in cells(app)]
        async with sessionmaker() as session:
            session.add_all([case for _, case in plan if case is not None])
            await session.commit()
        token = form_token(await client.get("/cases"))
        answers = {
            "reason": "withdrew",
            "to": "screening",
            "staff_id": str(other.id),
            "resides_for_reason": "yes",
            "has_permit": "yes",
            "directions": "language",
            "impairment": "no",
            "eligible": "yes",
            "venue": "office",
            "summary": "Notes",
            "active": "0",
            "name": "Campus",
            "kind": "university",
            "languages": "en",
        }
        for route, case in plan:
            path = path_for(
                route,
                code=case.code if case else "IP-2027-999999",
                user_id=bystander.id,
                channel_id=channel_id,
                campaign_id=campaign_id,
            )
            if route.method == "GET":
                await client.get(path)
            else:
                version = str(case.version) if isinstance(case, Case) else "1"
                await client.post(path, data={"csrf_token": token, "version": version, **answers})
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert any(re.search(r"INSERT INTO audit_log", statement) for statement in statements)
    assert [statement for statement in statements if WRITES_TO_AUDIT.search(statement)] == []
