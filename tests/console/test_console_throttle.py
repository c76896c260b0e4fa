"""The sign-in throttle's memory and the bounded Argon2 pool, on a clock and a pool the test drives."""

from __future__ import annotations

import asyncio
import threading

import pytest

from caseworker_console.accounts import Busy, _Argon2Pool
from caseworker_console.throttle import SignInThrottle
from tests.conftest import Clock


def test_failures_older_than_the_window_are_forgotten() -> None:
    clock = Clock(1000.0)
    throttle = SignInThrottle(source_failures=3, pair_failures=2, window=60, clock=clock)
    throttle.failed("a", "10.0.0.1")
    throttle.failed("a", "10.0.0.1")
    assert throttle.pair_blocked("a", "10.0.0.1")
    assert not throttle.pair_blocked("a", "10.0.0.2")
    assert not throttle.source_blocked("10.0.0.1")
    throttle.failed("b", "10.0.0.1")
    assert throttle.source_blocked("10.0.0.1")
    clock.now += 60
    assert not throttle.source_blocked("10.0.0.1")
    assert not throttle.pair_blocked("a", "10.0.0.1")


def test_a_success_clears_that_pair_only() -> None:
    throttle = SignInThrottle(source_failures=10, pair_failures=2, clock=Clock(1000.0))
    for name in ("a", "a", "b", "b"):
        throttle.failed(name, "10.0.0.1")
    throttle.succeeded("a", "10.0.0.1")
    assert not throttle.pair_blocked("a", "10.0.0.1")
    assert throttle.pair_blocked("b", "10.0.0.1")


async def test_the_argon2_pool_turns_away_work_beyond_its_queue() -> None:
    pool = _Argon2Pool(workers=1, queue=1)
    release = threading.Event()
    first = asyncio.create_task(pool.run(release.wait))
    second = asyncio.create_task(pool.run(release.wait))
    await asyncio.sleep(0)  # both admitted: one running, one queued
    with pytest.raises(Busy):
        await pool.run(release.wait)
    release.set()
    assert await asyncio.gather(first, second) == [True, True]
    assert await pool.run(lambda: "free again") == "free again"


def test_forgetting_an_account_frees_it_from_every_address() -> None:
    throttle = SignInThrottle(source_failures=10, pair_failures=1, clock=Clock(1000.0))
    throttle.failed("a", "10.0.0.1")
    throttle.failed("a", "10.0.0.2")
    throttle.failed("b", "10.0.0.1")
    throttle.forget("a")
    assert not throttle.pair_blocked("a", "10.0.0.1") and not throttle.pair_blocked("a", "10.0.0.2")
    assert throttle.pair_blocked("b", "10.0.0.1")


async def test_work_that_must_not_be_turned_away_waits_its_turn() -> None:
    pool = _Argon2Pool(workers=1, queue=0)
    release = threading.Event()
    first = asyncio.create_task(pool.run(release.wait))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(pool.run(lambda: "hashed", turn_away=False))
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(first, waiting) == [True, "hashed"]
