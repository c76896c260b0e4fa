"""The ordinary mistakes of a first start, each through the real `intake` command: its whole output
is one sentence naming the setting or the step to take, and it exits non-zero (no traceback)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from intake.demo_data import seed_demo
from sandbox.server import SandboxServer
from storage.appointments import ensure_demo_office
from storage.crypto import Crypto, generate_key, parse_keys
from storage.engine import create_engine, create_sessionmaker
from tests.conftest import BACKENDS, POSTGRES_URL

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
# A token of the right shape that the sandbox, like Telegram, does not know.
UNKNOWN_TOKEN = "123456:not-a-token-telegram-knows"
GOOD_TOKEN = "123456:" + "a" * 35


async def intake(*args: str, cwd: Path, **env: str) -> tuple[int, str]:
    """`intake ARGS` in `cwd` with only the given settings; its exit code and its whole output."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TELEGRAM_", "DATABASE_"))
    }
    environment |= {"PYTHONPATH": str(ROOT)} | env
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "intake",
        *args,
        cwd=cwd,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode is not None
    return process.returncode, output.decode()


def one_sentence(sentence: str) -> str:
    return f"intake: {sentence}\n"


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 this test listens on."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield int(held.getsockname()[1])


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    async with SandboxServer() as server:
        yield server


@contextlib.asynccontextmanager
async def empty_database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a database with no tables: a new file, or a new PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
        return
    name = f"t_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(params=BACKENDS)
async def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.mark.parametrize(
    ("url", "sentence"),
    [
        (
            "sqlite:///var/intake.db",
            "DATABASE_URL is invalid: name the async driver, sqlite+aiosqlite:///var/intake.db.",
        ),
        (
            "postgresql://intake:secret@db.example/intake",
            "DATABASE_URL is invalid: name the async driver, postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE.",
        ),
        (
            "var/intake.db",
            "DATABASE_URL is invalid: expected a URL such as sqlite+aiosqlite:///./var/intake.db, not a plain path.",
        ),
    ],
)
async def test_a_database_url_without_the_async_driver(tmp_path: Path, url: str, sentence: str) -> None:
    code, output = await intake("serve", cwd=tmp_path, DATABASE_URL=url, TELEGRAM_BOT_TOKEN=GOOD_TOKEN)
    assert (code, output) == (2, one_sentence(sentence))
    assert "secret" not in output  # a PostgreSQL URL's password is never repeated


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs PostgreSQL")
async def test_a_wrong_postgresql_login(tmp_path: Path) -> None:
    url = POSTGRES_URL.replace("://root@", "://nobody_here:wrong@")
    assert url != POSTGRES_URL
    code, output = await intake("migrate", cwd=tmp_path, DATABASE_URL=url)
    assert (code, output) == (
        2,
        one_sentence(
            "PostgreSQL refused the login in DATABASE_URL (wrong user name): "
            "give a user and password the server accepts."
        ),
    )
    assert "wrong" not in output.replace("(wrong user name)", "")


async def test_serve_before_migrate(tmp_path: Path, fresh: str) -> None:
    code, output = await intake(
        "serve",
        cwd=tmp_path,
        DATABASE_URL=fresh,
        TELEGRAM_BOT_TOKEN=GOOD_TOKEN,
        INTAKE_DATA_KEYS=generate_key(),
    )
    assert (code, output) == (
        2,
        one_sentence("The database at DATABASE_URL has no tables yet: run `intake migrate` first."),
    )


async def migrate(url: str, cwd: Path) -> None:
    code, output = await intake("migrate", cwd=cwd, DATABASE_URL=url)
    assert code == 0, output
    assert output.splitlines()[-1] == "The database is at the newest schema."


async def test_a_rejected_bot_token(tmp_path: Path, sandbox: SandboxServer) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    await migrate(url, tmp_path)
    code, output = await intake(
        "serve",
        cwd=tmp_path,
        DATABASE_URL=url,
        INTAKE_DATA_KEYS=generate_key(),
        TELEGRAM_BOT_TOKEN=UNKNOWN_TOKEN,
        TELEGRAM_API_URL=sandbox.url,
    )
    assert (code, output) == (
        2,
        one_sentence(
            "Telegram rejected TELEGRAM_BOT_TOKEN: copy the token again from @BotFather (/mybots, API Token)."
        ),
    )
    assert "not-a-token" not in output


