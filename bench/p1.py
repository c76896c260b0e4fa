"""P1: people completing the screening dialog at once, through the sandbox over HTTP, with the real
bot in its own process; and the same crowd chatting with a bare aiogram echo bot, for the ratio."""

from __future__ import annotations

import asyncio
import secrets
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.crowd import Crowd, echo_steps, screening_steps, step_latencies
from bench.infra import Child, child_environment, free_port, scratch_database
from sandbox.server import SandboxServer
from storage.crypto import generate_key
from wording.languages import create_i18n

DIALOG_STEPS = 9
WEBHOOK_SECRET = "bench-webhook-secret-" + "0" * 16
WEBHOOK_PATH = "/telegram/webhook"


@dataclass
class P1Result:
    bot: str  # "echo" or "intake"
    mode: str  # "polling" or "webhook"
    backend: str | None
    users: int
    think: float
    updates: int
    seconds: float
    updates_per_s: float
    steady_per_s: float  # the rate of actions in the middle 80% of the run (a paced crowd's load)
    p50_ms: float
    p99_ms: float
    bot_cpu_ms_per_update: float
    sandbox_cpu_ms_per_update: float  # the sandbox and the crowd, which share the benchmark's process
    bot_peak_mib: float
    unfinished: int
    nudges: int
    # One more chat sending as fast as it can while the crowd runs (INTAKE_FLOOD_LIMIT at its
    # default): what it sent, and how many of those the bot applied.
    flooder_sent: int = 0
    flood_limit: str = "off"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(share * 1000) - 1]


def steady_rate(actions: list[float]) -> float:
    """Actions per second between the 10th and the 90th percentile of their times: the load a paced
    crowd offers once everyone is under way, without its ramp-up and the stragglers' tail."""
    if len(actions) < 10:
        return float("nan")
    ordered = sorted(actions)
    first, last = round(0.1 * (len(ordered) - 1)), round(0.9 * (len(ordered) - 1))
    span = ordered[last] - ordered[first]
    return (last - first) / span if span > 0 else float("nan")


async def run_p1(
    *,
    bot: str,
    users: int,
    work: Path,
    backend: str | None = None,
    mode: str = "polling",
    think: float = 0.0,
    profile: Path | None = None,
    flood_limit: str = "off",
    flooder: bool = False,
) -> P1Result:
    """One crowd of `users` people against one freshly started bot; `think` seconds between actions.

    `flooder`: one more chat sends messages without waiting for answers for as long as the crowd
    runs, to see whether it slows the others down (with `flood_limit` the bot's INTAKE_FLOOD_LIMIT)."""
    bot_id = 5_000_000_000 + secrets.randbelow(10**9)
    token = f"{bot_id}:{secrets.token_urlsafe(27)}"
    i18n = create_i18n()
    async with SandboxServer() as sandbox, Crowd(sandbox.url, bot_id, patience=120.0) as crowd:
        if bot == "echo":
            environment = child_environment(TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=sandbox.url)
            child = await Child.start(["-m", "bench.echo_bot"], environment, work / "echo.log")
            steps = echo_steps(DIALOG_STEPS)
            return await _measure(crowd, child, bot, mode, None, users, think, lambda person: steps)
        assert backend is not None
        async with scratch_database(backend, work) as database_url:
            settings = {
                "TELEGRAM_BOT_TOKEN": token,
                "TELEGRAM_API_URL": sandbox.url,
                "DATABASE_URL": database_url,
                "INTAKE_DATA_KEYS": generate_key(),
                # A crowd answers each prompt the moment it arrives, faster than anyone types: off
                # unless a run asks for a limit (the flood part runs the paced crowd at the default).
                "INTAKE_FLOOD_LIMIT": flood_limit,
            }
            if mode == "webhook":
                # Chosen before it starts: the webhook URL it gives Telegram names the port (a proxy
                # on a port of its own in between would add its hop to what is measured).
                port = free_port()
                settings |= {
                    "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
                    "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
                    "INTAKE_WEBHOOK_ADDR": f"127.0.0.1:{port}",
                }
            child = await Child.start(
                ["-m", "intake", "bot"], child_environment(**settings), work / f"bot-{backend}-{mode}.log"
            )
            return await _measure(
                crowd,
                child,
                bot,
                mode,
                backend,
                users,
                think,
                lambda person: screening_steps(i18n, f"Person {person.user_id % 100_000}"),
                profile=profile,
                flooder=flooder,
                flood_limit=flood_limit,
            )


async def _measure(
    crowd: Crowd,
    child: Child,
    bot: str,
    mode: str,
    backend: str | None,
    users: int,
    think: float,
    steps_of: Any,
    profile: Path | None = None,
    flooder: bool = False,
    flood_limit: str = "off",
) -> P1Result:
    profiler: asyncio.subprocess.Process | None = None
    try:
        # One person first: the bot is up, its pools are warm, and the first-update costs are paid.
        warm = await crowd.create_people(1)
        await crowd.run(warm, steps_of)
        if not warm[0].finished:
            raise RuntimeError(f"the {bot} bot did not answer; see {child.log}")
        people = await crowd.create_people(users)
        await crowd.clear_call_log()
        if profile is not None:
            py_spy = str(Path(sys.executable).with_name("py-spy"))
            profiler = await asyncio.create_subprocess_exec(
                py_spy, "record", "--pid", str(child.pid), "--format", "raw", "--output", str(profile),
                "--rate", "300", "--gil", "--nonblocking",
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
        flooding: asyncio.Task[int] | None = None
        if flooder:
            [flood] = await crowd.create_people(1)
            flooding = asyncio.create_task(crowd.flood(flood))
        cpu_before, own_before = child.cpu_seconds(), time.process_time()
        try:
            seconds = await crowd.run(people, steps_of, think=think)
        finally:
            flooder_sent = 0
            if flooding is not None:
                flooding.cancel()
                flooder_sent = await flooding
        cpu, own = child.cpu_seconds() - cpu_before, time.process_time() - own_before
        _, peak = child.memory_mib()
        latencies = step_latencies(people, await crowd.call_log())
    finally:
        if profiler is not None:
            profiler.send_signal(2)  # SIGINT: py-spy writes its profile and exits
            await profiler.wait()
        await child.stop()
    updates = sum(len(person.actions) + person.nudges for person in people)
    return P1Result(
        bot=bot,
        mode=mode,
        backend=backend,
        users=users,
        think=think,
        updates=updates,
        seconds=round(seconds, 3),
        updates_per_s=round(updates / seconds, 1),
        steady_per_s=round(steady_rate([t for person in people for t in person.actions]), 1),
        p50_ms=round(percentile(latencies, 0.50) * 1000, 1),
        p99_ms=round(percentile(latencies, 0.99) * 1000, 1),
        bot_cpu_ms_per_update=round(cpu * 1000 / updates, 2),
        sandbox_cpu_ms_per_update=round(own * 1000 / updates, 2),
        bot_peak_mib=round(peak, 1),
        unfinished=sum(not person.finished for person in people),
        nudges=sum(person.nudges for person in people),
        flooder_sent=flooder_sent,
        flood_limit=flood_limit,
    )
