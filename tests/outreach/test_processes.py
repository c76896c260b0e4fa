"""Real sender processes: killed with SIGKILL mid-campaign and restarted; two workers, one elected."""

from __future__ import annotations

import contextlib
import random
import secrets
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseworker_console.app import create_app
from caseworker_console.auth import SESSION_COOKIE, hash_token
from programme.figures import breakdown
from sandbox.client import SandboxClient
from storage import staff
from storage.crypto import Crypto, generate_key, parse_keys
from storage.engine import create_engine, create_sessionmaker
from storage.models import utcnow
from storage.outbox import Lane, Status
from tests.conftest import Database
from tests.console.conftest import form_token
from tests.outreach.conftest import (
    TOKEN,
    Child,
    busiest_second,
    check_exactly_once,
    copies_per_chat,
    dedicated_database,
    outbox_rows,
    queue,
    recipients,
    sandbox_process,
    until,
)

pytestmark = pytest.mark.slow

CAMPAIGN = 2000
LEADING = "this worker is now the active sender"
# A worker's start includes importing aiogram: seconds on a quiet machine, far more on a loaded one.
STARTED_AND_WORKING = 90


async def start_campaign(
    url: str, phone: SandboxClient, key: str, count: int = CAMPAIGN
) -> dict[uuid.UUID, int]:
    """A broadcast to `count` new people in the outbox; returns each row's chat."""
    engine = create_engine(url)
    try:
        sessionmaker = create_sessionmaker(engine)
        crypto = Crypto(parse_keys(key))
        people = await recipients(phone, sessionmaker, crypto, count)
        await queue(
            sessionmaker, crypto, [b for _, b in people], lane=Lane.BROADCAST, campaign_id=uuid.uuid4()
        )
    finally:
        await engine.dispose()
    chat_of = {beneficiary: user for user, beneficiary in people}
    return {row.id: chat_of[row.beneficiary_id] for row in await outbox_rows(url)}


async def sent_so_far(phone: SandboxClient) -> int:
    return sum((await copies_per_chat(phone)).values())


async def test_a_sender_killed_at_random_points_of_a_campaign_sends_each_message_at_most_once(
    database: Database, tmp_path: Path, rng: random.Random
) -> None:
    key = generate_key()
    async with (
        sandbox_process(tmp_path) as sandbox_url,
        SandboxClient(sandbox_url, int(TOKEN.split(":")[0])) as phone,
        dedicated_database(database, tmp_path) as url,
    ):
        chats = await start_campaign(url, phone, key)
        settings = {
            "DATABASE_URL": url,
            "INTAKE_DATA_KEYS": key,
            "TELEGRAM_API_URL": sandbox_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "INTAKE_SEND_RATE": "1000",
        }
        log = tmp_path / "sender.log"
        kill_points = sorted(rng.sample(range(100, CAMPAIGN - 300), 3))
        for point in kill_points:
            child = await Child.start(["-m", "intake.sender_process", "--lease", "1.5"], settings, log)
            try:

                async def reached(point: int = point) -> bool:
                    return await sent_so_far(phone) >= point

                await until(reached, within=STARTED_AND_WORKING, every=0.01)
            finally:
                child.kill()
                await child.process.wait()
        child = await Child.start(["-m", "intake.sender_process", "--lease", "1.5"], settings, log)
        try:

            async def finished() -> bool:
                return all(row.status in (Status.SENT, Status.UNCERTAIN) for row in await outbox_rows(url))

            await until(finished, within=2 * STARTED_AND_WORKING, every=0.2)
        finally:
            await child.stop()
        rows = await outbox_rows(url)
        copies = await copies_per_chat(phone)
    check_exactly_once(rows, chats, copies)
    uncertain = sum(row.status == Status.UNCERTAIN for row in rows)
    print(f"killed after {kill_points} sends; {uncertain} rows uncertain of {CAMPAIGN}")
    assert uncertain <= 3 * 100  # at most what was in flight at each kill (the round, not the campaign)


