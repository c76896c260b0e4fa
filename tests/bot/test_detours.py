"""Side trips (bot.conversation's return stack): each one comes back to where it was started."""

from __future__ import annotations

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import RETURNS
from bot.fsm_storage import SqlStorage
from programme.forms import SCREENING
from sandbox.client import SandboxClient
from storage.crypto import Crypto
from tests.bot.conftest import BOT_ID
from tests.bot.test_journey import tap_and_wait, type_and_wait
from tests.bot.test_screening import Translate, at_the_first_question

pytestmark = pytest.mark.slow

FIRST, SECOND = (question.prompt for question in SCREENING.bot_questions()[:2])


async def returns(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, user: int) -> list[str]:
    data = await SqlStorage(sessionmaker, crypto).get_data(
        StorageKey(bot_id=BOT_ID, chat_id=user, user_id=user)
    )
    return data.get(RETURNS, [])


async def test_a_side_trip_taken_inside_another_comes_back_to_each_in_turn(
    phone: SandboxClient, t: Translate
) -> None:
    user = await at_the_first_question(phone, t)
    await type_and_wait(phone, user, "/appointments", t("You have no appointments yet."))
    await type_and_wait(phone, user, "/language", "🌐")
    await tap_and_wait(phone, user, "English", t("You have no appointments yet."))
    await tap_and_wait(phone, user, t("Close"), t(FIRST))
    await tap_and_wait(phone, user, t("Yes"), t(SECOND))


async def test_going_back_and_forth_between_side_trips_never_grows_the_return_stack(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    user = await at_the_first_question(phone, t)
    for _round in range(3):
        await type_and_wait(phone, user, "/appointments", t("You have no appointments yet."))
        await type_and_wait(phone, user, "/caseworker", t("What would you like to talk about?"))
        await phone.wait_idle(user)
        # One step per dialog: the screening's question, then the appointments the talk began from.
        assert await returns(sessionmaker, crypto, user) == ["Screening:questions", "Appointments:overview"]
    await type_and_wait(phone, user, "/appointments", t("You have no appointments yet."))
    await tap_and_wait(phone, user, t("Close"), t("What would you like to talk about?"))
    await phone.wait_idle(user)
    await type_and_wait(phone, user, "/menu", t("What would you like to do? Choose from the menu below."))
    await phone.wait_idle(user)
    assert await returns(sessionmaker, crypto, user) == []
