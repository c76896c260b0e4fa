"""The worker's daily retention purge: one run on the worker's clock, its log (counts, nothing
about a person), the loop (at start, then every interval) and the election it runs under: on
PostgreSQL only the worker holding the sender's lock purges."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from outreach.leader import lead_then_run
from outreach.retention import RetentionWorker
from programme.retention import RetentionPolicy
from storage.crypto import Crypto
from storage.models import Beneficiary, Case
from storage.models_casework import CaseClosure
from tests.outreach.conftest import until

NOW = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)
POLICY = RetentionPolicy()


async def closed_long_ago(sessionmaker: async_sessionmaker[AsyncSession], count: int) -> list[str]:
    closed = NOW - POLICY.closed - dt.timedelta(days=1)
    codes = []
    async with sessionmaker() as session, session.begin():
        for number in range(count):
            person = Beneficiary(
                telegram_hash=secrets.token_hex(32), telegram_id_enc=b"x", last_active_at=closed
            )
            case = Case(code=f"IP-2025-{number + 1:06d}", beneficiary=person, stage="closed")
            session.add(case)
            await session.flush()
            session.add(
                CaseClosure(
                    case_id=case.id, reason="goals_reached", stage_before="monitoring", closed_at=closed
                )
            )
            codes.append(case.code)
    return codes


def ran(worker: RetentionWorker, times: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return worker.runs >= times

    return check


async def remaining(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return len((await session.execute(select(Case.id))).all())


async def test_one_run_purges_on_the_workers_clock_and_logs_counts_only(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, caplog: pytest.LogCaptureFixture
) -> None:
    codes = await closed_long_ago(sessionmaker, 3)
    worker = RetentionWorker(sessionmaker, crypto, policy=POLICY, scan=2, clock=lambda: NOW)
    caplog.set_level(logging.INFO, logger="outreach.retention")

    report = await worker.run_once()

    assert report.closed == 3
    assert await remaining(sessionmaker) == 0
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "3 closed" in logged
    assert not any(code in logged for code in codes)


async def test_the_loop_runs_at_start_and_then_every_interval(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    worker = RetentionWorker(sessionmaker, crypto, policy=POLICY, interval=0.05, clock=lambda: NOW)
    stop = asyncio.Event()
    loop = asyncio.create_task(worker.run(stop))
    await until(ran(worker, 3), within=10)
    stop.set()
    await loop


async def test_only_the_elected_worker_purges(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    await closed_long_ago(sessionmaker, 2)
    worker = RetentionWorker(sessionmaker, crypto, policy=POLICY, clock=lambda: NOW)
    stop = asyncio.Event()
    if engine.dialect.name == "postgresql":
        # Another worker leads (through the same election as the sender's), doing nothing meanwhile.
        leading, leader_stop = asyncio.Event(), asyncio.Event()

        async def lead(stop: asyncio.Event) -> None:
            leading.set()
            await stop.wait()

        leader = asyncio.create_task(lead_then_run(engine, lead, leader_stop, retry=0.05))
        await asyncio.wait_for(leading.wait(), 10)
        follower = asyncio.create_task(lead_then_run(engine, worker.run, stop, retry=0.05))
        await asyncio.sleep(0.5)
        assert worker.runs == 0
        assert await remaining(sessionmaker) == 2
        # The leader goes away: this one is elected and purges at once.
        leader_stop.set()
        await leader
    else:
        # SQLite has one worker process by design: no election, the work just runs.
        follower = asyncio.create_task(lead_then_run(engine, worker.run, stop))
    await until(ran(worker, 1), within=10)
    assert await remaining(sessionmaker) == 0
    stop.set()
    await follower


async def test_a_failed_run_is_logged_by_its_kind_and_tried_again(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []

    async def broken(*args: object, **kwargs: object) -> None:
        calls.append(1)
        raise ValueError("row IP-2025-000001 of Zarina")

    monkeypatch.setattr("outreach.retention.retention.purge", broken)
    worker = RetentionWorker(sessionmaker, crypto, policy=POLICY, retry_after=0.01, clock=lambda: NOW)
    stop = asyncio.Event()
    loop = asyncio.create_task(worker.run(stop))

    async def tried_twice() -> bool:
        return len(calls) >= 2

    await until(tried_twice, within=10)
    stop.set()
    await loop
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "retention purge failed (ValueError)" in logged
    assert "Zarina" not in logged and "IP-2025" not in logged