async def test_a_restarted_intake_serve_sends_what_the_killed_one_held_without_waiting_out_its_lease(
    database: Database, tmp_path: Path
) -> None:
    # On PostgreSQL the restarted process is elected at once (the dead one's lock went with its
    # connection) and takes over as a new leader does; on SQLite it is the one process that sends.
    key = generate_key()
    async with (
        sandbox_process(tmp_path) as sandbox_url,
        SandboxClient(sandbox_url, int(TOKEN.split(":")[0])) as phone,
        dedicated_database(database, tmp_path) as url,
    ):
        chats = await start_campaign(url, phone, key)
        settings = {
            "DATABASE_URL": url,
            "INTAKE_DATA_KEYS": key,
            "TELEGRAM_API_URL": sandbox_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "INTAKE_SEND_RATE": "1000",
        }
        log = tmp_path / "sender.log"
        # `intake serve` as an office runs it (bot, console and worker in one process), with the
        # production lease: a minute, which the restarted process must not wait out.
        settings["INTAKE_CONSOLE_ADDR"] = "127.0.0.1:0"  # a free port the console binds itself
        child = await Child.start(["-m", "intake", "serve"], settings, log)
        try:
            await until(lambda: reached(phone, 100), within=STARTED_AND_WORKING, every=0.01)
        finally:
            child.kill()
            await child.process.wait()
        held = {row.id: row.lease_until for row in await outbox_rows(url) if row.status == Status.SENDING}
        assert held  # at 1,000 a second a round is always out
        child = await Child.start(["-m", "intake", "serve"], settings, log)
        try:

            async def finished() -> bool:
                return all(row.status in (Status.SENT, Status.UNCERTAIN) for row in await outbox_rows(url))

            await until(finished, within=2 * STARTED_AND_WORKING, every=0.2)
        finally:
            await child.stop()
        rows = await outbox_rows(url)
        copies = await copies_per_chat(phone)
    check_exactly_once(rows, chats, copies)
    # Sent before the dead process's lease on them ran out: released at the start, not waited for.
    waited = [
        row.id for row in rows if row.id in held and row.status == Status.SENT and row.sent_at >= held[row.id]
    ]
    assert waited == []


async def reached(phone: SandboxClient, count: int) -> bool:
    return await sent_so_far(phone) >= count


async def test_of_two_workers_on_postgresql_one_sends_and_the_other_takes_over_when_it_dies(
    database: Database, tmp_path: Path
) -> None:
    if database.backend != "postgresql":
        pytest.skip("SQLite has one process by design: there is no election")
    key = generate_key()
    rate = 50
    async with (
        sandbox_process(tmp_path) as sandbox_url,
        SandboxClient(sandbox_url, int(TOKEN.split(":")[0])) as phone,
        dedicated_database(database, tmp_path) as url,
    ):
        settings = {
            "DATABASE_URL": url,
            "INTAKE_DATA_KEYS": key,
            "TELEGRAM_API_URL": sandbox_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "INTAKE_SEND_RATE": str(rate),
        }
        logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
        workers = [await Child.start(["-m", "intake", "worker"], settings, log) for log in logs]
        try:

            async def leader() -> int | None:
                leading = [n for n, log in enumerate(logs) if LEADING in log.read_text()]
                assert len(leading) <= 1, "two workers lead at once"
                return leading[0] + 1 if leading else None

            first = await until(leader, within=STARTED_AND_WORKING) - 1
            chats = await start_campaign(url, phone, key, count=400)

            async def some_sent() -> bool:
                return await sent_so_far(phone) >= 100

            await until(some_sent, within=STARTED_AND_WORKING)
            workers[first].kill()
            await workers[first].process.wait()
            killed_at = (await phone.call_log())[-1]["t"]
            second = 1 - first

            async def finished() -> bool:
                return all(row.status in (Status.SENT, Status.UNCERTAIN) for row in await outbox_rows(url))

            await until(finished, within=2 * STARTED_AND_WORKING, every=0.2)
        finally:
            for worker in workers:
                await worker.stop()
        rows = await outbox_rows(url)
        log = [entry for entry in await phone.call_log() if entry["method"] == "sendMessage"]
        copies = await copies_per_chat(phone)
    assert LEADING in logs[second].read_text()
    check_exactly_once(rows, chats, copies)
    # Two senders at once would send up to twice the rate; a tenth covers the clocks' jitter between
    # the worker and the sandbox on a loaded machine (the rate itself is tested in test_sender).
    assert busiest_second([entry["t"] for entry in log]) <= rate * 1.1
    resumed = min(entry["t"] for entry in log if entry["t"] > killed_at)
    print(f"the second worker sent {resumed - killed_at:.2f} s after the first was killed")


