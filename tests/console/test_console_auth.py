"""Signing in and out over HTTP: cookies, session regeneration, lockout, CSRF, timeouts, redirects."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.routing import Route

from caseworker_console import accounts
from caseworker_console.accounts import MAX_FAILED_LOGINS
from caseworker_console.app import create_app
from caseworker_console.auth import SESSION_COOKIE
from caseworker_console.throttle import PAIR_FAILURES, SOURCE_FAILURES
from storage import staff
from storage.crypto import Crypto
from storage.engine import create_engine, create_sessionmaker
from storage.models import AuditEntry, StaffSession, StaffUser
from tests.console.conftest import ConsoleClock

PASSWORD = "correct horse battery staple"

MakeUser = Callable[..., Awaitable[StaffUser]]
Login = Callable[..., Awaitable[httpx.Response]]


def set_cookie_headers(response: httpx.Response, name: str) -> list[str]:
    return [value for value in response.headers.get_list("set-cookie") if value.startswith(f"{name}=")]


def csrf_of(response: httpx.Response) -> str:
    field = BeautifulSoup(response.text, "lxml").select_one("input[name=csrf_token]")
    assert field is not None
    return str(field["value"])


async def stored_sessions(sessionmaker: async_sessionmaker[AsyncSession]) -> list[StaffSession]:
    async with sessionmaker() as session:
        return list((await session.execute(select(StaffSession))).scalars())


async def test_login_page_labels_every_field_and_sets_a_csrf_cookie(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")
    assert response.status_code == 200
    page = BeautifulSoup(response.text, "lxml")
    form = page.select_one("form[method=post]")
    assert form is not None
    for field in form.select("input:not([type=hidden])"):
        assert page.select_one(f"label[for={field['id']}]") is not None, field
    assert {field["name"] for field in form.select("input")} == {"csrf_token", "username", "password"}
    assert set_cookie_headers(response, "intake_login_csrf")
    assert page.select_one("a.skip-link")["href"] == "#main"


async def test_login_sets_an_httponly_samesite_cookie_holding_a_token_stored_only_as_its_hash(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    login: Login,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    user = await make_user("hana")
    response = await login("hana")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    [cookie] = set_cookie_headers(response, SESSION_COOKIE)
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= attributes
    assert "secure" not in attributes
    token = client.cookies[SESSION_COOKIE]
    assert len(token) >= 43
    [record] = await stored_sessions(sessionmaker)
    assert record.user_id == user.id
    assert record.id == hashlib.sha256(token.encode()).hexdigest()
    assert (await client.get("/cases")).status_code == 200


async def test_secure_cookies_are_marked_secure_and_the_login_token_cookie_is_host_bound(
    sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    await make_user("ivan")
    app = create_app(sessionmaker=sessionmaker, secure_cookies=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://console.test") as client:
        page = await client.get("/login")
        [csrf_cookie] = set_cookie_headers(page, "__Host-intake_login_csrf")
        assert "secure" in csrf_cookie.lower()
        response = await client.post(
            "/login", data={"username": "ivan", "password": PASSWORD, "csrf_token": csrf_of(page)}
        )
        [cookie] = set_cookie_headers(response, SESSION_COOKIE)
    assert response.status_code == 303
    assert "; secure" in cookie.lower()


async def test_login_always_issues_a_new_session_and_ends_the_one_it_replaces(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    login: Login,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_user("jack")
    client.cookies.set(SESSION_COOKIE, "planted-by-someone-else", domain="console.test")
    form = await client.get("/login")
    credentials = {"username": "jack", "password": PASSWORD, "csrf_token": csrf_of(form)}
    await client.post("/login", data=credentials)
    first = client.cookies[SESSION_COOKIE]
    assert first != "planted-by-someone-else"

    # Signing in again from a sign-in form still open in another tab.
    await client.post("/login", data=credentials)
    second = client.cookies[SESSION_COOKIE]
    assert second != first
    assert [record.id for record in await stored_sessions(sessionmaker)] == [
        hashlib.sha256(second.encode()).hexdigest()
    ]
    client.cookies.set(SESSION_COOKIE, first, domain="console.test")
    assert (await client.get("/cases")).status_code == 303


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: httpx.AsyncClient, make_user: MakeUser, login: Login
) -> None:
    await make_user("kemal")
    wrong_password = await login("kemal", "not the password")
    unknown_user = await login("nobodyhere", "not the password")
    assert wrong_password.status_code == unknown_user.status_code == 400
    assert SESSION_COOKIE not in client.cookies

    def without_typed_name(response: httpx.Response, name: str) -> str:
        return response.text.replace(f'value="{name}"', 'value=""')

    assert without_typed_name(wrong_password, "kemal") == without_typed_name(unknown_user, "nobodyhere")
    alert = BeautifulSoup(wrong_password.text, "lxml").select_one("[role=alert]")
    assert alert is not None
    assert "username or password is not right" in alert.get_text()


async def test_six_failures_lock_the_account_and_the_lock_looks_like_a_wrong_password(
    client: httpx.AsyncClient, make_user: MakeUser, login: Login
) -> None:
    await make_user("lale")
    failures = [await login("lale", f"guess number {attempt}") for attempt in range(PAIR_FAILURES)]
    locked = await login("lale", PASSWORD)
    assert locked.status_code == 400
    assert SESSION_COOKIE not in client.cookies
    assert locked.text == failures[-1].text


async def test_login_without_the_form_token_is_refused(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await make_user("mina")
    page = await client.get("/login")
    token = csrf_of(page)
    credentials = {"username": "mina", "password": PASSWORD}

    missing = await client.post("/login", data=credentials)
    forged = await client.post("/login", data={**credentials, "csrf_token": "x" * 43})
    cross_site = await client.post(
        "/login", data={**credentials, "csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert [missing.status_code, forged.status_code, cross_site.status_code] == [403, 403, 403]
    assert SESSION_COOKIE not in client.cookies
    heading = BeautifulSoup(missing.text, "lxml").select_one("h1")
    assert heading is not None
    assert heading.get_text() == "This form has expired"


async def test_every_post_route_refuses_a_request_without_its_csrf_token(
    app: Starlette, client: httpx.AsyncClient, make_user: MakeUser, login: Login
) -> None:
    await make_user("nadia")
    await login("nadia")
    post_paths = {
        route.path for route in app.routes if isinstance(route, Route) and "POST" in (route.methods or ())
    }
    assert post_paths >= {"/login", "/logout"}
    for path in sorted(post_paths):
        response = await client.post(path, data={"csrf_token": "wrong"})
        assert response.status_code == 403, path
    assert (await client.get("/cases")).status_code == 200


async def test_logout_ends_the_session_so_the_old_cookie_no_longer_works(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    login: Login,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_user("omar")
    await login("omar")
    token = client.cookies[SESSION_COOKIE]
    cases = await client.get("/cases")
    response = await client.post("/logout", data={"csrf_token": csrf_of(cases)})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert await stored_sessions(sessionmaker) == []

    client.cookies.set(SESSION_COOKIE, token, domain="console.test")
    again = await client.get("/cases")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/login")


async def test_a_session_idle_longer_than_the_limit_ends(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    login: Login,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: ConsoleClock,
    now: dt.datetime,
) -> None:
    await make_user("pari")
    clock.at = now
    await login("pari")
    clock.at = now + dt.timedelta(minutes=29)
    assert (await client.get("/cases")).status_code == 200  # and seen then

    clock.at += dt.timedelta(minutes=29)
    assert (await client.get("/cases")).status_code == 200
    clock.at += dt.timedelta(minutes=31)
    response = await client.get("/cases")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fcases"
    assert await stored_sessions(sessionmaker) == []


async def test_a_busy_session_still_ends_at_the_absolute_limit(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    login: Login,
    clock: ConsoleClock,
    now: dt.datetime,
) -> None:
    await make_user("rafael")
    clock.at = now
    await login("rafael")
    # Busy all day: never idle for half an hour, until twelve hours have passed since signing in.
    while clock.at < now + dt.timedelta(hours=12) - dt.timedelta(minutes=20):
        clock.at += dt.timedelta(minutes=20)
        assert (await client.get("/cases")).status_code == 200, clock.at - now
    clock.at = now + dt.timedelta(hours=12, minutes=1)
    assert (await client.get("/cases")).status_code == 303


async def test_a_disabled_account_is_signed_out_at_once(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    login: Login,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    user = await make_user("sabina")
    await login("sabina")
    async with sessionmaker() as session:
        await session.execute(update(StaffUser).where(StaffUser.id == user.id).values(active=False))
        await session.commit()
    assert (await client.get("/cases")).status_code == 303
    async with sessionmaker() as session:
        await staff.set_user_active(session, user_id=user.id, active=True)
        await session.commit()
    assert (await client.get("/cases")).status_code == 303


async def test_pages_behind_login_send_anonymous_visitors_to_sign_in(client: httpx.AsyncClient) -> None:
    cases = await client.get("/cases?page=2")
    home = await client.get("/")
    assert (cases.status_code, cases.headers["location"]) == (303, "/login?next=%2Fcases%3Fpage%3D2")
    assert (home.status_code, home.headers["location"]) == (303, "/login?next=%2F")


@pytest.mark.parametrize(
    ("next_path", "landing"),
    [
        ("/cases?page=2", "/cases?page=2"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ],
)
async def test_after_login_only_paths_on_this_site_are_followed(
    client: httpx.AsyncClient, make_user: MakeUser, login: Login, next_path: str, landing: str
) -> None:
    await make_user("tural")
    response = await login("tural", query="?" + str(httpx.QueryParams({"next": next_path})))
    assert response.status_code == 303
    assert response.headers["location"] == landing


async def test_the_start_page_leads_a_caseworker_to_the_cases(
    client: httpx.AsyncClient, make_user: MakeUser, login: Login
) -> None:
    await make_user("ulvi")
    await login("ulvi")
    home = await client.get("/")
    assert (home.status_code, home.headers["location"]) == (303, "/cases")
    # Signed in already: the login page sends them on rather than showing the form again.
    assert (await client.get("/login")).status_code == 303


@pytest.mark.parametrize("role", ["outreach", "admin"])
async def test_roles_without_case_work_cannot_open_the_case_list(
    client: httpx.AsyncClient, make_user: MakeUser, login: Login, role: str
) -> None:
    await make_user("vusal", role=role)
    await login("vusal")
    response = await client.get("/cases")
    assert response.status_code == 403
    assert BeautifulSoup(response.text, "lxml").select_one("h1").get_text() == "No access"


async def test_health_check_answers_without_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_health_check_answers_while_the_database_is_down(
    backend: str, tmp_path: Path, crypto: Crypto
) -> None:
    # Down: nothing listens on port 9; a SQLite "file" that is a directory cannot be opened.
    url = (
        "postgresql+asyncpg://root@127.0.0.1:9/none"
        if backend == "postgresql"
        else f"sqlite+aiosqlite:///{tmp_path}"
    )
    engine = create_engine(url, pool_pre_ping=False)
    app = create_app(sessionmaker=create_sessionmaker(engine), crypto=crypto)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as http:
            health = await http.get("/healthz")
            # A page behind sign-in looks the session up in the database.
            http.cookies.set(SESSION_COOKIE, "a-session")
            signed_in = await http.get("/cases")
    finally:
        await engine.dispose()
    assert (health.status_code, health.text) == (200, "ok")
    assert signed_in.status_code >= 500  # the database is really down for every other page


async def test_session_tokens_never_appear_in_pages(
    client: httpx.AsyncClient, make_user: MakeUser, login: Login
) -> None:
    await make_user("yasmin")
    await login("yasmin")
    page = await client.get("/cases")
    assert client.cookies[SESSION_COOKIE] not in page.text
    assert re.search(r'name="csrf_token" value="[\w-]{43}"', page.text)


def client_from(app: Starlette, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://console.test")


async def sign_in_from(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_of(page)}
    )


async def test_a_name_locked_by_guesses_from_one_address_still_signs_in_from_another(
    app: Starlette, make_user: MakeUser
) -> None:
    await make_user("mina")
    async with client_from(app, "203.0.113.7") as attacker, client_from(app, "198.51.100.20") as mina:
        for attempt in range(PAIR_FAILURES + 3):
            assert (await sign_in_from(attacker, "mina", f"guess {attempt}")).status_code == 400
        # The guesser is refused even with the right password: as for a locked account.
        assert (await sign_in_from(attacker, "mina")).status_code == 400
        assert (await sign_in_from(mina, "mina")).status_code == 303


async def test_an_address_that_keeps_failing_is_refused_before_any_password_is_checked(
    app: Starlette, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_user("nur")
    async with client_from(app, "203.0.113.8") as guesser, client_from(app, "198.51.100.21") as nur:
        for attempt in range(SOURCE_FAILURES):
            assert (await sign_in_from(guesser, f"name{attempt}", "a guess")).status_code == 400
        checked: list[str] = []
        real = accounts.authenticate

        async def counting(*args: object, **kwargs: str) -> object:
            checked.append(kwargs["username"])
            return await real(*args, **kwargs)

        monkeypatch.setattr(accounts, "authenticate", counting)
        refused = await sign_in_from(guesser, "nur")
        assert refused.status_code == 429
        alert = BeautifulSoup(refused.text, "lxml").select_one("[role=alert]")
        assert alert is not None and "Too many failed sign-ins" in alert.get_text()
        assert checked == []
        # Nobody else is held up by that address.
        assert (await sign_in_from(nur, "nur")).status_code == 303
        assert checked == ["nur"]


async def test_guesses_spread_over_many_addresses_still_lock_the_account_until_an_administrator_unlocks_it(
    app: Starlette,
    make_user: MakeUser,
    sign_in_as: Callable[..., Awaitable[StaffUser]],
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    target = await make_user("omar")
    for attempt in range(MAX_FAILED_LOGINS):
        async with client_from(app, f"203.0.113.{attempt + 1}") as guesser:
            assert (await sign_in_from(guesser, "omar", "a guess")).status_code == 400
    async with client_from(app, "198.51.100.22") as omar:
        assert (await sign_in_from(omar, "omar")).status_code == 400  # locked for everyone

    await sign_in_as("admin1", role="admin")
    page = await client.get("/accounts")
    row = BeautifulSoup(page.text, "lxml").select_one('tr[data-account="omar"]')
    assert row is not None and row.select_one("[data-locked]") is not None
    unlocked = await client.post(f"/accounts/{target.id}/unlock", data={"csrf_token": csrf_of(page)})
    assert unlocked.status_code == 303
    async with client_from(app, "198.51.100.22") as omar:
        assert (await sign_in_from(omar, "omar")).status_code == 303
    async with sessionmaker() as session:
        actions = (
            (await session.execute(select(AuditEntry.action).where(AuditEntry.object_id == str(target.id))))
            .scalars()
            .all()
        )
    assert "staff.unlocked" in actions


async def test_only_an_administrator_unlocks_an_account(
    make_user: MakeUser, sign_in_as: Callable[..., Awaitable[StaffUser]], client: httpx.AsyncClient
) -> None:
    target = await make_user("pari")
    await sign_in_as("super1", role="supervisor")
    page = await client.get("/cases")
    refused = await client.post(f"/accounts/{target.id}/unlock", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 403
