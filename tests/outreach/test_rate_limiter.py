"""The sender's rate limiter on a clock the test moves: what it makes up after a stall, and what not."""

from __future__ import annotations

import asyncio

from outreach.sender import RateLimiter
from tests.conftest import Clock


async def test_a_run_of_sends_starts_without_the_idle_time_before_it() -> None:
    clock = Clock(1000.0)
    limiter = RateLimiter(1000, clock)
    limiter.start()
    assert await limiter.take(64) == 1
    clock.now += 5.0  # idle: nothing to send for five seconds
    limiter.start()
    assert await limiter.take(64) == 1


async def test_a_stall_while_sending_is_made_up_up_to_the_catch_up() -> None:
    clock = Clock(1000.0)
    limiter = RateLimiter(1000, clock, catch_up=0.25)
    limiter.start()
    assert await limiter.take() == 1
    clock.now += 0.1005  # the event loop was busy for 100 ms: the slots it missed come at once
    assert [await limiter.take(64), await limiter.take(64), await limiter.take(64)] == [64, 36, 1]
    clock.now += 1.0005  # longer than the catch-up: only its 250 ms are made up
    assert [await limiter.take(100), await limiter.take(100), await limiter.take(100)] == [100, 100, 50]


async def test_slow_rates_never_send_in_pairs_after_a_stall() -> None:
    clock = Clock(1000.0)
    limiter = RateLimiter(25, clock, catch_up=0.25)
    limiter.start()
    assert await limiter.take() == 1
    clock.now += 0.5
    assert await limiter.take(10) == 1


async def test_the_window_admits_no_more_than_the_rate_until_a_second_after_the_answers() -> None:
    clock = Clock(1000.0)
    limiter = RateLimiter(3, clock)
    await limiter.admit(3)
    for _ in range(3):
        limiter.done()
    clock.now += 0.999
    admitting = asyncio.ensure_future(limiter.admit(1))
    await asyncio.sleep(0)
    assert not admitting.done()
    clock.now += 0.002
    await asyncio.wait_for(admitting, 1.0)
