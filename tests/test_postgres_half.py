"""The PostgreSQL half of the suite cannot vanish: when the configured PostgreSQL does not answer, its
tests are reported skipped with the reason and counted in the summary; where it is required (CI sets
INTAKE_REQUIRE_POSTGRES=1) the run fails instead."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN_TIMEOUT = 120.0
# A database test as any other: it takes the shared `database` fixture, so it runs once per backend.
TINY_TEST = """
async def test_the_database_answers(database):
    engine = database.engine()
    async with engine.connect() as connection:
        assert await connection.exec_driver_sql("SELECT 1") is not None
    await engine.dispose()
"""


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port of this machine that refuses connections: bound by us, never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def run_suite(tmp_path: Path, port: int, *, required: bool) -> subprocess.CompletedProcess[str]:
    """pytest on the tiny test with the suite's fixtures, PostgreSQL pointed at the silent port."""
    test_file = tmp_path / "test_tiny_database.py"
    test_file.write_text(TINY_TEST)
    environment = {k: v for k, v in os.environ.items() if k != "INTAKE_REQUIRE_POSTGRES"}
    environment["INTAKE_TEST_POSTGRES_URL"] = f"postgresql+asyncpg://root@127.0.0.1:{port}/test"
    if required:
        environment["INTAKE_REQUIRE_POSTGRES"] = "1"
    command = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT)]
    command += ["-p", "tests.conftest", "-p", "no:cacheprovider", str(test_file)]
    return subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )


def test_without_postgresql_its_tests_are_reported_skipped_with_the_reason(
    tmp_path: Path, silent_port: int
) -> None:
    run = run_suite(tmp_path, silent_port, required=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed, 1 skipped" in run.stdout
    assert "1 PostgreSQL tests skipped" in run.stdout
    assert f"PostgreSQL at postgresql+asyncpg://root@127.0.0.1:{silent_port}/test" in run.stdout
    assert "does not answer" in run.stdout


def test_where_postgresql_is_required_a_run_without_it_fails(tmp_path: Path, silent_port: int) -> None:
    run = run_suite(tmp_path, silent_port, required=True)
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout + run.stderr
    assert "passed" not in run.stdout
    assert (
        f"INTAKE_REQUIRE_POSTGRES=1, but PostgreSQL at postgresql+asyncpg://root@127.0.0.1:{silent_port}"
        in run.stderr
    )
