"""The dialog storage outside an update: each call its own transaction, the data sealed at rest."""

from __future__ import annotations

from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialogs.screening import Screening
from bot.fsm_storage import SqlStorage
from storage.crypto import Crypto
from storage.models import DialogState
from storage.queries import create_beneficiary
from tests.bot.conftest import BOT_ID

TELEGRAM_ID = 777_000_111


def key(user: int = TELEGRAM_ID) -> StorageKey:
    return StorageKey(bot_id=BOT_ID, chat_id=user, user_id=user)


async def test_state_and_data_persist_sealed_and_reads_are_copies(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    async with sessionmaker() as session, session.begin():
        await create_beneficiary(session, crypto, telegram_id=TELEGRAM_ID)
    storage = SqlStorage(sessionmaker, crypto)
    assert await storage.get_state(key()) is None
    assert await storage.get_data(key()) == {}

    await storage.set_state(key(), Screening.name)
    await storage.set_data(key(), {"answers": {"q1": "yes"}, "name": "Zahra"})
    read = await storage.get_data(key())
    read["answers"]["q1"] = "changed"  # a handler's own copy
    assert await storage.get_data(key()) == {"answers": {"q1": "yes"}, "name": "Zahra"}
    assert await storage.get_state(key()) == Screening.name.state

    async with sessionmaker() as session:
        (row,) = (await session.execute(select(DialogState))).scalars()
    assert row.state == Screening.name.state
    assert b"Zahra" not in row.data_enc  # sealed

    await storage.set_data(key(), {})
    async with sessionmaker() as session:
        (row,) = (await session.execute(select(DialogState))).scalars()
    assert row.data_enc is None and row.state == Screening.name.state


async def test_a_chat_without_a_person_has_no_dialog(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    storage = SqlStorage(sessionmaker, crypto)
    assert await storage.get_state(key(5)) is None
    assert await storage.get_data(key(5)) == {}
