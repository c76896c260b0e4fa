"""Two `intake bot` replicas on one PostgreSQL behind a load balancer that hands them the sandbox's
webhook deliveries in turn: 200 people mid-dialog, one replica killed with SIGKILL, every dialog
completes and no step is applied twice."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bench.crowd import Crowd, Person, screening_steps
from bot.webhook import SECRET_HEADER
from sandbox.server import SandboxServer
from storage.crypto import Crypto, generate_key, parse_keys
from storage.engine import create_engine, create_sessionmaker
from storage.migrate import upgrade
from storage.models import Beneficiary, Case, FormResponse
from storage.models_webhook import InboundUpdate
from storage.sealing import unseal_json
from tests.conftest import POSTGRES_MISSING, POSTGRES_URL
from tests.webhook.conftest import BOT_ID, PATH, SECRET, TOKEN, bound_url
from wording.languages import create_i18n

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        POSTGRES_MISSING is not None, reason=f"replicas share a PostgreSQL database; {POSTGRES_MISSING}"
    ),
]
ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 200
EXPECTED_ANSWERS = {
    "resides_for_reason": "yes",
    "has_permit": "yes",
    "directions": ["employment_education", "language"],
}


@pytest.fixture
async def replica_database() -> AsyncIterator[str]:
    """A database of its own (subprocesses cannot be handed the test schema's search_path)."""
    name = f"intake_replicas_{secrets.token_hex(4)}"
    url = make_url(POSTGRES_URL)
    admin = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password, database=url.database
    )
    await admin.execute(f'CREATE DATABASE "{name}"')
    database_url = url.set(database=name).render_as_string(hide_password=False)
    try:
        engine = create_engine(database_url)
        await upgrade(engine)
        await engine.dispose()
        yield database_url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def start_replica(
    webhook_url: str, database_url: str, keys: str, sandbox_url: str, log: Path
) -> asyncio.subprocess.Process:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TELEGRAM_", "DATABASE_"))
    }
    environment |= {
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": sandbox_url,
        "DATABASE_URL": database_url,
        "INTAKE_DATA_KEYS": keys,
        "TELEGRAM_WEBHOOK_URL": webhook_url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        # A free port, which it binds itself and logs.
        "INTAKE_WEBHOOK_ADDR": "127.0.0.1:0",
        # Its simulated people tap through the journey faster than anyone types.
        "INTAKE_FLOOD_LIMIT": "off",
    }
    with log.open("wb") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "intake", "bot", env=environment, cwd=ROOT, stdout=output, stderr=output
        )


LISTENING = re.compile(r"webhook mode: listening on (http://\S+)")


async def listening_at(replica: asyncio.subprocess.Process, log: Path) -> str:
    """Where a replica listens, once it says so (after its setWebhook); fails at once if it ended."""
    async with asyncio.timeout(60):
        # A few kilobytes of the child's log, read between its writes.
        while not (found := LISTENING.search(log.read_text(errors="replace"))):  # noqa: ASYNC240
            assert replica.returncode is None, log.read_text(errors="replace")[-2000:]  # noqa: ASYNC240
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(replica.wait(), 0.05)
        return found[1]


@dataclass
class Balancer:
    """The load balancer in front of the replicas (the address Telegram is given): each request goes
    to the next replica in turn; one that does not answer gets a 502, which Telegram retries."""

    replicas: list[str] = field(default_factory=list)
    turn: int = 0

    async def forward(self, request: web.Request) -> web.Response:
        if not self.replicas:
            return web.Response(status=503)
        replica = self.replicas[self.turn % len(self.replicas)]
        self.turn += 1
        headers = {
            name: request.headers[name] for name in ("Content-Type", SECRET_HEADER) if name in request.headers
        }
        http = request.app[HTTP]
        try:
            async with http.post(
                f"{replica}{request.path}", data=await request.read(), headers=headers
            ) as answer:
                return web.Response(
                    status=answer.status,
                    body=await answer.read(),
                    headers={"Content-Type": answer.content_type},
                )
        except aiohttp.ClientError:
            return web.Response(status=502)


HTTP = web.AppKey("http", aiohttp.ClientSession)


@contextlib.asynccontextmanager
async def balancing() -> AsyncIterator[tuple[Balancer, str]]:
    """The balancer on a free port of this process's; yields it and its address."""
    balancer = Balancer()
    app = web.Application()
    app.router.add_post(PATH, balancer.forward)
    runner = web.AppRunner(app, access_log=None)
    async with aiohttp.ClientSession() as http:
        app[HTTP] = http
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            yield balancer, bound_url(runner)
        finally:
            await runner.cleanup()