async def test_a_campaign_made_in_the_console_survives_killed_workers_and_its_figures_are_the_transcript(
    database: Database, tmp_path: Path, rng: random.Random
) -> None:
    """The console schedules it; the worker process expands and sends it, killed with SIGKILL at random
    points (during the expansion too); every recipient gets it at most once, and the console's
    figures are the outbox rows, which are what the sandbox received."""
    key = generate_key()
    async with (
        sandbox_process(tmp_path) as sandbox_url,
        SandboxClient(sandbox_url, int(TOKEN.split(":")[0])) as phone,
        dedicated_database(database, tmp_path) as url,
    ):
        engine = create_engine(url)
        try:
            sessionmaker = create_sessionmaker(engine)
            people = await recipients(phone, sessionmaker, Crypto(parse_keys(key)), CAMPAIGN)
            async with console_client(sessionmaker, key) as console:
                campaign_path = await console_campaign(console)
                settings = {
                    "DATABASE_URL": url,
                    "INTAKE_DATA_KEYS": key,
                    "TELEGRAM_API_URL": sandbox_url,
                    "TELEGRAM_BOT_TOKEN": TOKEN,
                    "INTAKE_SEND_RATE": "1000",
                }
                log = tmp_path / "worker.log"
                kill_points = [0, *sorted(rng.sample(range(100, CAMPAIGN - 300), 2))]
                for point in kill_points:
                    child = await Child.start(
                        ["-m", "intake.sender_process", "--lease", "1.5"], settings, log
                    )
                    try:

                        async def reached(point: int = point) -> bool:
                            if point == 0:  # killed while it expands the campaign
                                return bool(await outbox_rows(url))
                            return await sent_so_far(phone) >= point

                        await until(reached, within=60, every=0.01)
                    finally:
                        child.kill()
                        await child.process.wait()
                child = await Child.start(["-m", "intake.sender_process", "--lease", "1.5"], settings, log)
                try:

                    async def done() -> bool:
                        page = await console.get(f"{campaign_path}/progress")
                        return 'data-status="done"' in page.text

                    await until(done, within=90, every=0.5)
                finally:
                    await child.stop()
                figures = progress_figures((await console.get(f"{campaign_path}/progress")).text)
        finally:
            await engine.dispose()
        rows = await outbox_rows(url)
        copies = await copies_per_chat(phone)
    chat_of = {beneficiary: user for user, beneficiary in people}
    chats = {row.id: chat_of[row.beneficiary_id] for row in rows}
    assert len(rows) == CAMPAIGN and len(set(chats.values())) == CAMPAIGN
    check_exactly_once(rows, chats, copies)
    statuses = Counter(row.status for row in rows)
    # The page shows the rows' counts, masked as on the figures page (under 5: "<5").
    cells, _ = breakdown(
        {
            "sent": statuses[Status.SENT],
            "uncertain": statuses[Status.UNCERTAIN],
            "failed": 0,
            "blocked": 0,
            "opted_out": 0,
            "cancelled": 0,
            "remaining": 0,
        }
    )
    assert figures == {name: cell.text for name, cell in cells.items()}
    # What the sandbox accepted: every sent row once, and some of the uncertain ones.
    assert statuses[Status.SENT] <= sum(copies.values()) <= statuses[Status.SENT] + statuses[Status.UNCERTAIN]
    print(f"killed during expansion and after {kill_points[1:]} sends; figures {figures}")


@contextlib.asynccontextmanager
async def console_client(
    sessionmaker: async_sessionmaker[AsyncSession], key: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The console on that database, signed in as an outreach officer."""
    app = create_app(sessionmaker=sessionmaker, crypto=Crypto(parse_keys(key)))
    token = secrets.token_urlsafe(32)
    async with sessionmaker() as session, session.begin():
        officer = await staff.add_user(
            session,
            username="olga",
            password_hash="-",
            role="outreach",
            display_name="",
            language="en",
            at=utcnow(),
        )
        await staff.create_session(
            session,
            session_id=hash_token(token),
            user_id=officer.id,
            csrf_token=secrets.token_urlsafe(32),
            at=utcnow(),
        )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console.test"
    ) as client:
        client.cookies.set(SESSION_COOKIE, token, domain="console.test")
        yield client


async def console_campaign(console: httpx.AsyncClient) -> str:
    """Composed and scheduled through the console's forms; returns the campaign's path."""
    token = form_token(await console.get("/campaigns/new"))
    form = {"name": "Notice", "fallback_language": "en", "text_en": "The office is open on Saturday."}
    created = await console.post("/campaigns/new", data={**form, "csrf_token": token, "appointment": "any"})
    assert created.status_code == 303, created.text[:500]
    path = created.headers["location"]
    scheduled = await console.post(f"{path}/schedule", data={"csrf_token": token, "version": "1"})
    assert scheduled.status_code == 303
    return str(path)


def progress_figures(html: str) -> dict[str, str]:
    page = BeautifulSoup(html, "lxml")
    return {
        str(dd["data-figure"]): dd.get_text(strip=True)
        for dd in page.select("[data-figure]")
        if dd["data-figure"] != "finish"
    }