async def test_telegram_unreachable(tmp_path: Path, closed_port: int) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    await migrate(url, tmp_path)
    api = f"http://127.0.0.1:{closed_port}"
    code, output = await intake(
        "worker",
        cwd=tmp_path,
        DATABASE_URL=url,
        INTAKE_DATA_KEYS=generate_key(),
        TELEGRAM_BOT_TOKEN=GOOD_TOKEN,
        TELEGRAM_API_URL=api,
    )
    assert (code, output) == (
        2,
        one_sentence(
            f"Could not reach the Telegram Bot API at {api}: check the network, or TELEGRAM_API_URL if you set it."
        ),
    )


async def test_a_port_in_use(tmp_path: Path, taken_port: int) -> None:
    code, output = await intake(
        "console",
        cwd=tmp_path,
        INTAKE_DATA_KEYS=generate_key(),
        INTAKE_CONSOLE_ADDR=f"127.0.0.1:{taken_port}",
    )
    assert (code, output) == (
        2,
        one_sentence(
            f"Port {taken_port} on 127.0.0.1 is already in use by another program: stop it, "
            "or choose another port in INTAKE_CONSOLE_ADDR."
        ),
    )


async def test_the_demo_on_a_sandbox_port_in_use(tmp_path: Path, taken_port: int) -> None:
    code, output = await intake("demo", "--sandbox-port", str(taken_port), cwd=tmp_path)
    assert (code, output) == (
        2,
        one_sentence(
            f"Port {taken_port} on 127.0.0.1 is already in use by another program: stop it, "
            "or choose another port in --sandbox-port."
        ),
    )


async def test_a_valid_but_wrong_data_key(tmp_path: Path, fresh: str, closed_port: int) -> None:
    """The first start seals the key check under its key; a later start with another key stops
    before anything reads the data, instead of treating everyone as new."""
    await migrate(fresh, tmp_path)
    first, other = generate_key(), generate_key()
    settings = {"DATABASE_URL": fresh, "TELEGRAM_BOT_TOKEN": GOOD_TOKEN}
    settings["TELEGRAM_API_URL"] = f"http://127.0.0.1:{closed_port}"
    code, output = await intake("worker", cwd=tmp_path, INTAKE_DATA_KEYS=first, **settings)
    assert code == 2 and "Could not reach the Telegram Bot API" in output  # past the key check
    code, output = await intake("worker", cwd=tmp_path, INTAKE_DATA_KEYS=other, **settings)
    assert (code, output) == (
        2,
        one_sentence(
            "INTAKE_DATA_KEYS does not open the data in DATABASE_URL: give the keys this database was "
            "written with (newest first), or the DATABASE_URL these keys belong to."
        ),
    )
    # The new key first and the old one after it (a rotation under way) opens it.
    code, output = await intake("worker", cwd=tmp_path, INTAKE_DATA_KEYS=f"{other},{first}", **settings)
    assert code == 2 and "Could not reach the Telegram Bot API" in output


async def test_serve_refuses_the_demos_database(tmp_path: Path, fresh: str) -> None:
    await migrate(fresh, tmp_path)
    key = generate_key()
    engine = create_engine(fresh)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            office = await ensure_demo_office(session)
            assert await seed_demo(session, Crypto(parse_keys(key)), office=office, staff_id=None)
    finally:
        await engine.dispose()
    code, output = await intake(
        "serve", cwd=tmp_path, DATABASE_URL=fresh, INTAKE_DATA_KEYS=key, TELEGRAM_BOT_TOKEN=GOOD_TOKEN
    )
    assert (code, output) == (
        2,
        one_sentence(
            "The database at DATABASE_URL holds the demo's made-up cases: give this installation a "
            "database of its own in DATABASE_URL (`intake demo` keeps its own under ./var/demo/)."
        ),
    )


async def test_the_webhook_port_in_use(tmp_path: Path, sandbox: SandboxServer, taken_port: int) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    await migrate(url, tmp_path)
    code, output = await intake(
        "bot",
        cwd=tmp_path,
        DATABASE_URL=url,
        INTAKE_DATA_KEYS=generate_key(),
        TELEGRAM_BOT_TOKEN=GOOD_TOKEN,
        TELEGRAM_API_URL=sandbox.url,
        TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram",
        TELEGRAM_WEBHOOK_SECRET="s" * 32,
        INTAKE_WEBHOOK_ADDR=f"127.0.0.1:{taken_port}",
    )
    assert (code, output) == (
        2,
        one_sentence(
            f"Port {taken_port} on 127.0.0.1 is already in use by another program: stop it, "
            "or choose another port in INTAKE_WEBHOOK_ADDR."
        ),
    )
