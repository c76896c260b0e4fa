"""Reminder benchmarks: with N booked appointments (two reminders each, spread over the next 30 days,
and as many already sent or dropped), the scheduler's due scan against two baselines measured in the
same run (the same query without the pending-rows index, and a bare `SELECT 1` round trip); the
lag from a reminder's due time to its outbox row while a few hundred fall due; and the scheduler's
CPU while nothing is due.

Run: `python -m bench.reminders [--backend sqlite|postgresql] [--appointments 100000]`; prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import json
import secrets
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.infra import scratch_database, standalone_start
from bot.dialogs.reminders import reminder_message
from outreach.reminders import Scheduler
from storage.crypto import Crypto, generate_key, parse_keys
from storage.engine import create_engine, create_sessionmaker
from storage.models import Beneficiary, Case, utcnow
from storage.models_appointments import Appointment, Office
from storage.models_reminders import Reminder
from storage.reminders import due_reminders
from wording.languages import create_i18n

CHUNK = 5000
SCANS = 200
GOAL_LAG_S = 2.0
GOAL_IDLE_CPU_MS_PER_S = 10.0  # "≈ 0": at most 1% of one core


async def seed(sessionmaker: async_sessionmaker[AsyncSession], count: int) -> None:
    """`count` appointments with two pending reminders each, and `count` reminders sent or dropped."""
    now = utcnow()
    async with sessionmaker() as session, session.begin():
        office = Office(
            name="Bench office",
            address="Bench street 1",
            latitude=40.4,
            longitude=49.8,
            opening_hours={},
            holidays=[],
            appointment_types=["first"],
        )
        session.add(office)
        await session.flush()
        office_id = office.id
    for start in range(0, count, CHUNK):
        size = min(CHUNK, count - start)
        people = [{"id": uuid.uuid4(), "telegram_hash": secrets.token_hex(32)} for _ in range(size)]
        cases = [
            {"id": uuid.uuid4(), "beneficiary_id": p["id"], "code": f"IP-2026-{start + n:06d}"}
            for n, p in enumerate(people)
        ]
        appointments = []
        reminders = []
        for n, case in enumerate(cases):
            starts_at = now + dt.timedelta(days=2, seconds=(start + n) * 30 * 86400 // count)
            appointment_id = uuid.uuid4()
            appointments.append(
                {
                    "id": appointment_id,
                    "case_id": case["id"],
                    "office_id": office_id,
                    "type": "first",
                    "starts_at": starts_at,
                    "status": "booked",
                    "created_at": now,
                }
            )
            for minutes, status in ((1440, "pending"), (120, "pending"), (2880, "enqueued")):
                reminders.append(
                    {
                        "id": uuid.uuid4(),
                        "appointment_id": appointment_id,
                        "kind": "before",
                        "offset_minutes": minutes,
                        "due_at": starts_at - dt.timedelta(minutes=minutes),
                        "status": status,
                        "created_at": now,
                    }
                )
        async with sessionmaker() as session, session.begin():
            for row in people:
                row.update(telegram_id_enc=secrets.token_bytes(40), created_at=now, last_active_at=now)
            # Core inserts (executemany) of plain rows: no ORM bookkeeping for 400,000 of them.
            await session.execute(Beneficiary.__table__.insert(), people)
            for row in cases:
                row.update(stage="new", source="bot", created_at=now, updated_at=now, version=1)
            await session.execute(Case.__table__.insert(), cases)
            await session.execute(Appointment.__table__.insert(), appointments)
            await session.execute(Reminder.__table__.insert(), reminders)


async def scan_ms(sessionmaker: async_sessionmaker[AsyncSession], scan: str) -> float:
    """Median milliseconds of one scan with nothing due (a transaction each, as the scheduler runs)."""
    times = []
    for _ in range(SCANS):
        began = time.perf_counter()
        async with sessionmaker() as session, session.begin():
            if scan == "select 1":
                await session.execute(text("SELECT 1"))
            else:
                assert await due_reminders(session, now=utcnow(), limit=200) == []
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


async def without_index(sessionmaker: async_sessionmaker[AsyncSession]) -> float:
    async with sessionmaker() as session, session.begin():
        await session.execute(text("DROP INDEX ix_reminders_pending_due"))
    try:
        return await scan_ms(sessionmaker, "due")
    finally:
        async with sessionmaker() as session, session.begin():
            await session.execute(
                text("CREATE INDEX ix_reminders_pending_due ON reminders (due_at) WHERE status = 'pending'")
            )


async def lag(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, due_count: int, seconds: float
) -> dict[str, float]:
    """`due_count` reminders falling due evenly over `seconds` while the scheduler runs: the time
    from each one's due time to its outbox row (the round that queued it began at `enqueued_at`,
    and the row committed with the round: both are measured)."""
    async with sessionmaker() as session:
        ids = (await session.execute(select(Appointment.id).limit(due_count))).scalars().all()
    first = utcnow() + dt.timedelta(seconds=2)
    async with sessionmaker() as session, session.begin():
        await session.execute(
            insert(Reminder),
            [
                {
                    "id": uuid.uuid4(),
                    "appointment_id": appointment_id,
                    "kind": "before",
                    "offset_minutes": 30,
                    "due_at": first + dt.timedelta(seconds=seconds * n / len(ids)),
                    "status": "pending",
                    "created_at": utcnow(),
                }
                for n, appointment_id in enumerate(ids)
            ],
        )
    committed: dict[uuid.UUID, dt.datetime] = {}
    scheduler = Scheduler(
        sessionmaker, crypto, functools.partial(reminder_message, create_i18n()), default_timezone="Asia/Baku"
    )
    stop = asyncio.Event()

    async def watch() -> None:
        # The commit time of each queued reminder, seen from outside as soon as it is visible.
        while len(committed) < len(ids):
            async with sessionmaker() as session:
                found = await session.execute(
                    select(Reminder.id).where(Reminder.offset_minutes == 30, Reminder.status == "enqueued")
                )
                seen = utcnow()
                for reminder_id in found.scalars():
                    committed.setdefault(reminder_id, seen)
            await asyncio.sleep(0.05)
        stop.set()

    running = asyncio.create_task(scheduler.run(stop))
    await asyncio.wait_for(watch(), seconds + 60)
    await running
    async with sessionmaker() as session:
        rows = (await session.execute(select(Reminder).where(Reminder.offset_minutes == 30))).scalars().all()
    queued = sorted((row.enqueued_at - row.due_at).total_seconds() for row in rows if row.enqueued_at)
    visible = sorted((committed[row.id] - row.due_at).total_seconds() for row in rows)
    return {
        "due": len(rows),
        "queued_p50_s": round(statistics.median(queued), 3),
        "queued_max_s": round(queued[-1], 3),
        "visible_p50_s": round(statistics.median(visible), 3),
        "visible_p95_s": round(visible[int(0.95 * (len(visible) - 1))], 3),
        "visible_max_s": round(visible[-1], 3),
    }


async def idle_cpu(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, seconds: float) -> float:
    """CPU milliseconds per second this process spends running the scheduler with nothing due."""
    scheduler = Scheduler(
        sessionmaker, crypto, functools.partial(reminder_message, create_i18n()), default_timezone="Asia/Baku"
    )
    stop = asyncio.Event()
    running = asyncio.create_task(scheduler.run(stop))
    await asyncio.sleep(1)  # the first round (with the no-show scan) is not idle
    began, cpu = time.monotonic(), time.process_time()
    await asyncio.sleep(seconds)
    used = time.process_time() - cpu
    elapsed = time.monotonic() - began
    stop.set()
    await running
    return round(used * 1000 / elapsed, 2)


async def run(
    backend: str, work: Path, count: int, due_count: int, *, idle_seconds: float = 10, lag_seconds: float = 5
) -> dict[str, Any]:
    async with scratch_database(backend, work) as url:
        engine = create_engine(url)
        try:
            sessionmaker = create_sessionmaker(engine)
            crypto = Crypto(parse_keys(generate_key()))
            began = time.monotonic()
            await seed(sessionmaker, count)
            seeded = time.monotonic() - began
            if backend == "postgresql":
                async with engine.connect() as connection:
                    await connection.execute(text("ANALYZE"))
            result: dict[str, Any] = {
                "bench": "reminders",
                "backend": backend,
                "appointments": count,
                "reminder_rows": count * 3,
                "seed_s": round(seeded, 1),
                "scan_ms": round(await scan_ms(sessionmaker, "due"), 3),
                "scan_without_index_ms": round(await without_index(sessionmaker), 3),
                "select_1_ms": round(await scan_ms(sessionmaker, "select 1"), 3),
                "idle_cpu_ms_per_s": await idle_cpu(sessionmaker, crypto, idle_seconds),
            }
            result["lag"] = await lag(sessionmaker, crypto, due_count, lag_seconds)
            result["lag"]["over_s"] = lag_seconds
            return result
        finally:
            await engine.dispose()


def rows(results: list[dict[str, Any]]) -> list[list[str]]:
    """The benchmark table's rows (see bench/__main__.py)."""
    table = []
    for r in results:
        if r.get("bench") != "reminders":
            continue
        db, load = r["backend"], f"{r['appointments']:,} appointments ({r['reminder_rows']:,} reminders)"
        lag, idle = r["lag"], r["idle_cpu_ms_per_s"]
        table += [
            [
                "Reminders: due time → outbox row", db,
                f"{load}, {lag['due']} falling due in {lag.get('over_s', 5):g} s",
                f"p50 {lag['visible_p50_s']:.2f} s, p95 {lag['visible_p95_s']:.2f} s, "
                f"max {lag['visible_max_s']:.2f} s",
                f"≤ {GOAL_LAG_S:.0f} s: {'met' if lag['visible_max_s'] <= GOAL_LAG_S else 'NOT met'}",
            ],
            [
                "Reminders: due scan, nothing due", db, load,
                f"{r['scan_ms']:.2f} ms; without the pending index {r['scan_without_index_ms']:.1f} ms; "
                f"SELECT 1 {r['select_1_ms']:.2f} ms",
                "",
            ],
            [
                "Reminders: scheduler idle CPU", db, f"{load}, nothing due",
                f"{idle:.1f} ms CPU per s ({idle / 10:.2f}% of a core)",
                f"≈ 0 (≤ 1% of a core): {'met' if idle <= GOAL_IDLE_CPU_MS_PER_S else 'NOT met'}",
            ],
        ]  # fmt: skip
    return table


async def main(arguments: argparse.Namespace) -> None:
    work, backends, results = await standalone_start(arguments)
    for backend in backends:
        results.append(await run(backend, work, arguments.appointments, arguments.due))
        print(json.dumps(results[-1]), flush=True)
    (work / "reminders.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"])
    parser.add_argument("--appointments", type=int, default=100_000, help="booked appointments (100000)")
    parser.add_argument("--due", type=int, default=500, help="reminders falling due during the lag run (500)")
    parser.add_argument("--work", default="var/bench", help="scratch directory (var/bench)")
    asyncio.run(main(parser.parse_args()))
