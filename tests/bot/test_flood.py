"""Flood control: one chat sending beyond the burst is told once, in its language, to wait; what it
sends meanwhile costs no transaction; others are not held up; the limit lifts when the rate falls."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import BotConfig
from bot.flood import FloodGuard, FloodLimit, Verdict, parse_flood_limit
from bot.middlewares import PLEASE_WAIT
from sandbox.client import SandboxClient
from storage.models import ProcessedUpdate
from tests.bot.test_screening import Translate, choose_language
from tests.conftest import Clock

BURST = 5


def test_beyond_the_burst_one_warning_then_nothing_until_the_rate_falls() -> None:
    clock = Clock(100.0)
    guard = FloodGuard(FloodLimit(burst=3, window=10), clock=clock)
    verdicts = []
    for _ in range(6):
        verdicts.append(guard.check(42))
        clock.now += 0.5
    assert verdicts == [Verdict.HANDLE] * 3 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]
    assert guard.check(7) is Verdict.HANDLE  # another chat is not affected
    clock.now += 10  # a quiet spell: the window holds none of the flood any more
    assert guard.check(42) is Verdict.HANDLE


def test_a_flooder_who_keeps_sending_stays_limited() -> None:
    clock = Clock(100.0)
    guard = FloodGuard(FloodLimit(burst=3, window=10), clock=clock)
    for _ in range(40):  # one every half second for 20 s: always 20 in the window
        guard.check(42)
        clock.now += 0.5
    assert guard.check(42) is Verdict.DROP


def test_off_never_limits() -> None:
    guard = FloodGuard(None)
    assert {guard.check(1) for _ in range(1000)} == {Verdict.HANDLE}


@pytest.mark.parametrize(
    ("value", "limit"), [("20/10s", FloodLimit(20, 10.0)), (" 5 / 1s ", FloodLimit(5, 1.0))]
)
def test_the_setting_reads_updates_per_seconds(value: str, limit: FloodLimit) -> None:
    assert parse_flood_limit(value) == limit
    assert parse_flood_limit("off") is None


@pytest.mark.parametrize("value", ["20", "20/10", "0/10s", "20/0s", "many/10s", ""])
def test_a_malformed_limit_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="expected updates per seconds"):
        parse_flood_limit(value)


@pytest.fixture
def bot_config() -> BotConfig:
    # A minute's window, so that no run of this test is slow enough to see the limit lift.
    return BotConfig(data_controller="Bridge Aid Association", flood=FloodLimit(burst=BURST, window=60))


async def processed(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(ProcessedUpdate))).scalar_one())


async def test_a_flooding_chat_is_asked_once_in_its_language_to_wait_and_the_rest_costs_nothing(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    flooder = await phone.create_user(language_code="en")
    await choose_language(phone, flooder, "Русский")  # /start and a tap: two updates handled
    before = await processed(sessionmaker)
    sent = 30
    for n in range(sent):
        await phone.send_text(flooder, f"message {n}")
    other = await phone.create_user(language_code="en")
    await phone.send_text(other, "/start")
    await phone.wait_for_bot_message(other, contains="🌐")  # someone else is answered meanwhile
    await phone.wait_idle(flooder)
    waits = [m for m in await phone.bot_messages(flooder) if m["text"] == t(PLEASE_WAIT, "ru")]
    assert len(waits) == 1
    # Only the burst's updates were applied (each one transaction and a processed mark).
    assert await processed(sessionmaker) - before == (BURST - 2) + 1  # the flooder's, then /start
