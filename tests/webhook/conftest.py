"""Webhook replicas in the test process (the real `run_webhook` wiring) against an in-process sandbox."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.factory import create_bot
from bot.webhook import SECRET_HEADER
from intake.runtime import Runtime, run_webhook
from intake.settings import Settings
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage.crypto import Crypto

TOKEN = "4343434343:" + "W" * 35
BOT_ID = 4343434343
SECRET = "webhook-secret-for-tests-0123456789"
PATH = "/telegram/webhook"


def listening_socket() -> socket.socket:
    """A socket listening on a free port, for a server in this process to serve."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.setblocking(False)
    return sock


def bound_url(runner: web.AppRunner) -> str:
    """Where a server started on port 0 listens."""
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}"


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    async with SandboxServer() as server:
        yield server


@pytest.fixture
async def phone(sandbox: SandboxServer) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(sandbox.url, BOT_ID) as client:
        yield client


@dataclass
class Replica:
    """One `intake bot` in webhook mode, run in the test process so tests can stop it at will."""

    sandbox_url: str
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    crypto: Crypto
    # Its own listening socket on a free port, kept across restarts: the webhook URL stays the same and
    # no other process can take the port in between.
    sock: socket.socket = field(default_factory=listening_socket)
    bot: Bot | None = None
    task: asyncio.Task[None] | None = None
    stop: asyncio.Event | None = None

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    def settings(self, webhook_url: str | None = None) -> Settings:
        return Settings.model_validate(
            {
                "TELEGRAM_API_URL": self.sandbox_url,
                "TELEGRAM_WEBHOOK_URL": webhook_url or self.url,
                "TELEGRAM_WEBHOOK_SECRET": SECRET,
                "INTAKE_WEBHOOK_ADDR": f"127.0.0.1:{self.port}",
            }
        )

    async def start(self, webhook_url: str | None = None) -> None:
        self.bot = create_bot(TOKEN, self.sandbox_url)
        self.stop = asyncio.Event()
        runtime = Runtime(self.settings(webhook_url), self.engine, self.sessionmaker, self.crypto)
        self.task = asyncio.create_task(run_webhook(runtime, self.bot, self.stop, sock=self.sock))
        await wait_until_listening(self.port)
        for _ in range(400):  # until it has called setWebhook
            if (await self.bot.get_webhook_info()).url == (webhook_url or self.url):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the replica never set its webhook")

    async def halt(self) -> None:
        if self.task is None:
            return
        assert self.stop is not None and self.bot is not None
        self.stop.set()
        await asyncio.wait_for(self.task, 30)
        await self.bot.session.close()
        self.task = None


async def wait_until_listening(port: int) -> None:
    async with asyncio.timeout(60), aiohttp.ClientSession() as http:
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/healthz") as answer:
                    if answer.status == 200:
                        return
            await asyncio.sleep(0.05)


@pytest.fixture
async def replica(
    sandbox: SandboxServer,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> AsyncIterator[Replica]:
    running = Replica(sandbox.url, engine, sessionmaker, crypto)
    try:
        yield running
    finally:
        await running.halt()
        running.sock.close()


Post = Callable[..., Awaitable[int]]


@pytest.fixture
async def post() -> AsyncIterator[Post]:
    """POST an update to a webhook URL as Telegram does; returns the HTTP status."""
    async with aiohttp.ClientSession() as http:

        async def send(url: str, update: dict[str, Any], secret: str | None = SECRET) -> int:
            headers = {"Content-Type": "application/json"}
            if secret is not None:
                headers[SECRET_HEADER] = secret
            async with http.post(url, data=json.dumps(update), headers=headers) as answer:
                return answer.status

        yield send


def text_update(update_id: int, user_id: int, text: str, *, message_id: int = 1) -> dict[str, Any]:
    """A private text message from a sandbox user, shaped like Telegram's."""
    user = {"id": user_id, "is_bot": False, "first_name": "Test", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": user,
            "chat": {"id": user_id, "type": "private", "first_name": "Test"},
            "date": 1_790_000_000,
            "text": text,
            **(
                {"entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}
                if text.startswith("/")
                else {}
            ),
        },
    }