async def test_two_replicas_one_killed_every_dialog_completes_and_no_step_is_applied_twice(
    replica_database: str, tmp_path: Path
) -> None:
    keys = generate_key()
    async with (
        SandboxServer() as sandbox,
        balancing() as (balancer, balancer_url),
        Crowd(sandbox.url, BOT_ID, patience=40.0) as crowd,
    ):
        logs = [tmp_path / "replica-a.log", tmp_path / "replica-b.log"]
        webhook_url = f"{balancer_url}{PATH}"
        replicas = [
            await start_replica(webhook_url, replica_database, keys, sandbox.url, log) for log in logs
        ]
        try:
            # Both have called setWebhook (each restarts delivery) and listen: the balancer takes them.
            balancer.replicas = [
                await listening_at(replica, log) for replica, log in zip(replicas, logs, strict=True)
            ]

            people = await crowd.create_people(PEOPLE)
            names = {person.user_id: f"Person {person.user_id % 100_000}" for person in people}

            async def kill_midway() -> None:
                while crowd.steps_done < PEOPLE * 9 * 0.4:  # noqa: ASYNC110 - progress of other tasks
                    await asyncio.sleep(0.01)
                replicas[0].send_signal(signal.SIGKILL)
                # The load balancer's health check notices, and sends everything to the survivor.
                await replicas[0].wait()
                del balancer.replicas[0]

            killer = asyncio.create_task(kill_midway())
            i18n = create_i18n()
            await crowd.run(people, lambda person: screening_steps(i18n, names[person.user_id]))
            await killer
            assert await replicas[0].wait() == -signal.SIGKILL

            unfinished = [(person.user_id, person.error) for person in people if not person.finished]
            assert unfinished == []
            await assert_each_step_applied_once(crowd, people, names, replica_database, keys)

            replicas[1].send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(replicas[1].wait(), 30) == 0
        finally:
            for replica in replicas:
                if replica.returncode is None:
                    replica.kill()
                    await replica.wait()
    logged = "".join(log.read_text(errors="replace") for log in logs)
    assert "Traceback" not in logs[1].read_text(errors="replace")
    for person in people[:20]:
        assert names[person.user_id] not in logged
        assert str(person.user_id) not in logged
    assert TOKEN.split(":")[1] not in logged


async def assert_each_step_applied_once(
    crowd: Crowd, people: list[Person], names: dict[int, str], database_url: str, keys: str
) -> None:
    crypto = Crypto(parse_keys(keys))
    engine = create_engine(database_url)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with asyncio.timeout(60):
            while True:
                async with sessionmaker() as session:
                    waiting = (
                        await session.execute(select(func.count()).select_from(InboundUpdate))
                    ).scalar_one()
                if not waiting:
                    break
                await asyncio.sleep(0.2)
        async with sessionmaker() as session:
            assert (
                await session.execute(select(func.count()).select_from(Beneficiary))
            ).scalar_one() == PEOPLE
            # One case per person: pressing Done twice would have opened a second one.
            per_person = (
                await session.execute(select(Case.beneficiary_id, func.count()).group_by(Case.beneficiary_id))
            ).all()
            assert len(per_person) == PEOPLE and {count for _, count in per_person} == {1}
            # A toggle applied twice would have un-ticked a direction.
            for response in (await session.scalars(select(FormResponse))).all():
                assert unseal_json(crypto, response, "answers_enc") == EXPECTED_ANSWERS
            # Every update the sandbox made was handled, and the records say each exactly once.
            processed = (await session.execute(text("SELECT count(*) FROM processed_updates"))).scalar_one()
            made = sum(len(person.actions) + person.nudges for person in people)
            assert processed == made
    finally:
        await engine.dispose()
    # The name step's reply ("Thank you, …") went out at most once per person: replies are sent after
    # the commit, so a replica killed between the two loses that one reply, and never doubles it.
    for person in people:
        transcript = await crowd.transcript(person.user_id)
        thanks = [
            m["text"]
            for m in transcript["messages"]
            if m["from"] == "bot" and m["text"].startswith("Thank you, ")
        ]
        assert thanks in ([], [f"Thank you, {names[person.user_id]}."])
