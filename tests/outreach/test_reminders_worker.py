"""The worker's scheduler in a real process (the one `intake worker` runs, with its sender), killed
with SIGKILL and restarted across due times: every reminder reaches its person exactly once."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sandbox.client import SandboxClient
from storage.crypto import Crypto, generate_key, parse_keys
from storage.engine import create_engine, create_sessionmaker
from storage.journey import ensure_case
from storage.models import Beneficiary, OutboxMessage, utcnow
from storage.models_appointments import Appointment
from storage.models_reminders import Reminder
from storage.outbox import FINAL
from tests.bot.test_appointments import add_office
from tests.conftest import Database
from tests.outreach.conftest import (
    TOKEN,
    Child,
    check_exactly_once,
    copies_per_chat,
    dedicated_database,
    outbox_rows,
    recipients,
    sandbox_process,
    until,
)

pytestmark = pytest.mark.slow

GROUP = 20


async def appointments_for(
    sessionmaker: async_sessionmaker[AsyncSession], beneficiary_ids: list[uuid.UUID]
) -> list[uuid.UUID]:
    """A booked appointment tomorrow for each person (no reminders yet: the test sets their times)."""
    starts_at = (utcnow() + dt.timedelta(days=1)).replace(microsecond=0)
    async with sessionmaker() as session, session.begin():
        office = await add_office(session, capacity=100)
        ids = []
        for beneficiary_id in beneficiary_ids:
            beneficiary = await session.get(Beneficiary, beneficiary_id)
            assert beneficiary is not None
            case = await ensure_case(session, beneficiary=beneficiary)
            appointment = Appointment(case_id=case.id, office_id=office.id, type="first", starts_at=starts_at)
            session.add(appointment)
            await session.flush()
            ids.append(appointment.id)
        return ids


async def remind_at(
    sessionmaker: async_sessionmaker[AsyncSession], appointment_ids: list[uuid.UUID], due: list[dt.datetime]
) -> None:
    async with sessionmaker() as session, session.begin():
        for appointment_id, due_at in zip(appointment_ids, due, strict=True):
            session.add(
                Reminder(appointment_id=appointment_id, kind="before", offset_minutes=60, due_at=due_at)
            )


async def pending(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        unsent = select(func.count()).select_from(Reminder).where(Reminder.status == "pending")
        unsettled = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.not_in(FINAL))
        return (await session.execute(unsent)).scalar_one() + (await session.execute(unsettled)).scalar_one()


async def delivered(phone: SandboxClient) -> int:
    return sum((await copies_per_chat(phone)).values())


async def test_a_worker_killed_and_restarted_across_due_times_sends_each_reminder_once(
    database: Database, tmp_path: Path, rng: random.Random
) -> None:
    key = generate_key()
    async with (
        sandbox_process(tmp_path) as sandbox_url,
        SandboxClient(sandbox_url, int(TOKEN.split(":")[0])) as phone,
        dedicated_database(database, tmp_path) as url,
    ):
        engine = create_engine(url)
        try:
            sessionmaker = create_sessionmaker(engine)
            crypto = Crypto(parse_keys(key))
            people = await recipients(phone, sessionmaker, crypto, 3 * GROUP)
            appointments = await appointments_for(sessionmaker, [beneficiary for _, beneficiary in people])
            first, during_downtime, spread = (appointments[n * GROUP : (n + 1) * GROUP] for n in range(3))
            await remind_at(sessionmaker, first, [utcnow()] * GROUP)
            settings = {
                "DATABASE_URL": url,
                "INTAKE_DATA_KEYS": key,
                "TELEGRAM_API_URL": sandbox_url,
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "INTAKE_SEND_RATE": "1000",
                # The test runs at any hour: late reminders would otherwise wait for the morning.
                "INTAKE_REMINDER_QUIET_HOURS": "off",
            }
            log = tmp_path / "worker.log"
            command = ["-m", "intake.sender_process", "--lease", "1.5"]

            worker = await Child.start(command, settings, log)
            try:
                await until(lambda: _at_least(phone, GROUP), within=60)
            finally:
                worker.kill()
            await worker.process.wait()

            # Due while no worker runs (after the kill, before the restart: due already when it
            # starts, without waiting for a time to pass), and spread over the seconds after it.
            down_due = utcnow()
            await remind_at(sessionmaker, during_downtime, [down_due] * GROUP)
            start = utcnow() + dt.timedelta(seconds=2)
            await remind_at(
                sessionmaker, spread, [start + dt.timedelta(milliseconds=150 * n) for n in range(GROUP)]
            )

            kill_point = GROUP * 2 + rng.randint(1, GROUP - 2)  # somewhere in the spread group
            worker = await Child.start(command, settings, log)
            try:
                await until(lambda: _at_least(phone, kill_point), within=60)
            finally:
                worker.kill()
            await worker.process.wait()
            worker = await Child.start(command, settings, log)
            try:
                await until(lambda: _none_pending(sessionmaker), within=60)
            finally:
                await worker.stop()

            async with sessionmaker() as session:
                reminders = list((await session.execute(select(Reminder))).scalars())
        finally:
            await engine.dispose()
        assert {reminder.status for reminder in reminders} == {"enqueued"}
        rows = await outbox_rows(url)
        assert sorted(row.id for row in rows) == sorted(reminder.outbox_id for reminder in reminders)
        chat_of = {beneficiary: user for user, beneficiary in people}
        chats = {row.id: chat_of[row.beneficiary_id] for row in rows}
        check_exactly_once(rows, chats, await copies_per_chat(phone))
        assert len(chats) == 3 * GROUP


async def _at_least(phone: SandboxClient, count: int) -> bool:
    return await delivered(phone) >= count


async def _none_pending(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    return await pending(sessionmaker) == 0
