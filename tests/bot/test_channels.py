"""Deep links of outreach channels, through the real bot and the sandbox: known codes are recorded,
anything else is as if no code came, and a person's first channel stays theirs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sandbox.client import SandboxClient
from storage.crypto import Crypto
from storage.models import Beneficiary, Case
from storage.models_channels import Channel
from tests.bot.test_screening import answer_screening, choose_language

pytestmark = pytest.mark.slow

Translate = Callable[..., str]
LANGUAGE_PROMPT = "🌐"


@pytest.fixture
async def known_channels(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        session.add_all(
            [
                Channel(code="campus-1", name="Campus", kind="university", languages=["en"]),
                Channel(code="clinic", name="Clinic", kind="hospital", languages=["fa"]),
                Channel(
                    code="old-fair", name="Fair", kind="community_meeting", languages=["tr"], active=False
                ),
            ]
        )
        await session.commit()


async def source_of(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, user: int) -> str | None:
    async with sessionmaker() as session:
        statement = select(Beneficiary.source).where(
            Beneficiary.telegram_hash == crypto.blind_index("telegram", str(user))
        )
        return (await session.execute(statement)).scalar_one()


@pytest.mark.usefixtures("known_channels")
@pytest.mark.parametrize(
    ("payload", "recorded"),
    [
        ("campus-1", "campus-1"),
        ("old-fair", "old-fair"),  # deactivated: its flyers are still out, and it still counts
        ("forged-code", None),  # well-formed, but no channel of ours
        ("CAMPUS-1", None),  # codes are exact, as Telegram passes them
        ("bot", None),
        ("campus-1%20x", None),
        ("a" * 65, None),
        ("../../etc/passwd", None),
        ("campus-1 clinic", None),
    ],
)
async def test_a_deep_link_records_only_a_known_channel(
    phone: SandboxClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    payload: str,
    recorded: str | None,
) -> None:
    user = await phone.create_user(language_code="en")
    await phone.send_text(user, f"/start {payload}")
    await phone.wait_for_bot_message(user, contains=LANGUAGE_PROMPT)
    assert await source_of(sessionmaker, crypto, user) == recorded


@pytest.mark.usefixtures("known_channels")
async def test_a_returning_person_keeps_their_first_channel_and_their_case_carries_it(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    user = await phone.create_user(language_code="en")
    await phone.send_text(user, "/start forged")
    await phone.wait_for_bot_message(user, contains=LANGUAGE_PROMPT, count=1)
    assert await source_of(sessionmaker, crypto, user) is None
    # A forged code recorded nothing, so the first real channel counts.
    await phone.send_text(user, "/start clinic")
    await phone.wait_for_bot_message(user, contains=LANGUAGE_PROMPT, count=2)
    assert await source_of(sessionmaker, crypto, user) == "clinic"
    await phone.send_text(user, "/start campus-1")
    await phone.wait_for_bot_message(user, contains=LANGUAGE_PROMPT, count=3)
    assert await source_of(sessionmaker, crypto, user) == "clinic"

    await phone.press(user, "English")
    await phone.wait_for_bot_message(user, contains="•")  # the privacy notice
    await answer_screening(phone, t, user, "en", "Amina Rahimi")
    await phone.wait_for_bot_message(user, contains="IP-")
    async with sessionmaker() as session:
        case = (await session.execute(select(Case))).scalar_one()
    assert (case.source, case.provisionally_eligible) == ("clinic", True)


async def test_choose_language_still_works_without_a_code(
    phone: SandboxClient, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "English")
    assert await source_of(sessionmaker, crypto, user) is None
