"""No role grants itself more: an account an administrator makes or enables with a role that reads cases
waits, disabled, until a supervisor approves it; every grant is audited and listed for supervisors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseworker_console.accounts import authenticate, create_user
from storage.models import AuditEntry, StaffUser
from tests.console.conftest import PASSWORD, form_token

SignIn = Callable[..., Awaitable[StaffUser]]
MakeUser = Callable[..., Awaitable[StaffUser]]


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


async def account(sessionmaker: async_sessionmaker[AsyncSession], username: str) -> StaffUser:
    async with sessionmaker() as session:
        return (await session.execute(select(StaffUser).where(StaffUser.username == username))).scalar_one()


async def entries(
    sessionmaker: async_sessionmaker[AsyncSession], user: StaffUser
) -> list[tuple[str, str, dict]]:
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(AuditEntry)
                .where(AuditEntry.object_type == "staff_user", AuditEntry.object_id == str(user.id))
                .order_by(AuditEntry.id)
            )
        ).scalars()
        return [(row.actor, row.action, row.details) for row in rows]


async def can_sign_in(sessionmaker: async_sessionmaker[AsyncSession], username: str) -> bool:
    async with sessionmaker() as session:
        return await authenticate(session, username=username, password=PASSWORD) is not None


async def create(client: httpx.AsyncClient, username: str, role: str) -> httpx.Response:
    token = form_token(await client.get("/accounts"))
    data = {"csrf_token": token, "username": username, "password": PASSWORD, "role": role, "language": "en"}
    return await client.post("/accounts", data=data)


async def test_an_administrators_new_supervisor_opens_no_case_until_another_supervisor_approves_it(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await sign_in_as("root1", role="admin")
    assert (await create(client, "mallory", "supervisor")).status_code == 303
    new = await account(sessionmaker, "mallory")
    assert (new.active, new.awaiting_approval) == (False, True)
    assert not await can_sign_in(sessionmaker, "mallory")
    row = soup(await client.get("/accounts")).select_one("tr[data-account=mallory]")
    assert row.select_one("[data-awaiting]") is not None
    # The administrator cannot enable it past the approval, nor approve it.
    assert row.select("form[action$='/active']") == []
    token = form_token(await client.get("/accounts"))
    await client.post(f"/accounts/{new.id}/active", data={"csrf_token": token, "active": "1"})
    assert not (await account(sessionmaker, "mallory")).active
    assert (await client.post(f"/grants/{new.id}/approve", data={"csrf_token": token})).status_code == 403
    assert (await client.get("/grants")).status_code == 403

    supervisor = await sign_in_as("sara", role="supervisor", display_name="Sara")
    page = await client.get("/grants")
    waiting = soup(page).select_one(".grants-waiting tr[data-account=mallory]")
    assert waiting is not None
    assert "Supervisor" in waiting.get_text()
    token = form_token(page)
    approved = await client.post(f"/grants/{new.id}/approve", data={"csrf_token": token})
    assert approved.status_code == 303
    # A second tap (or a second supervisor at once) changes nothing more.
    again = await client.post(f"/grants/{new.id}/approve", data={"csrf_token": token})
    assert again.status_code == 409
    assert "no longer waits" in soup(again).select_one("[role=alert]").get_text()
    assert (await account(sessionmaker, "mallory")).active
    assert await can_sign_in(sessionmaker, "mallory")
    assert [(actor, action, details) for actor, action, details in await entries(sessionmaker, new)][:2] == [
        (f"staff:{admin.id}", "staff.created", {"role": "supervisor", "awaiting_approval": True}),
        (f"staff:{supervisor.id}", "staff.grant_approved", {"role": "supervisor"}),
    ]
    recent = [
        item.get_text(" ", strip=True)
        for item in soup(await client.get("/grants")).select(".grants-recent li")
    ]
    assert any("mallory" in line and "approved" in line and "Sara" in line for line in recent)
    assert any("mallory" in line and "made with access to cases" in line for line in recent)
    assert soup(await client.get("/grants")).select(".grants-waiting") == []


async def test_enabling_a_caseworker_asks_a_supervisor_and_a_refusal_leaves_it_disabled(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    worker = await make_user("old.worker", role="caseworker")
    await sign_in_as("root1", role="admin")
    token = form_token(await client.get("/accounts"))
    for active in ("0", "1"):
        response = await client.post(
            f"/accounts/{worker.id}/active", data={"csrf_token": token, "active": active}
        )
        assert response.status_code == 303
    stored = await account(sessionmaker, "old.worker")
    assert (stored.active, stored.awaiting_approval) == (False, True)

    await sign_in_as("sara", role="supervisor")
    token = form_token(await client.get("/grants"))
    assert (await client.post(f"/grants/{worker.id}/refuse", data={"csrf_token": token})).status_code == 303
    stored = await account(sessionmaker, "old.worker")
    assert (stored.active, stored.awaiting_approval) == (False, False)
    assert [action for _, action, _ in await entries(sessionmaker, worker)] == [
        "staff.disabled",
        "staff.grant_requested",
        "staff.grant_refused",
    ]
    # Refused is decided: approving it afterwards is refused too.
    assert (await client.post(f"/grants/{worker.id}/approve", data={"csrf_token": token})).status_code == 409
    assert not (await account(sessionmaker, "old.worker")).active


async def test_roles_without_case_data_and_the_command_line_need_no_second_person(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("root1", role="admin")
    assert (await create(client, "river", "outreach")).status_code == 303
    assert (await create(client, "root2", "admin")).status_code == 303
    for username in ("river", "root2"):
        stored = await account(sessionmaker, username)
        assert (stored.active, stored.awaiting_approval) == (True, False)
    # Whoever holds the server makes a supervisor directly (`intake create-user`), audited.
    async with sessionmaker() as session:
        held = await create_user(session, username="head.office", password=PASSWORD, role="supervisor")
        await session.commit()
    assert (await account(sessionmaker, "head.office")).active
    assert await entries(sessionmaker, held) == [("system", "staff.created", {"role": "supervisor"})]


async def test_a_forged_or_unknown_account_on_the_grants_page_is_not_found(
    client: httpx.AsyncClient, sign_in_as: SignIn
) -> None:
    await sign_in_as("sara", role="supervisor")
    token = form_token(await client.get("/grants"))
    for target in ("999999", "abc", "1" * 40, "-1"):
        response = await client.post(f"/grants/{target}/approve", data={"csrf_token": token})
        assert response.status_code == 404, target
    assert (await client.post("/grants/1/approve", data={})).status_code == 403  # no CSRF token


async def test_a_role_change_waits_with_the_account_at_work_and_only_approval_gives_the_new_role(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    approved = await make_user("nigar", role="outreach")
    refused = await make_user("ilkin", role="outreach")
    await sign_in_as("root1", role="admin")
    token = form_token(await client.get("/accounts"))
    for person in (approved, refused):
        asked = await client.post(
            f"/accounts/{person.id}/role", data={"csrf_token": token, "role": "supervisor"}
        )
        assert asked.status_code == 200
    for username in ("nigar", "ilkin"):
        waiting = await account(sessionmaker, username)
        assert (waiting.role, waiting.active, waiting.pending_role) == ("outreach", True, "supervisor")
        assert await can_sign_in(sessionmaker, username)
    # While it waits, the administrator cannot change it again.
    again = await client.post(
        f"/accounts/{approved.id}/role", data={"csrf_token": token, "role": "caseworker"}
    )
    assert (await account(sessionmaker, "nigar")).pending_role == "supervisor" and again.status_code != 303

    await sign_in_as("sara", role="supervisor")
    page = soup(await client.get("/grants"))
    row = page.select_one("tr[data-account='nigar']")
    assert row is not None and "Supervisor" in row.get_text()
    token = form_token(await client.get("/grants"))
    assert (
        await client.post(f"/grants/{approved.id}/approve", data={"csrf_token": token})
    ).status_code == 303
    assert (await client.post(f"/grants/{refused.id}/refuse", data={"csrf_token": token})).status_code == 303
    nigar, ilkin = await account(sessionmaker, "nigar"), await account(sessionmaker, "ilkin")
    assert (nigar.role, nigar.active, nigar.awaiting_approval, nigar.pending_role) == (
        "supervisor", True, False, None,
    )  # fmt: skip
    assert (ilkin.role, ilkin.active, ilkin.awaiting_approval, ilkin.pending_role) == (
        "outreach", True, False, None,
    )  # fmt: skip
    assert [(action, details) for _, action, details in await entries(sessionmaker, approved)][-1] == (
        "staff.grant_approved",
        {"role": "supervisor"},
    )
    assert [(action, details) for _, action, details in await entries(sessionmaker, refused)][-1] == (
        "staff.grant_refused",
        {"role": "supervisor"},
    )
