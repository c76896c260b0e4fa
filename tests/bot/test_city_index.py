"""The bot's interview keeps the city's lookup hash beside the sealed answers: set when the person
types a city, changed when they answer again, cleared when they skip it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from programme.forms import INTERVIEW
from sandbox.client import SandboxClient
from storage.crypto import Crypto
from storage.models import Beneficiary
from tests.bot.test_journey import prompt, screened, tap_and_wait, type_and_wait
from tests.bot.test_screening import Translate

SUMMARY = "Please check your answers"


async def interview(phone: SandboxClient, t: Translate, user: int, city: str | None, *, again: bool) -> None:
    """Skip every question but the city (typed, or skipped too), then send."""
    if again:
        await phone.send_text(user, "/interview")
        await phone.wait_for_bot_message(user, contains=prompt(t, "phone"))
    else:
        await tap_and_wait(phone, user, t("Start"), prompt(t, "phone"))
    questions = INTERVIEW.bot_questions()
    for position, question in enumerate(questions):
        following = prompt(t, questions[position + 1].id) if position + 1 < len(questions) else SUMMARY
        if question.id == "city" and city is not None:
            await type_and_wait(phone, user, city, following)
        else:
            await tap_and_wait(phone, user, t("Skip ➡️"), following)
    await tap_and_wait(phone, user, "✅ " + t("Send"), t("Thank you! Your answers are saved."))


async def city_hash(sessionmaker: async_sessionmaker[AsyncSession]) -> str | None:
    async with sessionmaker() as session:
        return (await session.execute(select(Beneficiary.city_hash))).scalar_one()


async def test_the_city_typed_in_the_interview_is_indexed_changed_by_a_new_answer_and_cleared_by_a_skip(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    user = await screened(phone, t)
    await interview(phone, t, user, "  BAKI ", again=False)
    assert await city_hash(sessionmaker) == crypto.blind_index("city", "baki")
    await interview(phone, t, user, "Sumqayıt", again=True)
    assert await city_hash(sessionmaker) == crypto.blind_index("city", "sumqayit")
    await interview(phone, t, user, None, again=True)
    assert await city_hash(sessionmaker) is None
