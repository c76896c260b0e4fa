"""INTAKE_SPEEDUPS: `off` runs every process on the stock libraries, and the suite reads it (make test
runs a slice of it with the patches off)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.factory import create_dispatcher
from intake import speedups
from intake.settings import Settings, SettingsError, load_settings
from intake.speedups import sqlite_one_trip
from storage.crypto import Crypto

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import asyncio, json, sys
import intake.runtime  # what every process of ours imports first
from aiogram.types import Message
from intake import speedups
from storage.engine import create_engine

async def driver():
    engine = create_engine(f"sqlite+aiosqlite:///{sys.argv[1]}", inline=True)
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        name = type(raw.driver_connection).__module__
    await engine.dispose()
    return name

print(json.dumps({
    "enabled": speedups.enabled(),
    "message_built_at_import": Message.__pydantic_complete__,
    "driver": asyncio.run(driver()),
}))
"""


def probe(tmp_path: Path, value: str | None) -> dict[str, object]:
    environ = {k: v for k, v in os.environ.items() if k != speedups.SETTING}
    if value is not None:
        environ[speedups.SETTING] = value
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "probe.db")],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def test_off_runs_a_process_on_the_stock_libraries_and_on_is_the_default(tmp_path: Path) -> None:
    default, on, off = probe(tmp_path, None), probe(tmp_path, "on"), probe(tmp_path, "OFF")

    assert (
        default
        == on
        == {
            "enabled": True,
            "message_built_at_import": False,
            "driver": "intake.speedups.sqlite_one_trip",
        }
    )
    assert off == {"enabled": False, "message_built_at_import": True, "driver": "aiosqlite.core"}


def test_a_malformed_value_stops_start_up_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(speedups.SETTING, "fast")
    with pytest.raises(SettingsError, match=r"^INTAKE_SPEEDUPS is invalid: expected on or off"):
        load_settings()
    monkeypatch.setenv(speedups.SETTING, " Off ")
    assert Settings().speedups == "off"


async def test_this_run_of_the_suite_is_on_what_INTAKE_SPEEDUPS_asks(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    """Fails if the switch did nothing: the slice `make test` runs with the patches off would then
    prove nothing."""
    wanted = os.environ.get(speedups.SETTING, "on").strip().lower() == "on"
    assert speedups.enabled() is wanted

    if engine.dialect.name == "sqlite":
        async with engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
        assert isinstance(driver, sqlite_one_trip.Connection) is wanted

    dispatcher = create_dispatcher(sessionmaker=sessionmaker, crypto=crypto)
    speedups.tune_dispatcher(dispatcher)
    in_threads = [
        condition
        for router in dispatcher.chain_tail
        for observer in router.observers.values()
        for handler in observer.handlers
        for condition in handler.filters or ()
        if not condition.awaitable
    ]
    assert (not in_threads) is wanted
