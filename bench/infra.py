"""What every benchmark needs: scratch databases, child processes and their memory, the machine."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import signal
import socket
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from storage.engine import create_engine
from storage.migrate import upgrade
from storage.models import Beneficiary, utcnow

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("INTAKE_BENCH_POSTGRES_URL", "postgresql+asyncpg://root@127.0.0.1:5432/test")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A free port, closed again, for a child that must be told its port before it starts (and may
    lose it to another process meanwhile): a server that can, binds port 0 itself and says where."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def standalone_start(arguments: argparse.Namespace) -> tuple[Path, list[str], list[dict[str, Any]]]:
    """What a benchmark module run on its own starts from: its work folder (made), the databases to
    measure (the one asked for, else SQLite and PostgreSQL when it answers), and its results, which
    open with the machine they were measured on."""
    work = Path(arguments.work)
    work.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before anything runs
    backends = (
        [arguments.backend]
        if arguments.backend
        else ["sqlite"] + (["postgresql"] if postgres_reachable() else [])
    )
    return work, backends, [{"machine": await machine("postgresql" in backends)}]


async def seed_people(url: str, count: int, fields: Callable[[int], dict[str, Any]]) -> None:
    """`count` made-up beneficiaries in batches of 5,000 (random lookup hashes and sealed ids, as no
    key opens), person n with `fields(n)` on top: what a benchmark segments or sends to."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for start in range(0, count, 5000):
                now = utcnow()
                await connection.execute(
                    insert(Beneficiary),
                    [
                        {
                            "id": uuid.uuid4(),
                            "telegram_hash": secrets.token_hex(32),
                            "telegram_id_enc": secrets.token_bytes(48),
                            "created_at": now,
                            "last_active_at": now,
                            **fields(n),
                        }
                        for n in range(start, min(count, start + 5000))
                    ],
                )
    finally:
        await engine.dispose()


def postgres_reachable() -> bool:
    url = make_url(POSTGRES_URL)
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=0.5):
            return True
    except OSError:
        return False


async def _admin() -> asyncpg.Connection:
    url = make_url(POSTGRES_URL)
    return await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password, database=url.database
    )


@contextlib.asynccontextmanager
async def scratch_database(backend: str, directory: Path) -> AsyncIterator[str]:
    """A fresh database at the newest schema, removed afterwards; yields its URL."""
    if backend == "sqlite":
        path = directory / f"bench-{secrets.token_hex(4)}.db"
        url = f"sqlite+aiosqlite:///{path}"
        await _migrate(url)
        try:
            yield url
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240 - a few local files
        return
    name = f"intake_bench_{secrets.token_hex(4)}"
    admin = await _admin()
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        await _migrate(url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def child_environment(**settings: str) -> dict[str, str]:
    """This environment without any Intake Bridge setting, plus `settings`."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TELEGRAM_", "DATABASE_"))
    }
    return environment | {"PYTHONPATH": str(ROOT)} | settings


@dataclass
class Child:
    """A process the benchmark started; its output goes to a log file."""

    process: asyncio.subprocess.Process
    log: Path

    @classmethod
    async def start(cls, args: list[str], environment: dict[str, str], log: Path, cwd: Path = ROOT) -> Child:
        with log.open("wb") as output:
            process = await asyncio.create_subprocess_exec(
                sys.executable, *args, env=environment, cwd=cwd, stdout=output, stderr=output
            )
        return cls(process, log)

    @property
    def pid(self) -> int:
        return self.process.pid

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return self.process.returncode or 0

    async def logged(self, pattern: str) -> re.Match[str]:
        """The first match of `pattern` in its log, once it writes one; fails at once if it ended."""
        found = None
        while found is None:
            text = self.log.read_text(errors="replace")
            if (found := re.search(pattern, text)) is None:
                if self.process.returncode is not None:
                    raise RuntimeError(f"{self.log.name}: the process ended first\n{text[-2000:]}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.process.wait(), 0.02)
        return found

    def memory_mib(self) -> tuple[float, float]:
        """Resident memory now and at its peak, in MiB."""
        status = Path(f"/proc/{self.pid}/status").read_text().splitlines()
        fields = dict(line.split(":", 1) for line in status if ":" in line)
        return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)

    def cpu_seconds(self) -> float:
        """User plus system CPU time the process has used so far."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        after_name = stat.rsplit(")", 1)[1].split()
        return (int(after_name[11]) + int(after_name[12])) / CLOCK_TICKS


async def run_module(module: str, args: list[str], work: Path) -> list[dict[str, Any]]:
    """`python -m module args` in its own process (its memory and CPU are its own); the JSON objects it
    prints, one a line. Its output goes on to stderr as it comes, so a long run shows its progress."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, *args, "--work", str(work),
        env=child_environment(), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    results = []
    async for line in process.stdout:
        text = line.decode().strip()
        if text.startswith("{"):
            results.append(json.loads(text))
            print(f"[bench] {text}", file=sys.stderr, flush=True)
    if await process.wait() != 0:
        raise RuntimeError(f"python -m {module} {' '.join(args)} failed ({process.returncode}): see above")
    return results


async def machine(postgres: bool) -> dict[str, str | int | None]:
    """What the numbers were measured on."""
    version = None
    if postgres:
        admin = await _admin()
        try:
            version = str(await admin.fetchval("SHOW server_version"))
        finally:
            await admin.close()
    cpu = "?"
    with contextlib.suppress(OSError):
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()  # noqa: ASYNC240 - procfs, no disk
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": version,
        "platform": platform.platform(),
    }
