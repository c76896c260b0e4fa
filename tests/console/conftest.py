"""The console app on a real database, an HTTP client for it, staff accounts and seeded cases."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from caseworker_console import accounts, i18n
from caseworker_console.app import create_app
from caseworker_console.auth import SESSION_COOKIE, hash_token
from storage import person_keys, staff
from storage.crypto import Crypto
from storage.models import Beneficiary, Case, FormResponse, StaffUser, utcnow
from storage.sealing import seal, seal_json

BASE_URL = "http://console.test"
PASSWORD = "correct horse battery staple"

Login = Callable[..., Awaitable[httpx.Response]]


def compile_catalogs(locales_dir: Path, domain: str) -> None:
    """Build missing or stale .mo files, so tests do not depend on `make catalogs` having run."""
    for po_path in locales_dir.glob(f"*/LC_MESSAGES/{domain}.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po:
            catalog = read_po(po, locale=po_path.parent.parent.name, domain=domain)
        with mo_path.open("wb") as mo:
            write_mo(mo, catalog)


@pytest.fixture(scope="session", autouse=True)
def console_catalogs() -> None:
    compile_catalogs(i18n.LOCALES_DIR, i18n.DOMAIN)
    i18n.translations.cache_clear()


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One real argon2id hash of PASSWORD, made once: hashing is slow by design."""
    return accounts._hasher.hash(PASSWORD)


class ConsoleClock:
    """The console's clock: the time it is, until a test sets it (`at`) and moves it on."""

    def __init__(self) -> None:
        self.at: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.at or utcnow()


@pytest.fixture
def clock() -> ConsoleClock:
    return ConsoleClock()


@pytest.fixture
def app(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, clock: ConsoleClock) -> Starlette:
    return create_app(sessionmaker=sessionmaker, crypto=crypto, clock=clock)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        yield http


@pytest.fixture
def make_user(
    sessionmaker: async_sessionmaker[AsyncSession], password_hash: str
) -> Callable[..., Awaitable[StaffUser]]:
    names = itertools.count(1)

    async def make(
        username: str | None = None, *, role: str = "caseworker", language: str = "en", display_name: str = ""
    ) -> StaffUser:
        async with sessionmaker() as session:
            user = await staff.add_user(
                session,
                username=username or f"worker{next(names)}",
                password_hash=password_hash,
                role=role,
                display_name=display_name,
                language=language,
                at=utcnow(),
            )
            await session.commit()
            return user

    return make


@pytest.fixture
def sign_in_as(
    app: Starlette,
    client: httpx.AsyncClient,
    make_user: Callable[..., Awaitable[StaffUser]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> Callable[..., Awaitable[StaffUser]]:
    """A signed-in client without the sign-in form (and its deliberately slow hash check).

    For tests about what signed-in people see; sign-in itself is tested through the form. The
    session starts at the console's time (a test may have set its clock).
    """

    async def sign_in(username: str | None = None, **fields: str) -> StaffUser:
        user = await make_user(username, **fields)
        token = secrets.token_urlsafe(32)
        async with sessionmaker() as session:
            await staff.create_session(
                session,
                session_id=hash_token(token),
                user_id=user.id,
                csrf_token=secrets.token_urlsafe(32),
                at=app.state.config.clock(),
            )
            await session.commit()
        client.cookies.set(SESSION_COOKIE, token, domain=httpx.URL(BASE_URL).host)
        return user

    return sign_in


def form_token(response: httpx.Response) -> str:
    field = BeautifulSoup(response.text, "lxml").select_one("form input[name=csrf_token]")
    assert field is not None, "no CSRF field in the page"
    return str(field["value"])


@pytest.fixture
def login(client: httpx.AsyncClient) -> Login:
    """Sign in the way a browser does: fetch the form, post it back with its token."""

    async def sign_in(username: str, password: str = PASSWORD, *, query: str = "") -> httpx.Response:
        page = await client.get(f"/login{query}")
        return await client.post(
            f"/login{query}",
            data={"username": username, "password": password, "csrf_token": form_token(page)},
        )

    return sign_in


@pytest.fixture
def seed_cases(sessionmaker: async_sessionmaker[AsyncSession]) -> Callable[..., Awaitable[list[Case]]]:
    """Add cases (each with its own beneficiary) in one transaction; fields as keyword dicts."""

    async def seed(*specs: dict[str, Any]) -> list[Case]:
        async with sessionmaker() as session:
            cases = [case_for(spec) for spec in specs]
            session.add_all(cases)
            await session.commit()
            return cases

    return seed


def case_for(spec: dict[str, Any]) -> Case:
    fields = {"stage": "new", "source": "bot", "language": "ru", "provisionally_eligible": True, **spec}
    fields.setdefault("created_at", utcnow())
    fields.setdefault("updated_at", fields["created_at"])
    # Any bytes do for the list: it never decrypts them.
    beneficiary = Beneficiary(telegram_hash=secrets.token_hex(32), telegram_id_enc=secrets.token_bytes(40))
    return Case(beneficiary=beneficiary, **fields)


@pytest.fixture
def seed_person(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> Callable[..., Awaitable[Case]]:
    """A case whose beneficiary has a sealed name and phone, and optionally the bot's screening."""

    async def seed(
        *,
        name: str = "Zarina Nazarova",
        phone: str = "+994501234567",
        screening: dict[str, Any] | None = None,
        **case_fields: Any,
    ) -> Case:
        async with sessionmaker() as session:
            telegram_id = str(secrets.randbelow(10**10))
            beneficiary = Beneficiary(telegram_hash=crypto.blind_index("telegram", telegram_id))
            person_keys.add_new(session, crypto, beneficiary.id)
            seal(crypto, beneficiary, "telegram_id_enc", telegram_id)
            seal(crypto, beneficiary, "name_enc", name)
            seal(crypto, beneficiary, "phone_enc", phone)
            fields = {"code": "IP-2026-000100", "stage": "new", "language": "ru", **case_fields}
            fields.setdefault("provisionally_eligible", True if screening is not None else None)
            case = Case(beneficiary=beneficiary, **fields)
            session.add(case)
            if screening is not None:
                await session.flush()
                await person_keys.load_for_case(session, crypto, case)
                response = FormResponse(case_id=case.id, form_id="screening", form_version=1, source="bot")
                seal_json(crypto, response, "answers_enc", screening)
                session.add(response)
            await session.commit()
            return case

    return seed
