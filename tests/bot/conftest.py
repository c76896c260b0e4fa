"""The real aiogram bot long-polling a sandbox over HTTP, and helpers to read what it stored."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import BotConfig
from bot.factory import create_bot
from intake.runtime import poll
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage.crypto import Crypto

TOKEN = "4242424242:" + "A" * 35
BOT_ID = 4242424242


@pytest.fixture
def inline_sqlite() -> bool:
    return True  # the bot's engine, as `intake bot` opens it


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    async with SandboxServer() as server:
        yield server


@dataclass
class BotProcess:
    """One running bot (dispatcher + HTTP session); `restart` simulates a process restart."""

    sandbox_url: str
    sessionmaker: async_sessionmaker[AsyncSession]
    crypto: Crypto
    config: BotConfig = field(default_factory=BotConfig)
    bot: Bot | None = None
    task: asyncio.Task[None] | None = None
    stop: asyncio.Event | None = None

    async def start(self) -> None:
        self.bot = create_bot(TOKEN, self.sandbox_url)
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(
            poll(self.bot, self.sessionmaker, self.crypto, self.stop, self.config)
        )

    async def halt(self) -> None:
        if self.task is None:
            return
        assert self.stop is not None and self.bot is not None
        self.stop.set()
        await asyncio.wait_for(self.task, 15)
        await self.bot.session.close()
        self.task = None

    async def restart(self) -> None:
        await self.halt()
        await self.start()


@pytest.fixture
def bot_config(now: dt.datetime) -> BotConfig:
    """The organisation's bot settings; a test module overrides this fixture to change them. Its clock
    stands at the test's moment (`now`), so what the bot offers follows from the time the test sets."""
    # The tests tap through whole journeys at machine speed: no flood limit (tests/bot/test_flood.py
    # runs with one).
    return BotConfig(data_controller="Bridge Aid Association", flood=None, clock=lambda: now)


@pytest.fixture
async def bot_process(
    sandbox: SandboxServer,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    bot_config: BotConfig,
) -> AsyncIterator[BotProcess]:
    process = BotProcess(sandbox.url, sessionmaker, crypto, bot_config)
    await process.start()
    try:
        yield process
    finally:
        await process.halt()


@pytest.fixture
async def phone(sandbox: SandboxServer, bot_process: BotProcess) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(sandbox.url, BOT_ID) as client:
        yield client
