"""Start-up (`intake demo` to the bot's first answer) and the bot's memory with 100,000 beneficiaries."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.crowd import Crowd, screening_steps
from bench.infra import Child, child_environment
from sandbox.server import SandboxServer
from wording.languages import create_i18n


@dataclass
class StartupResult:
    first_start_s: float  # fresh ./var: the SQLite file is created and migrated
    restart_s: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MemoryResult:
    beneficiaries: int
    idle_mib: float
    after_dialogs_mib: float
    peak_mib: float
    dialogs: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _demo_first_answer(directory: Path) -> float:
    # Free ports it binds itself; the sandbox's is read from what it prints (the console's is not used).
    environment = child_environment(INTAKE_CONSOLE_ADDR="127.0.0.1:0")
    started = time.monotonic()
    child = await Child.start(
        ["-m", "intake", "demo", "--sandbox-port", "0"],
        environment,
        directory / "demo.log",
        cwd=directory,
    )
    try:
        async with aiohttp.ClientSession() as http, asyncio.timeout(120):
            sandbox_url = (await child.logged(r"Web phone \(chat as a migrant\): (http://\S+?)/?\n"))[1]
            base = f"{sandbox_url}/sandbox/api"
            bot_id = None
            while bot_id is None:
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{base}/bots") as answer:
                        bots = await answer.json()
                        bot_id = bots[0]["id"] if bots else None
                if bot_id is None:
                    await asyncio.sleep(0.02)
            async with http.post(
                f"{base}/users", json={"first_name": "Start", "language_code": "en"}
            ) as answer:
                user = (await answer.json())["id"]
            async with http.post(f"{base}/bots/{bot_id}/users/{user}/messages", json={"text": "/start"}):
                pass
            while True:
                async with http.get(f"{base}/bots/{bot_id}/users/{user}/transcript") as answer:
                    if any(m["from"] == "bot" for m in (await answer.json())["messages"]):
                        return time.monotonic() - started
                await asyncio.sleep(0.01)
    finally:
        await child.stop()


async def run_startup(directory: Path) -> StartupResult:
    """`intake demo` in an empty directory (first start), then again in the same one (restart)."""
    first = await _demo_first_answer(directory)
    again = await _demo_first_answer(directory)
    return StartupResult(round(first, 2), round(again, 2))


async def run_memory(
    database_url: str, keys: str, beneficiaries: int, dialogs: int, work: Path
) -> MemoryResult:
    """`intake bot` (polling) on a database already holding `beneficiaries`; RSS idle and after dialogs."""
    bot_id = 6_000_000_000 + secrets.randbelow(10**9)
    token = f"{bot_id}:{secrets.token_urlsafe(27)}"
    i18n = create_i18n()
    async with SandboxServer() as sandbox, Crowd(sandbox.url, bot_id, patience=120.0) as crowd:
        environment = child_environment(
            TELEGRAM_BOT_TOKEN=token,
            TELEGRAM_API_URL=sandbox.url,
            DATABASE_URL=database_url,
            INTAKE_DATA_KEYS=keys,
        )
        child = await Child.start(["-m", "intake", "bot"], environment, work / "bot-memory.log")
        try:
            warm = await crowd.create_people(1)
            await crowd.run(warm, lambda person: screening_steps(i18n, "Warm Up"))
            idle, _ = child.memory_mib()
            people = await crowd.create_people(dialogs)
            await crowd.run(
                people, lambda person: screening_steps(i18n, f"Person {person.user_id % 100_000}")
            )
            after, peak = child.memory_mib()
        finally:
            await child.stop()
    return MemoryResult(beneficiaries, round(idle, 1), round(after, 1), round(peak, 1), dialogs)
