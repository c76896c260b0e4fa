"""INTAKE_CONSOLE_URL: a console behind HTTPS gets Secure cookies and HSTS; one that listens beyond
this machine without it is warned about in one sentence; the demo on plain http is unchanged."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from intake.runtime import Runtime, console_app
from intake.settings import Settings
from storage.crypto import Crypto, generate_key, parse_keys
from storage.engine import create_engine, create_sessionmaker
from storage.migrate import upgrade


@pytest.fixture
async def runtime_for(tmp_path: Path) -> AsyncIterator:
    engines = []

    async def make(**environment: str) -> Runtime:
        key = generate_key()
        settings = Settings(
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / f'console{len(engines)}.db'}",
            INTAKE_DATA_KEYS=key,
            **environment,
        )
        engine = create_engine(settings.database_url)
        engines.append(engine)
        await upgrade(engine)
        return Runtime(settings, engine, create_sessionmaker(engine), Crypto(parse_keys(key)))

    yield make
    for engine in engines:
        await engine.dispose()


async def login_page(runtime: Runtime, base_url: str) -> httpx.Response:
    app = console_app(runtime, bot_username=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as client:
        return await client.get("/login")


async def test_behind_https_the_cookies_are_secure_and_hsts_is_sent(runtime_for) -> None:
    runtime = await runtime_for(INTAKE_CONSOLE_URL="https://console.example.org/")
    page = await login_page(runtime, "https://console.example.org")
    assert page.headers["strict-transport-security"] == "max-age=31536000"
    cookies = page.headers.get_list("set-cookie")
    assert cookies and all("; secure" in cookie.lower() for cookie in cookies)


async def test_the_demo_on_plain_http_has_neither(runtime_for) -> None:
    page = await login_page(await runtime_for(), "http://127.0.0.1:8000")
    assert "strict-transport-security" not in page.headers
    cookies = page.headers.get_list("set-cookie")
    assert cookies and not any("secure" in cookie.lower() for cookie in cookies)


@pytest.mark.parametrize(
    ("environment", "warned"),
    [
        ({"INTAKE_CONSOLE_ADDR": "0.0.0.0:8000"}, True),
        ({"INTAKE_CONSOLE_ADDR": "[::]:8000"}, True),
        ({"INTAKE_CONSOLE_ADDR": "0.0.0.0:8000", "INTAKE_CONSOLE_URL": "https://console.example.org"}, False),
        ({"INTAKE_CONSOLE_ADDR": "0.0.0.0:8000", "INTAKE_CONSOLE_URL": "http://console.example.org"}, True),
        ({"INTAKE_CONSOLE_ADDR": "127.0.0.1:8000"}, False),
        ({"INTAKE_CONSOLE_ADDR": "localhost:8000"}, False),
    ],
)
async def test_listening_beyond_loopback_without_https_is_said_in_one_sentence(
    runtime_for, caplog: pytest.LogCaptureFixture, environment: dict[str, str], warned: bool
) -> None:
    runtime = await runtime_for(**environment)
    with caplog.at_level(logging.WARNING, logger="intake.runtime"):
        console_app(runtime, bot_username=None)
    messages = [record.getMessage() for record in caplog.records if record.name == "intake.runtime"]
    if warned:
        [message] = messages
        assert "INTAKE_CONSOLE_URL" in message and "\n" not in message
    else:
        assert messages == []
