"""Each speed patch (intake.speedups) against the stock library, side by side in one run, on the path
the patch is there for; `python -m bench.speedups`, or `make bench BENCH_ARGS="--only speedups"`.

- `deferred_models`: a process importing our runtime and reading one update, with INTAKE_SPEEDUPS on
  and off (a fresh process each, alternating): its resident memory and import time.
- `filters`: the filter checks a text message goes through before the handler that takes it (every
  router's message handlers, as aiogram's observer checks them), with and without the wrapper.
- `sqlite_one_trip`: one transaction as the bot makes it (BEGIN IMMEDIATE, a point read, a point
  write, COMMIT), one after the other, on stock aiosqlite, the one-trip driver and inline.
- `sqlite_turns`: 20 writers of one process committing at once, with and without taking turns: the
  99th percentile of a transaction's time.

Rounds alternate stock and patched so that a noisy neighbour weighs on both; the medians are kept.
A patch that no longer brings at least 10% on its own path goes (docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.types import Message
from sqlalchemy import text

from bench.infra import ROOT, child_environment, machine
from bot.factory import create_dispatcher
from intake import speedups
from intake.speedups import filters, sqlite_one_trip, sqlite_turns
from storage.crypto import Crypto, generate_key, parse_keys
from storage.engine import STOCK, SqliteSpeedups, create_engine, create_sessionmaker
from wording.languages import create_i18n

GOAL = 0.10  # of the patch's own path
ROUNDS = 5

PROBE = """
import json, re, sys, time
started = time.perf_counter()
import intake.runtime
imported = time.perf_counter() - started
from aiogram.types import Update
Update.model_validate({"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "hi",
    "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "is_bot": False, "first_name": "A"}}})
rss = int(re.search(r"VmRSS:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) / 1024
print(json.dumps({"rss_mib": rss, "import_s": imported}))
"""


def _process(setting: str) -> dict[str, float]:
    done = subprocess.run(  # noqa: S603 - this interpreter and our own probe
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=child_environment(INTAKE_SPEEDUPS=setting),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def deferred_models(rounds: int) -> dict[str, Any]:
    runs: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    for _ in range(rounds):
        for setting in runs:
            runs[setting].append(_process(setting))

    def median(setting: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[setting])

    stock, patched = median("off", "rss_mib"), median("on", "rss_mib")
    return {
        "bench": "speedup",
        "patch": "deferred_models",
        "backend": "-",
        "load": "a process importing the runtime and reading one update",
        "measure": "resident memory",
        "stock": f"{stock:.0f} MiB, imported in {median('off', 'import_s'):.2f} s",
        "patched": f"{patched:.0f} MiB, imported in {median('on', 'import_s'):.2f} s",
        "gain": 1 - patched / stock,
    }


def _a_text_message() -> tuple[Message, dict[str, Any]]:
    message = Message.model_validate(
        {
            "message_id": 1,
            "date": 1_700_000_000,
            "text": "a question nobody expected",
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "A", "language_code": "en"},
        }
    )
    data = {"raw_state": None, "event_chat": message.chat, "event_from_user": message.from_user}
    return message, data


async def _checks_until_taken(dispatcher: Any, message: Message, data: dict[str, Any]) -> int:
    """The filter checks aiogram's message observers make until a handler takes the message."""
    checked = 0
    for router in dispatcher.chain_tail:
        for handler in router.message.handlers:
            checked += len(handler.filters or ())
            taken, _ = await handler.check(message, **data)
            if taken:
                return checked
    return checked


async def filter_checks(rounds: int, updates: int) -> dict[str, Any]:
    crypto = Crypto(parse_keys(generate_key()))
    engine = create_engine("sqlite+aiosqlite:///:memory:")  # never connected: the checks read nothing
    sessionmaker = create_sessionmaker(engine)
    stock = create_dispatcher(sessionmaker=sessionmaker, crypto=crypto)
    patched = create_dispatcher(sessionmaker=sessionmaker, crypto=crypto)
    filters.keep_in_loop(patched)
    message, data = _a_text_message()
    data["bot"] = Bot("1:x")
    i18n = create_i18n()

    async def one(dispatcher: Any) -> None:
        await _checks_until_taken(dispatcher, message, data)

    with i18n.context(), i18n.use_locale("en"):  # the menu's labels are lazy texts
        checks = await _checks_until_taken(stock, message, data)
        assert checks == await _checks_until_taken(patched, message, data)
        times = await _alternate(
            {"stock": lambda: one(stock), "patched": lambda: one(patched)}, rounds, updates
        )
    await engine.dispose()
    return _compare(
        "filters",
        "-",
        f"a text message through {checks} filter checks to the fallback, {updates} times",
        "time per message",
        times,
        unit="µs",
        scale=1e6,
    )


async def _prepare(url: str) -> None:
    engine = create_engine(url, speedups=STOCK)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, n INTEGER)"))
        await connection.execute(text("DELETE FROM t"))
        await connection.execute(
            text("INSERT INTO t (id, n) VALUES (:id, 0)"), [{"id": n} for n in range(100)]
        )
    await engine.dispose()


async def _transaction(engine: Any, key: int) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("SELECT n FROM t WHERE id = :id"), {"id": key})
        await connection.execute(text("UPDATE t SET n = n + 1 WHERE id = :id"), {"id": key})


async def one_trip(work: Path, rounds: int, transactions: int) -> list[dict[str, Any]]:
    url = f"sqlite+aiosqlite:///{work / 'speedups-driver.db'}"
    await _prepare(url)
    driver = SqliteSpeedups(driver=sqlite_one_trip.dbapi)
    engines = {
        "stock": create_engine(url, speedups=STOCK),
        "patched": create_engine(url, speedups=driver),
        "inline": create_engine(url, speedups=driver, inline=True),
    }
    counter = iter(range(10**9))

    def runner(engine: Any) -> Callable[[], Awaitable[None]]:
        return lambda: _transaction(engine, next(counter) % 100)

    try:
        for engine in engines.values():  # connections opened before anything is timed
            await _transaction(engine, 0)
        times = await _alternate({name: runner(e) for name, e in engines.items()}, rounds, transactions)
    finally:
        for engine in engines.values():
            await engine.dispose()
    load = f"{transactions} transactions one after the other (a point read and a point write each)"
    return [
        _compare("sqlite_one_trip", "sqlite", load, "time per transaction", times, unit="ms", scale=1e3),
        _compare(
            "sqlite_one_trip, inline",
            "sqlite",
            load,
            "time per transaction",
            {"stock": times["stock"], "patched": times["inline"]},
            unit="ms",
            scale=1e3,
        ),
    ]


async def turns(work: Path, rounds: int, writers: int, each: int) -> dict[str, Any]:
    """What a writer waits for its turn: the 99th percentile of a transaction's time, start to
    commit, while `writers` of the same process write at once (SQLite's busy handler sleeps up to
    100 ms between tries; a writer woken by the one before it does not)."""
    url = f"sqlite+aiosqlite:///{work / 'speedups-turns.db'}"
    await _prepare(url)
    driver = sqlite_one_trip.dbapi
    engines = {
        "stock": create_engine(url, speedups=SqliteSpeedups(driver=driver)),
        "patched": create_engine(url, speedups=SqliteSpeedups(driver=driver, engine=sqlite_turns.take_turns)),
    }
    p99s: dict[str, list[float]] = {name: [] for name in engines}

    async def burst(name: str) -> None:
        took: list[float] = []

        async def writer(n: int) -> None:
            for i in range(each):
                started = time.perf_counter()
                await _transaction(engines[name], (n * each + i) % 100)
                took.append(time.perf_counter() - started)

        await asyncio.gather(*(writer(n) for n in range(writers)))
        p99s[name].append(statistics.quantiles(took, n=100)[98])

    try:
        for _ in range(rounds):
            for name in engines:
                await burst(name)
    finally:
        for engine in engines.values():
            await engine.dispose()
    return _compare(
        "sqlite_turns",
        "sqlite",
        f"{writers} writers of one process at once, {each} transactions each",
        "p99 of a transaction",
        {name: statistics.median(values) for name, values in p99s.items()},
        unit="ms",
        scale=1e3,
    )


async def _alternate(
    variants: dict[str, Callable[[], Awaitable[None]]], rounds: int, repeat: int
) -> dict[str, float]:
    """Median seconds per call of each variant, the variants taking turns round by round."""
    seen: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, call in variants.items():
            started = time.perf_counter()
            for _ in range(repeat):
                await call()
            seen[name].append((time.perf_counter() - started) / repeat)
    return {name: statistics.median(values) for name, values in seen.items()}


def _compare(
    patch: str, backend: str, load: str, measure: str, times: dict[str, float], *, unit: str, scale: float
) -> dict[str, Any]:
    return {
        "bench": "speedup",
        "patch": patch,
        "backend": backend,
        "load": load,
        "measure": measure,
        "stock": f"{times['stock'] * scale:.1f} {unit}",
        "patched": f"{times['patched'] * scale:.1f} {unit}",
        "gain": 1 - times["patched"] / times["stock"],
    }


def rows(results: list[dict[str, Any]]) -> list[list[str]]:
    """The benchmark table's rows (see bench/__main__.py)."""
    return [
        [
            f"Speed patch: {r['patch']}",
            r["backend"],
            r["load"],
            f"{r['measure']}: stock {r['stock']}; patched {r['patched']}: "
            f"{abs(r['gain']):.0%} {'less' if r['gain'] >= 0 else 'more'}",
            f"≥ {GOAL:.0%} less: {'met' if r['gain'] >= GOAL else 'NOT met'}",
        ]
        for r in results
        if r.get("bench") == "speedup"
    ]


async def main(arguments: argparse.Namespace) -> None:
    work = Path(arguments.work)
    work.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before anything runs
    results: list[dict[str, Any]] = [{"machine": await machine(False)}]
    measured = [
        deferred_models(arguments.rounds),
        await filter_checks(arguments.rounds, arguments.updates),
        *await one_trip(work, arguments.rounds, arguments.transactions),
        await turns(work, arguments.rounds, writers=20, each=max(arguments.transactions // 40, 5)),
    ]
    for result in measured:
        results.append(result)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    # Each variant is built explicitly; the process's own patches (intake) do not matter here.
    assert os.environ.get(speedups.SETTING, "on") in ("on", "off")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], help="only sqlite is measured")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="rounds of each variant (5)")
    parser.add_argument("--updates", type=int, default=500, help="messages per round, filters (500)")
    parser.add_argument(
        "--transactions", type=int, default=1000, help="transactions per round, SQLite (1000)"
    )
    parser.add_argument("--work", default="var/bench", help="scratch directory (var/bench)")
    asyncio.run(main(parser.parse_args()))
