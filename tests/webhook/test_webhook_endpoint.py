"""The webhook endpoint: the secret on every request, the update stored sealed before the 200, 503
when the database cannot take it, and the refusal to start without a secret."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.webhook import SECRET_HEADER, create_webhook_app, serve_app
from storage.crypto import Crypto, generate_key
from storage.engine import create_engine, create_sessionmaker
from storage.models_webhook import InboundUpdate
from storage.sealing import unseal
from tests.webhook.conftest import BOT_ID, PATH, SECRET, Post, bound_url, text_update

ROOT = Path(__file__).resolve().parents[2]


async def serve_storing_only(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> AsyncIterator[str]:
    """The endpoint alone, no consumer: what is stored stays stored."""
    app = create_webhook_app(
        bot_id=BOT_ID, secret=SECRET, paths=[PATH], sessionmaker=sessionmaker, crypto=crypto, consumer=None
    )
    runner = await serve_app(app, "127.0.0.1", 0)
    try:
        yield bound_url(runner)
    finally:
        await runner.cleanup()


@pytest.fixture
async def endpoint(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> AsyncIterator[str]:
    async for base in serve_storing_only(sessionmaker, crypto):
        yield base


async def stored(sessionmaker: async_sessionmaker[AsyncSession]) -> list[InboundUpdate]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(InboundUpdate))).all())


@pytest.mark.parametrize(
    "secret",
    [None, "", "wrong-secret-of-the-same-kind-0000", SECRET[:-1], SECRET + "x", SECRET.upper()],
    ids=["missing", "empty", "wrong", "prefix", "longer", "case"],
)
async def test_a_request_without_the_right_secret_is_refused_and_stores_nothing(
    endpoint: str, post: Post, sessionmaker: async_sessionmaker[AsyncSession], secret: str | None
) -> None:
    status = await post(endpoint + PATH, text_update(1, 100_000_001, "/start"), secret=secret)
    assert status == 401
    assert await stored(sessionmaker) == []


async def test_an_update_is_stored_sealed_before_it_is_acknowledged(
    endpoint: str, post: Post, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    update = text_update(7, 100_000_042, "Gulnara Mammadova")
    assert await post(endpoint + PATH, update) == 200

    (row,) = await stored(sessionmaker)
    assert (row.bot_id, row.update_id, row.lease_until) == (BOT_ID, 7, None)
    assert json.loads(unseal(crypto, row, "payload_enc") or "") == update
    # Neither what the person typed nor their Telegram id is readable in the row.
    assert b"Gulnara" not in row.payload_enc
    assert "100000042" not in (row.chat_hash or "")
    assert str(row.chat_hash) != crypto.blind_index("telegram", "100000042")


async def test_a_redelivered_update_is_acknowledged_and_stored_once(
    endpoint: str, post: Post, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    update = text_update(8, 100_000_043, "hello")
    statuses = await asyncio.gather(*(post(endpoint + PATH, update) for _ in range(10)))
    assert statuses == [200] * 10
    assert [row.update_id for row in await stored(sessionmaker)] == [8]


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"update_id": "7"}', b'{"message": {}}'])
async def test_a_body_that_is_not_an_update_is_a_bad_request(
    endpoint: str, sessionmaker: async_sessionmaker[AsyncSession], body: bytes
) -> None:
    async with aiohttp.ClientSession() as http:
        answer = await http.post(endpoint + PATH, data=body, headers={SECRET_HEADER: SECRET})
    assert answer.status == 400
    assert await stored(sessionmaker) == []


async def test_an_unreachable_database_answers_503_so_telegram_retries(post: Post, crypto: Crypto) -> None:
    # Nothing listens on port 9: every connection is refused, as when the database is down.
    engine = create_engine("postgresql+asyncpg://root@127.0.0.1:9/none", pool_pre_ping=False)
    try:
        async for base in serve_storing_only(create_sessionmaker(engine), crypto):
            assert await post(base + PATH, text_update(9, 100_000_044, "hello")) == 503
            async with aiohttp.ClientSession() as http:
                health = await http.get(base + "/healthz")
                metrics = await (await http.get(base + "/metrics")).text()
            assert health.status == 200
            assert "intake_database_up 0" in metrics
            assert "intake_webhook_store_failures_total 1" in metrics
    finally:
        await engine.dispose()


async def test_metrics_show_the_queue_without_personal_data(
    endpoint: str, post: Post, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await post(endpoint + PATH, text_update(10, 100_000_045, "Rustam"))
    await post(endpoint + PATH, text_update(11, 100_000_045, "Rustam"), secret="nope-nope-nope-nope")
    async with aiohttp.ClientSession() as http:
        metrics = await (await http.get(endpoint + "/metrics")).text()
    assert "intake_inbound_queue_depth 1" in metrics
    assert "intake_webhook_requests_unauthorised_total 1" in metrics
    assert "Rustam" not in metrics
    assert "100000045" not in metrics


# ── refusing to start ───────────────────────────────────────────────────────────────────────────


def run_bot(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TELEGRAM_", "DATABASE_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "intake", "bot"],
        capture_output=True,
        text=True,
        env=environment | {"PYTHONPATH": str(ROOT)} | env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("secret", [None, ""], ids=["unset", "empty"])
def test_webhook_mode_refuses_to_start_without_a_secret(secret: str | None) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": "123456:" + "a" * 35,
        "INTAKE_DATA_KEYS": generate_key(),
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram/webhook",
    }
    if secret is not None:
        env["TELEGRAM_WEBHOOK_SECRET"] = secret
    result = run_bot(**env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("intake: TELEGRAM_WEBHOOK_SECRET is not set: ")
    assert line.endswith(".") and line.count(". ") == 0


def test_webhook_mode_refuses_a_guessable_secret() -> None:
    result = run_bot(
        TELEGRAM_BOT_TOKEN="123456:" + "a" * 35,
        INTAKE_DATA_KEYS=generate_key(),
        TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET="short",
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("intake: TELEGRAM_WEBHOOK_SECRET is invalid: use 16 to 256 characters")
    assert "short" not in line
