"""Outreach benchmarks: the sender's unthrottled rate against a bare aiohttp loop, how closely it holds
25/s and 1,000/s, and the memory of a sender process working through a 100,000-recipient campaign.

Run: `python -m bench.outreach [--backend sqlite|postgresql] [--recipients 100000]`; prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select

from bench.infra import Child, child_environment, free_port, machine, postgres_reachable, scratch_database
from bot.factory import create_bot
from outreach.outbox import FINAL, Lane, enqueue
from outreach.sender import Sender
from sandbox.client import SandboxClient
from storage.crypto import Crypto, generate_key, parse_keys
from storage.engine import create_engine, create_sessionmaker
from storage.models import Beneficiary, OutboxMessage
from storage.queries import TELEGRAM_PURPOSE
from storage.sealing import seal

NOTICE = "Notice: the office is open on Saturday."


async def until_sent(url: str, every: float) -> None:
    while True:
        if not await unsettled(url):
            return
        await asyncio.sleep(every)


async def start_sandbox(work: Path) -> tuple[Child, str]:
    port = free_port()
    child = await Child.start(
        ["-m", "intake", "sandbox", "--port", str(port)], child_environment(), work / "sandbox.log"
    )
    for _ in range(300):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return child, f"http://127.0.0.1:{port}"
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError("the sandbox did not start")


async def people(phone: SandboxClient, count: int) -> list[int]:
    users: list[int] = []
    for start in range(0, count, 200):
        users += await asyncio.gather(*(phone.create_user() for _ in range(min(200, count - start))))
    return users


async def fill_outbox(url: str, key: str, users: list[int], lane: Lane = Lane.BROADCAST) -> None:
    """Beneficiaries and one broadcast row each, in chunks (what a campaign materialises)."""
    engine = create_engine(url)
    crypto = Crypto(parse_keys(key))
    campaign = uuid.uuid4()
    try:
        sessionmaker = create_sessionmaker(engine)
        for start in range(0, len(users), 2000):
            async with sessionmaker() as session, session.begin():
                for user in users[start : start + 2000]:
                    beneficiary = Beneficiary(telegram_hash=crypto.blind_index(TELEGRAM_PURPOSE, str(user)))
                    seal(crypto, beneficiary, "telegram_id_enc", str(user))
                    session.add(beneficiary)
                    enqueue(
                        session, crypto, beneficiary_id=beneficiary.id, text=NOTICE, lane=lane,
                        campaign_id=campaign,
                    )  # fmt: skip
    finally:
        await engine.dispose()


async def unsettled(url: str) -> int:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            statement = (
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.not_in(FINAL))
            )
            return (await session.execute(statement)).scalar_one()
    finally:
        await engine.dispose()


async def send_times(phone: SandboxClient) -> list[float]:
    return sorted(e["t"] for e in await phone.call_log() if e["method"] == "sendMessage" and e["ok"])


def busiest_second(times: list[float]) -> int:
    most, first = 0, 0
    for last, t in enumerate(times):
        while times[first] <= t - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def run_sender(url: str, key: str, sandbox_url: str, token: str, rate: float) -> float:
    """The sender in this process until the outbox is empty; returns the seconds it took."""
    engine = create_engine(url)
    bot = create_bot(token, sandbox_url)
    try:
        await bot.get_me()
        sessionmaker = create_sessionmaker(engine)
        sender = Sender(bot, sessionmaker, Crypto(parse_keys(key)), rate=rate, idle_interval=0.02)
        stop = asyncio.Event()
        started = time.monotonic()
        running = asyncio.create_task(sender.run(stop))
        await until_sent(url, 0.05)
        stop.set()
        await running
        return time.monotonic() - started
    finally:
        await bot.session.close()
        await engine.dispose()


async def bare_loop(sandbox_url: str, token: str, users: list[int], concurrency: int = 64) -> None:
    """The same messages with nothing but aiohttp: no database, no limits, no bookkeeping."""
    semaphore = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as http:

        async def one(user: int) -> None:
            async with semaphore:
                body = {
                    "chat_id": user,
                    "text": NOTICE,
                    "parse_mode": "HTML",
                }
                async with http.post(f"{sandbox_url}/bot{token}/sendMessage", json=body) as response:
                    await response.read()

        await asyncio.gather(*(one(user) for user in users))


async def sender_vs_bare(backend: str, work: Path, count: int) -> dict[str, Any]:
    bot_id = 5_000_000_000 + secrets.randbelow(10**9)
    token = f"{bot_id}:{secrets.token_urlsafe(27)}"
    key = generate_key()
    sandbox, sandbox_url = await start_sandbox(work)
    try:
        async with SandboxClient(sandbox_url, bot_id) as phone, scratch_database(backend, work) as url:
            users = await people(phone, count)
            started = time.monotonic()
            await bare_loop(sandbox_url, token, users)
            bare = count / (time.monotonic() - started)
            await fill_outbox(url, key, users)
            await phone.clear_call_log()
            await run_sender(url, key, sandbox_url, token, rate=1_000_000)
            times = await send_times(phone)
            ours = (len(times) - 1) / (times[-1] - times[0])
    finally:
        await sandbox.stop()
    return {
        "bench": "sender_vs_bare_aiohttp", "backend": backend, "messages": count,
        "bare_per_s": round(bare, 1), "sender_per_s": round(ours, 1), "ratio": round(ours / bare, 3),
    }  # fmt: skip


async def rate_holding(backend: str, work: Path, rate: float, seconds: float) -> dict[str, Any]:
    bot_id = 5_000_000_000 + secrets.randbelow(10**9)
    token = f"{bot_id}:{secrets.token_urlsafe(27)}"
    key = generate_key()
    count = int(rate * seconds)
    sandbox, sandbox_url = await start_sandbox(work)
    try:
        async with SandboxClient(sandbox_url, bot_id) as phone, scratch_database(backend, work) as url:
            await fill_outbox(url, key, await people(phone, count))
            await run_sender(url, key, sandbox_url, token, rate=rate)
            times = await send_times(phone)
    finally:
        await sandbox.stop()
    measured = (len(times) - 1) / (times[-1] - times[0])
    return {
        "bench": "rate_holding", "backend": backend, "configured_per_s": rate, "messages": len(times),
        "measured_per_s": round(measured, 2), "error_pct": round(abs(measured - rate) / rate * 100, 2),
        "busiest_second": busiest_second(times),
    }  # fmt: skip


async def campaign_memory(backend: str, work: Path, count: int, rate: float) -> dict[str, Any]:
    bot_id = 5_000_000_000 + secrets.randbelow(10**9)
    token = f"{bot_id}:{secrets.token_urlsafe(27)}"
    key = generate_key()
    sandbox, sandbox_url = await start_sandbox(work)
    try:
        async with SandboxClient(sandbox_url, bot_id) as phone, scratch_database(backend, work) as url:
            await fill_outbox(url, key, await people(phone, count))
            settings = {
                "DATABASE_URL": url, "INTAKE_DATA_KEYS": key, "TELEGRAM_API_URL": sandbox_url,
                "TELEGRAM_BOT_TOKEN": token, "INTAKE_SEND_RATE": str(rate),
            }  # fmt: skip
            child = await Child.start(
                ["-m", "outreach.sender_process"], child_environment(**settings), work / "sender.log"
            )
            started = time.monotonic()
            try:
                await until_sent(url, 1.0)
                seconds = time.monotonic() - started
                rss, peak = child.memory_mib()
            finally:
                await child.stop()
    finally:
        await sandbox.stop()
    return {
        "bench": "campaign_memory", "backend": backend, "recipients": count, "seconds": round(seconds, 1),
        "sender_rss_mib": round(rss, 1), "sender_peak_mib": round(peak, 1),
    }  # fmt: skip


async def main(arguments: argparse.Namespace) -> None:
    work = Path(arguments.work)
    work.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before anything runs
    backends = (
        [arguments.backend]
        if arguments.backend
        else ["sqlite"] + (["postgresql"] if postgres_reachable() else [])
    )
    results: list[dict[str, Any]] = [{"machine": await machine("postgresql" in backends)}]
    for backend in backends:
        results.append(await sender_vs_bare(backend, work, arguments.messages))
        results.append(await rate_holding(backend, work, 25, 20))
        results.append(await rate_holding(backend, work, 1000, 10))
        if arguments.recipients:
            results.append(await campaign_memory(backend, work, arguments.recipients, 1000))
        for result in results[-4:]:
            print(json.dumps(result), flush=True)
    (work / "outreach.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"])
    parser.add_argument("--messages", type=int, default=5000, help="for the sender vs bare aiohttp (5000)")
    parser.add_argument(
        "--recipients", type=int, default=100_000, help="campaign for the memory bench; 0 skips"
    )
    parser.add_argument("--work", default="var/bench", help="scratch directory (var/bench)")
    asyncio.run(main(parser.parse_args()))
