"""Shared fixtures: a migrated database on SQLite and on PostgreSQL (its tests reported skipped, with
the reason, when the configured one does not answer, and failing where it is required); keys."""

from __future__ import annotations

# First, as in every process of ours: `intake` installs the speed patches INTAKE_SPEEDUPS asks for
# (intake.speedups), the first of which must precede aiogram's import.
import intake  # noqa: F401

# isort: split
import asyncio
import datetime as dt
import os
import random
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

import asyncpg
import pytest
from aiogram.utils.i18n import I18n
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.crypto import Crypto
from storage.engine import create_engine, create_sessionmaker
from storage.migrate import upgrade
from storage.schema import Base
from wording.languages import create_i18n

T = TypeVar("T")


class Clock(Generic[T]):
    """A clock a test sets and moves by hand (`now`); it stands still otherwise."""

    def __init__(self, now: T) -> None:
        self.now = now

    def __call__(self) -> T:
        return self.now


POSTGRES_URL = os.environ.get("INTAKE_TEST_POSTGRES_URL", "postgresql+asyncpg://root@127.0.0.1:5432/test")
# CI sets this: there a PostgreSQL that does not answer fails the run instead of skipping its half.
REQUIRE_POSTGRES = os.environ.get("INTAKE_REQUIRE_POSTGRES") == "1"
PROBE_TIMEOUT = 10.0


def postgres_missing() -> str | None:
    """Why the configured PostgreSQL cannot be used (a real connection is tried), or None when it can."""
    url = make_url(POSTGRES_URL)

    async def connect() -> None:
        connection = await asyncpg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            database=url.database,
            timeout=PROBE_TIMEOUT,
        )
        await connection.close()

    try:
        asyncio.run(connect())
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        where = url.render_as_string(hide_password=True)
        return f"PostgreSQL at {where} (INTAKE_TEST_POSTGRES_URL) does not answer: {type(error).__name__}: {error}"
    return None


POSTGRES_MISSING = postgres_missing()
# Every database test runs once per backend; PostgreSQL's runs are reported skipped, and why, when it
# does not answer (never left out of the count).
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(POSTGRES_MISSING is not None, reason=POSTGRES_MISSING or ""),
    ),
]


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_POSTGRES and POSTGRES_MISSING:
        raise pytest.UsageError(f"INTAKE_REQUIRE_POSTGRES=1, but {POSTGRES_MISSING}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Said at the end of the run, beside the counts: the PostgreSQL half did not run, and why."""
    if POSTGRES_MISSING is None:
        return
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if POSTGRES_MISSING in str(r.longrepr)]
    terminalreporter.write_sep("=", f"{len(skipped)} PostgreSQL tests skipped", yellow=True)
    terminalreporter.write_line(POSTGRES_MISSING)


class Database:
    """A migrated database for one backend: its URL and the engine options that select it."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.schema: str | None = None
        if backend == "sqlite":
            self.url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
            self.engine_options: dict[str, object] = {}
        else:
            self.url = POSTGRES_URL
            self.schema = f"t_{secrets.token_hex(6)}"
            self.engine_options = {"connect_args": {"server_settings": {"search_path": self.schema}}}

    def engine(self, *, inline: bool = False, **options: Any) -> AsyncEngine:
        return create_engine(self.url, inline=inline, **self.engine_options, **options)

    async def create(self) -> None:
        if self.schema:
            admin = create_engine(self.url)
            async with admin.begin() as connection:
                await connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            await admin.dispose()
        engine = self.engine()
        await upgrade(engine)
        await engine.dispose()

    async def drop(self) -> None:
        if self.schema:
            admin = create_engine(self.url)
            async with admin.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            await admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = Database(request.param, tmp_path_factory.mktemp(request.param))
    asyncio.run(db.create())
    yield db
    asyncio.run(db.drop())


@pytest.fixture
def inline_sqlite() -> bool:
    """Whether the test's engine runs SQLite statements on the loop's thread, as `intake bot` does."""
    return False


@pytest.fixture
async def engine(database: Database, inline_sqlite: bool) -> AsyncIterator[AsyncEngine]:
    engine = database.engine(inline=inline_sqlite)
    yield engine
    # Empty every table so each test starts from a clean, migrated database.
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """Randomness a failure can be replayed from: the seed (INTAKE_TEST_SEED, else a new one) is
    printed before the test runs, and shown with the output of a test that fails."""
    seed = int(os.environ.get("INTAKE_TEST_SEED") or secrets.randbits(32))
    print(f"{request.node.nodeid}: random seed {seed} (INTAKE_TEST_SEED={seed} replays it)")
    return random.Random(seed)


@pytest.fixture
def now(request: pytest.FixtureRequest) -> dt.datetime:
    """The moment a test sets its clocks to (the bot's, the console's, a worker's), in UTC; it stands
    still through the test. INTAKE_TEST_NOW (ISO 8601 with its offset, e.g.
    2026-12-07T23:59:30+04:00, a minute before Baku's midnight) sets it, else the time the test
    starts; printed before the test runs, so a failure at one hour can be replayed at any other."""
    given = os.environ.get("INTAKE_TEST_NOW")
    moment = dt.datetime.fromisoformat(given) if given else dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        raise pytest.UsageError(f"INTAKE_TEST_NOW={given} needs its offset, e.g. +04:00")
    moment = moment.astimezone(dt.UTC)
    print(
        f"{request.node.nodeid}: clock set to {moment.isoformat()} (INTAKE_TEST_NOW={moment.isoformat()} replays it)"
    )
    return moment


@pytest.fixture
def data_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def crypto(data_key: bytes) -> Crypto:
    return Crypto([data_key])


@pytest.fixture(scope="session")
def i18n() -> I18n:
    return create_i18n()


@pytest.fixture
def t(i18n: I18n) -> Callable[..., str]:
    """The text a beneficiary reads for a msgid in a locale (so tests follow the catalogs)."""

    def translate(
        msgid: str, locale: str = "en", *, plural: str | None = None, n: int = 1, **values: object
    ) -> str:
        """`plural` and `n` for a plural entry (msgid is its singular)."""
        text = i18n.gettext(msgid, plural, n, locale=locale) if plural else i18n.gettext(msgid, locale=locale)
        return text.format(**values) if values else text

    return translate
