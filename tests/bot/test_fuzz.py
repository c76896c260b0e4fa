"""Hostile and random input at every step: no unhandled exception, and every reply fits Telegram."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from programme.forms import SCREENING
from sandbox.client import SandboxClient
from storage.models import ProcessedUpdate
from tests.bot.test_journey import prompt, screened, tap_and_wait
from tests.bot.test_screening import Translate, choose_language

pytestmark = pytest.mark.slow

TELEGRAM_TEXT_LIMIT = 4096
PROCESSING_TIMEOUT = 30
Reach = Callable[[SandboxClient, Translate], Awaitable[int]]


async def at_language(phone: SandboxClient, t: Translate) -> int:
    user = await phone.create_user()
    await phone.send_text(user, "/start")
    await phone.wait_for_bot_message(user, contains="🌐")
    return user


async def at_name(phone: SandboxClient, t: Translate) -> int:
    user = await phone.create_user()
    await choose_language(phone, user, "فارسی / دری")
    await tap_and_wait(phone, user, t("Continue", "fa"), t("Skip", "fa"))
    return user


async def at_directions(phone: SandboxClient, t: Translate) -> int:
    user = await at_name(phone, t)
    first, second, third = (t(question.prompt, "fa") for question in SCREENING.bot_questions())
    await tap_and_wait(phone, user, t("Skip", "fa"), first)
    await tap_and_wait(phone, user, t("Yes", "fa"), second)
    await tap_and_wait(phone, user, t("No", "fa"), third)
    return user


async def at_interview_number(phone: SandboxClient, t: Translate) -> int:
    user = await screened(phone, t)
    await tap_and_wait(phone, user, t("Start"), prompt(t, "phone"))
    # Wait for each next question: a press before it arrives would hit the previous, stale message.
    for following in ("interpreter", "city", "country", "status", "adults"):
        await tap_and_wait(phone, user, t("Skip ➡️"), prompt(t, following))
    return user


async def at_conversation(phone: SandboxClient, t: Translate) -> int:
    user = await screened(phone, t)
    await tap_and_wait(phone, user, t("Later"), t("What would you like to do? Choose from the menu below."))
    await tap_and_wait(phone, user, t("💬 Ask a caseworker"), t("What would you like to talk about?"))
    await tap_and_wait(
        phone, user, t("Health"), t("Write your message below. A caseworker will answer you here.")
    )
    return user


STEPS: list[Reach] = [at_language, at_name, at_directions, at_interview_number, at_conversation]

hostile_text = st.one_of(
    st.text(min_size=1, max_size=300),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            '"><img src=x onerror=alert(1)>',
            "\u202eevil\u202c",
            "\u200b\u200c\u200d",
            "😀" * 50,
            "&amp; &lt; <b>",
            "x" * TELEGRAM_TEXT_LIMIT,
            "/start not-a-valid-payload!",
            "/unknown",
        ]
    ),
)
actions = st.lists(
    st.one_of(
        hostile_text.map(lambda text: ("text", text)),
        st.sampled_from([("sticker", True), ("photo", True), ("voice", True)]),
        st.text(max_size=40).map(lambda data: ("forged", data)),
        st.just(("contact", "+994 55 000 00 00")),
    ),
    min_size=1,
    max_size=4,
)


async def until_processed(sessionmaker: async_sessionmaker[AsyncSession], update_ids: list[int]) -> None:
    async with asyncio.timeout(PROCESSING_TIMEOUT):
        while True:
            async with sessionmaker() as session:
                done = await session.scalar(
                    select(func.count())
                    .select_from(ProcessedUpdate)
                    .where(ProcessedUpdate.update_id.in_(update_ids))
                )
            if done == len(update_ids):
                return
            await asyncio.sleep(0.05)


@settings(
    max_examples=25,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(reach=st.sampled_from(STEPS), inputs=actions)
async def test_random_input_at_any_step_never_crashes_and_every_reply_fits(
    phone: SandboxClient,
    t: Translate,
    caplog: pytest.LogCaptureFixture,
    sessionmaker: async_sessionmaker[AsyncSession],
    reach: Reach,
    inputs: list,
) -> None:
    caplog.clear()
    caplog.set_level(logging.INFO)
    user = await reach(phone, t)
    sent: list[int] = []
    for kind, value in inputs:
        if kind == "text" and value.strip():
            sent.append(await phone.send_text(user, value))
        elif kind == "forged":
            last = (await phone.bot_messages(user))[-1]
            sent.append(await phone.press_data(user, last["message_id"], value or "x"))
        elif kind == "contact":
            sent.append(await phone.share_contact(user, value))
        elif kind != "text":
            sent.append(await phone.send(user, **{kind: value}))
    # What must happen first: every update handled and committed; then its replies, sent after the
    # commit, and anything they log.
    await until_processed(sessionmaker, sent)
    await phone.wait_idle(user, quiet=0.4)
    problems = [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith(("bot", "aiogram.event"))
        and record.levelno >= logging.INFO
        and (
            "failed" in record.getMessage()
            or "refused" in record.getMessage()
            or record.levelno >= logging.ERROR
        )
    ]
    assert problems == []
    assert all(
        len(message["text"] or "") <= TELEGRAM_TEXT_LIMIT for message in await phone.bot_messages(user)
    )
