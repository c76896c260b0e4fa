"""Fixtures for the sandbox tests: a real sandbox server on an ephemeral port and ways to talk to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sandbox.client import SandboxClient
from sandbox.server import SandboxServer

BOT_ID = 123456789
TOKEN = f"{BOT_ID}:AAE_sandbox-test-token-0123456789abcdef"


class BotApi:
    """Raw Bot API calls, so tests see exactly what Telegram would answer."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str, token: str = TOKEN) -> None:
        self.http = http
        self.base = f"{base_url}/bot{token}"

    async def call(self, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
        """POST the parameters as a JSON body."""
        async with self.http.post(f"{self.base}/{method}", json=params) as response:
            return response.status, await response.json()

    async def form(self, method: str, data: Any) -> tuple[int, dict[str, Any]]:
        """POST urlencoded or multipart data, as most client libraries do."""
        async with self.http.post(f"{self.base}/{method}", data=data) as response:
            return response.status, await response.json()

    async def ok(self, method: str, **params: Any) -> Any:
        status, body = await self.call(method, **params)
        assert status == 200 and body["ok"], body
        return body["result"]


@pytest.fixture
def bot_token() -> str:
    return TOKEN


@pytest.fixture
async def sandbox_server() -> AsyncIterator[SandboxServer]:
    async with SandboxServer() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def bot_api(http: aiohttp.ClientSession, sandbox_server: SandboxServer) -> BotApi:
    return BotApi(http, sandbox_server.url)


@pytest.fixture
async def sandbox_client(sandbox_server: SandboxServer) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(sandbox_server.url, BOT_ID) as client:
        yield client


@pytest.fixture
async def user_id(sandbox_client: SandboxClient) -> int:
    """A user who has started the bot, so the bot may write to them."""
    user = await sandbox_client.create_user("Zahra", language_code="fa")
    await sandbox_client.send_text(user, "/start")
    return user
