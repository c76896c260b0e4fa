"""Issue 15 §4: an administrator resets a password (a temporary one the holder must change before
anything else works), changes a role (through a supervisor when it opens more case data) and a
language; every holder changes their own password and language; the sign-in page's language stays."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseworker_console.auth import hash_token
from storage import staff
from storage.models import AuditEntry, StaffSession, StaffUser, utcnow
from tests.console.conftest import PASSWORD, form_token

SignIn = Callable[..., Awaitable[StaffUser]]
MakeUser = Callable[..., Awaitable[StaffUser]]
Login = Callable[..., Awaitable[httpx.Response]]

NEW_PASSWORD = "a kettle of plov by the caspian"


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


async def stored(sessionmaker: async_sessionmaker[AsyncSession], username: str) -> StaffUser:
    async with sessionmaker() as session:
        return (await session.execute(select(StaffUser).where(StaffUser.username == username))).scalar_one()


async def actions_on(sessionmaker: async_sessionmaker[AsyncSession], user: StaffUser) -> list[str]:
    async with sessionmaker() as session:
        statement = (
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "staff_user", AuditEntry.object_id == str(user.id))
            .order_by(AuditEntry.id)
        )
        return list((await session.execute(statement)).scalars())


async def reset(client: httpx.AsyncClient, target: StaffUser) -> str:
    page = await client.get("/accounts")
    answer = await client.post(f"/accounts/{target.id}/password", data={"csrf_token": form_token(page)})
    assert answer.status_code == 200
    shown = soup(answer).select_one("#temporary-value")
    assert shown is not None
    return shown.get_text()


async def test_a_reset_password_works_once_to_choose_ones_own_and_nothing_else_opens_before(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    make_user: MakeUser,
    login: Login,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    omar = await make_user("omar")
    await sign_in_as("admin1", role="admin")
    temporary = await reset(client, omar)
    assert len(temporary) == 19 and temporary.count("-") == 3
    account = await stored(sessionmaker, "omar")
    assert account.must_change_password and temporary not in account.password_hash

    client.cookies.clear()
    assert (await login("omar")).status_code == 400  # the old password is gone
    assert (await login("omar", temporary)).status_code == 303
    for path in ("/queue", "/cases", "/partners", "/calendar-feed"):
        held = await client.get(path)
        assert (held.status_code, held.headers["location"]) == (303, "/account"), path
    page = await client.get("/account")
    assert soup(page).select_one("#must-change") is not None
    assert soup(page).select_one("nav.site-nav a[href='/queue']") is None
    # A POST elsewhere, even with the right token, does not run either.
    taken = await client.post("/account/telegram/code", data={"csrf_token": form_token(page)})
    assert taken.status_code == 303

    wrong = await client.post(
        "/account/password",
        data={
            "csrf_token": form_token(page),
            "current": "not it",
            "new": NEW_PASSWORD,
            "repeated": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 400
    assert "current password is not right" in soup(wrong).select_one("#password-error").get_text()
    same = await client.post(
        "/account/password",
        data={"csrf_token": form_token(page), "current": temporary, "new": temporary, "repeated": temporary},
    )
    assert same.status_code == 400
    changed = await client.post(
        "/account/password",
        data={
            "csrf_token": form_token(page),
            "current": temporary,
            "new": NEW_PASSWORD,
            "repeated": NEW_PASSWORD,
        },
    )
    assert (changed.status_code, changed.headers["location"]) == (303, "/account?changed=password")
    assert (await client.get("/queue")).status_code == 200  # the same session goes on
    assert not (await stored(sessionmaker, "omar")).must_change_password
    client.cookies.clear()
    assert (await login("omar", temporary)).status_code == 400
    assert (await login("omar", NEW_PASSWORD)).status_code == 303
    assert {"staff.password_reset", "staff.password_changed"} <= set(await actions_on(sessionmaker, omar))


async def test_a_reset_ends_the_holders_sessions_and_lifts_a_lock(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    pari = await sign_in_as("pari")
    async with sessionmaker() as session:
        await session.execute(
            StaffUser.__table__.update().where(StaffUser.id == pari.id).values(failed_logins=7)
        )
        await session.commit()
    await sign_in_as("admin1", role="admin")
    await reset(client, pari)
    async with sessionmaker() as session:
        sessions = (await session.execute(select(StaffSession).where(StaffSession.user_id == pari.id))).all()
    assert sessions == []
    assert (await stored(sessionmaker, "pari")).failed_logins == 0


async def test_changing_ones_own_password_checks_the_rules_and_ends_the_other_sessions(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    me = await sign_in_as("leyla")
    page = await client.get("/account")
    token = form_token(page)
    async with sessionmaker() as session:  # a second browser of the same person
        await staff.create_session(
            session, session_id=hash_token("other"), user_id=me.id, csrf_token="x", at=utcnow()
        )
        await session.commit()
    for new, repeated, fragment in [
        ("short", "short", "at least 8"),
        ("password123", "password123", "most common"),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "differ"),
        ("leyla", "leyla", "at least 8"),
    ]:
        refused = await client.post(
            "/account/password",
            data={"csrf_token": token, "current": PASSWORD, "new": new, "repeated": repeated},
        )
        assert refused.status_code == 400
        assert fragment in soup(refused).select_one("#password-error").get_text()
    forged = await client.post(
        "/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD, "repeated": NEW_PASSWORD}
    )
    assert forged.status_code == 403
    done = await client.post(
        "/account/password",
        data={"csrf_token": token, "current": PASSWORD, "new": NEW_PASSWORD, "repeated": NEW_PASSWORD},
    )
    assert done.status_code == 303
    async with sessionmaker() as session:
        left = (
            (await session.execute(select(StaffSession.id).where(StaffSession.user_id == me.id)))
            .scalars()
            .all()
        )
    assert len(left) == 1 and hash_token("other") not in left


async def test_an_administrator_made_account_starts_with_a_temporary_password(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    login: Login,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await sign_in_as("admin1", role="admin")
    page = await client.get("/accounts")
    made = await client.post(
        "/accounts",
        data={
            "csrf_token": form_token(page),
            "username": "tural",
            "display_name": "Tural",
            "role": "outreach",
            "language": "en",
            "password": "chosen by the administrator",
        },
    )
    assert made.status_code == 303
    assert (await stored(sessionmaker, "tural")).must_change_password
    client.cookies.clear()
    assert (await login("tural", "chosen by the administrator")).status_code == 303
    assert (await client.get("/channels")).headers["location"] == "/account"


async def test_a_role_that_opens_more_case_data_waits_for_a_supervisor_and_less_holds_at_once(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    officer = await make_user("nigar", role="outreach")
    worker = await make_user("samir", role="caseworker")
    chief = await make_user("aysel", role="supervisor")
    me = await sign_in_as("admin1", role="admin")
    page = await client.get("/accounts")
    token = form_token(page)

    promoted = await client.post(
        f"/accounts/{officer.id}/role", data={"csrf_token": token, "role": "caseworker"}
    )
    assert promoted.status_code == 200
    assert "waits for a supervisor" in soup(promoted).select_one("#account-done").get_text()
    # Meanwhile she works on as an outreach officer.
    nigar = await stored(sessionmaker, "nigar")
    assert (nigar.role, nigar.active, nigar.awaiting_approval) == ("outreach", True, True)
    assert nigar.pending_role == "caseworker"
    assert "staff.grant_requested" in await actions_on(sessionmaker, officer)
    listed = soup(await client.get("/accounts")).select_one("tr[data-account='nigar'] [data-awaiting]")
    assert listed is not None and "Caseworker" in listed.get_text()

    up = await client.post(f"/accounts/{worker.id}/role", data={"csrf_token": token, "role": "supervisor"})
    assert up.status_code == 200
    assert (await stored(sessionmaker, "samir")).awaiting_approval

    down = await client.post(f"/accounts/{chief.id}/role", data={"csrf_token": token, "role": "caseworker"})
    assert down.status_code == 200
    aysel = await stored(sessionmaker, "aysel")
    assert (aysel.role, aysel.active, aysel.awaiting_approval) == ("caseworker", True, False)
    assert "staff.role_changed" in await actions_on(sessionmaker, chief)

    own_reset = await client.post(f"/accounts/{me.id}/password", data={"csrf_token": token})
    assert (own_reset.status_code, own_reset.headers["location"]) == (303, "/account")
    assert not (await stored(sessionmaker, "admin1")).must_change_password
    own = await client.post(f"/accounts/{me.id}/role", data={"csrf_token": token, "role": "supervisor"})
    assert own.status_code == 400
    assert (await stored(sessionmaker, "admin1")).role == "admin"
    again = await client.post(f"/accounts/{officer.id}/role", data={"csrf_token": token, "role": "admin"})
    assert again.status_code == 400  # it waits: a supervisor decides first

    # The supervisor sees the request under "Access to cases" and approves it.
    await sign_in_as("boss", role="supervisor")
    grants = await client.get("/grants")
    assert soup(grants).select_one('tr[data-account="nigar"]') is not None
    approved = await client.post(f"/grants/{officer.id}/approve", data={"csrf_token": form_token(grants)})
    assert approved.status_code == 303
    assert (await stored(sessionmaker, "nigar")).active


@pytest.mark.parametrize(
    "hostile",
    ["root", "<script>alert(1)</script>", "supervisor' OR '1'='1", "", "x" * 5000, "caseworker\x00"],
)
async def test_a_forged_role_or_language_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    hostile: str,
) -> None:
    target = await make_user("farid", role="outreach")
    await sign_in_as("admin1", role="admin")
    token = form_token(await client.get("/accounts"))
    role = await client.post(f"/accounts/{target.id}/role", data={"csrf_token": token, "role": hostile})
    language = await client.post(
        f"/accounts/{target.id}/language", data={"csrf_token": token, "language": hostile}
    )
    assert (role.status_code, language.status_code) == (400, 400)
    assert "<script>" not in role.text.replace("&lt;script&gt;", "")
    for answer in (role, language):
        assert soup(answer).select_one("#account-error") is not None
    account = await stored(sessionmaker, "farid")
    assert (account.role, account.language, account.active) == ("outreach", "en", True)
    own = await client.post("/account/language", data={"csrf_token": token, "language": hostile})
    assert own.status_code == 400
    assert (await stored(sessionmaker, "admin1")).language == "en"
    for path in ("/accounts/99999/role", "/accounts/x/language", "/accounts/1e3/password"):
        assert (await client.post(path, data={"csrf_token": token, "role": "admin"})).status_code == 404


async def test_account_changes_need_an_administrator_and_the_forms_token(
    client: httpx.AsyncClient, sign_in_as: SignIn, make_user: MakeUser
) -> None:
    target = await make_user("ilham")
    await sign_in_as("boss", role="supervisor")
    token = form_token(await client.get("/account"))
    for what in ("password", "role", "language"):
        answer = await client.post(
            f"/accounts/{target.id}/{what}", data={"csrf_token": token, "role": "admin"}
        )
        assert answer.status_code == 403
    await sign_in_as("admin1", role="admin")
    assert (await client.post(f"/accounts/{target.id}/password", data={})).status_code == 403


async def test_languages_set_by_the_administrator_by_oneself_and_on_the_sign_in_page_are_kept(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    make_user: MakeUser,
    login: Login,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    target = await make_user("rena")
    await sign_in_as("admin1", role="admin")
    token = form_token(await client.get("/accounts"))
    assert (
        await client.post(f"/accounts/{target.id}/language", data={"csrf_token": token, "language": "ru"})
    ).status_code == 200
    assert (await stored(sessionmaker, "rena")).language == "ru"

    client.cookies.clear()
    assert (await login("rena", query="?lang=az")).status_code == 303
    assert (await stored(sessionmaker, "rena")).language == "az"
    page = await client.get("/account")
    assert soup(page).html["lang"] == "az"

    changed = await client.post("/account/language", data={"csrf_token": form_token(page), "language": "en"})
    assert changed.headers["location"] == "/account?changed=language"
    assert soup(await client.get("/account")).html["lang"] == "en"
    client.cookies.clear()
    assert (await login("rena")).status_code == 303  # no ?lang=: the stored one stays
    assert (await stored(sessionmaker, "rena")).language == "en"
    assert (await actions_on(sessionmaker, target)).count("staff.language_set") == 3


async def test_an_administrator_cannot_disable_their_own_account(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    me = await sign_in_as("admin1", role="admin")
    token = form_token(await client.get("/accounts"))
    refused = await client.post(f"/accounts/{me.id}/active", data={"csrf_token": token, "active": "0"})
    assert refused.status_code == 400
    assert "You cannot disable your own account." in refused.text
    assert (await stored(sessionmaker, "admin1")).active
    assert await actions_on(sessionmaker, me) == []
    assert (await client.get("/accounts")).status_code == 200  # still signed in
