"""The bot's paced p99 while the worker's retention purge erases N expired cases, side by side with
the same paced run on N cases closed recently (nothing to purge).

Both runs are `intake serve` (the bot, the sender with its daily purge, the console: one process, as
one office runs it on SQLite), started on a database seeded with N people, each with one closed case
(a closing, a screening answer, two chat messages); the purge runs at the worker's start, so it is
under way when the paced crowd (bench.p1) begins. The result says how many people the purge had
erased when the crowd finished: a run whose purge finished early says so.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from bench.crowd import Crowd, screening_steps
from bench.infra import Child, child_environment, scratch_database, standalone_start
from bench.p1 import _measure
from programme.retention import DEFAULT_RETENTION
from sandbox.server import SandboxServer
from storage.crypto import generate_key
from storage.engine import create_engine
from storage.models import Beneficiary, Case, FormResponse
from storage.models_casework import CaseClosure
from storage.models_journey import CaseMessage
from wording.languages import create_i18n

GOAL_P99_MS = 100.0
CHUNK = 2000


async def seed_closed(url: str, count: int, closed_at: dt.datetime) -> float:
    """`count` people with one case each, closed at `closed_at`; seconds it took."""
    started = time.monotonic()
    engine = create_engine(url)
    try:
        for start in range(0, count, CHUNK):
            people, cases, closings, answers, messages = [], [], [], [], []
            for n in range(start, min(count, start + CHUNK)):
                person, case = uuid.uuid4(), uuid.uuid4()
                people.append(
                    {
                        "id": person,
                        "telegram_hash": secrets.token_hex(32),
                        "telegram_id_enc": secrets.token_bytes(48),
                        "created_at": closed_at,
                        "last_active_at": closed_at,
                    }
                )
                cases.append(
                    {
                        "id": case,
                        "code": f"IP-2020-{n + 1:06d}",
                        "beneficiary_id": person,
                        "stage": "closed",
                        "source": "bot",
                        "created_at": closed_at,
                        "updated_at": closed_at,
                        "version": 1,
                    }
                )
                closings.append(
                    {
                        "id": uuid.uuid4(),
                        "case_id": case,
                        "reason": "goals_reached",
                        "stage_before": "monitoring",
                        "closed_at": closed_at,
                    }
                )
                answers.append(
                    {
                        "id": uuid.uuid4(),
                        "case_id": case,
                        "form_id": "screening",
                        "form_version": 1,
                        "answers_enc": secrets.token_bytes(200),
                        "created_at": closed_at,
                    }
                )
                messages += [
                    {
                        "id": uuid.uuid4(),
                        "case_id": case,
                        "direction": "in",
                        "kind": "text",
                        "body_enc": secrets.token_bytes(120),
                        "created_at": closed_at,
                    }
                    for _ in range(2)
                ]
            async with engine.begin() as connection:
                await connection.execute(insert(Beneficiary), people)
                await connection.execute(insert(Case), cases)
                await connection.execute(insert(CaseClosure), closings)
                await connection.execute(insert(FormResponse), answers)
                await connection.execute(insert(CaseMessage), messages)
    finally:
        await engine.dispose()
    return time.monotonic() - started


async def seeded_left(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            statement = select(func.count()).select_from(Case).where(Case.code.like("IP-2020-%"))
            return int((await connection.execute(statement)).scalar_one())
    finally:
        await engine.dispose()


async def run(backend: str, work: Path, cases: int, users: int, think: float, purge: bool) -> dict[str, Any]:
    """One paced run against `intake serve` on `cases` seeded people, expired (`purge`) or not."""
    now = dt.datetime.now(dt.UTC)
    closed_at = now - DEFAULT_RETENTION.closed - dt.timedelta(days=1) if purge else now - dt.timedelta(days=1)
    bot_id = 5_000_000_000 + secrets.randbelow(10**9)
    token = f"{bot_id}:{secrets.token_urlsafe(27)}"
    i18n = create_i18n()
    async with (
        scratch_database(backend, work) as url,
        SandboxServer() as sandbox,
        Crowd(sandbox.url, bot_id, patience=120.0) as crowd,
    ):
        seed_s = await seed_closed(url, cases, closed_at)
        settings = {
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_URL": sandbox.url,
            "DATABASE_URL": url,
            "INTAKE_DATA_KEYS": generate_key(),
            "INTAKE_CONSOLE_ADDR": "127.0.0.1:0",  # a free one: nothing here reads the console
        }
        log = work / f"serve-{backend}-{'purge' if purge else 'baseline'}.log"
        started = time.monotonic()
        child = await Child.start(["-m", "intake", "serve"], child_environment(**settings), log)
        result = await _measure(
            crowd,
            child,
            "intake",
            "polling",
            backend,
            users,
            think,
            lambda person: screening_steps(i18n, f"Person {person.user_id % 100_000}"),
        )
        ended_s = time.monotonic() - started
        left = await seeded_left(url)
    return {
        "bench": "purge",
        "backend": backend,
        "purge": purge,
        "cases": cases,
        "seed_s": round(seed_s, 1),
        "erased": cases - left if purge else 0,
        "run_s": round(ended_s, 1),
        **{key: value for key, value in result.as_dict().items() if key not in ("bot", "mode", "backend")},
    }


def rows(results: list[dict[str, Any]]) -> list[list[str]]:
    """The benchmark table's rows (see bench/__main__.py)."""
    table = []
    for r in results:
        if r.get("bench") != "purge":
            continue
        load = (
            f"{r['users']} people, ~{r['think']:g} s between actions: {r['steady_per_s']:.0f} upd/s; "
            f"{r['cases']:,} closed cases"
        )
        if r["purge"]:
            name = "P1 paced, intake serve, during the retention purge"
            load += f" past their period ({r['erased']:,} erased by the end of the run)"
        else:
            name = "P1 paced, intake serve, no purge"
            load += " within their period"
        result = (
            f"p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, {r['bot_cpu_ms_per_update']:.1f} ms CPU/upd"
        )
        if r["unfinished"] or r["nudges"]:
            result += f"; {r['unfinished']} unfinished, {r['nudges']} nudged"
        goal = f"p99 < {GOAL_P99_MS:.0f} ms: {'met' if r['p99_ms'] < GOAL_P99_MS else 'NOT met'}"
        table.append([name, r["backend"], load, result, goal])
    return table


async def main(arguments: argparse.Namespace) -> None:
    work, backends, results = await standalone_start(arguments)
    for backend in backends:
        for purge in (False, True):
            results.append(await run(backend, work, arguments.cases, arguments.users, arguments.think, purge))
            print(json.dumps(results[-1]), flush=True)
    (work / "purge.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"])
    parser.add_argument("--cases", type=int, default=100_000, help="closed cases seeded (100000)")
    parser.add_argument("--users", type=int, default=130, help="people in the paced crowd (130)")
    parser.add_argument("--think", type=float, default=1.0, help="seconds between a person's actions (1)")
    parser.add_argument("--work", default="var/bench", help="scratch directory (var/bench)")
    asyncio.run(main(parser.parse_args()))
