"""aiogram FSM storage in the database, so a restarted bot resumes every dialog at its step.

Rows are keyed by the beneficiary (found through the Telegram id's lookup hash) and their data is
sealed. Inside an update the storage writes through that update's session, so dialog state and
the case data it leads to commit together.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from contextvars import ContextVar
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import DEFAULT_DESTINY, BaseStorage, StateType, StorageKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.crypto import Crypto
from storage.models import Beneficiary, DialogState
from storage.queries import TELEGRAM_PURPOSE, create_beneficiary, find_beneficiary
from storage.sealing import seal_json, unseal_json

# The session of the update being handled, set by the update middleware.
update_session: ContextVar[AsyncSession | None] = ContextVar("update_session", default=None)
_ROW = "dialog_state_row"


async def open_chat(session: AsyncSession, crypto: Crypto, *, telegram_id: int) -> Beneficiary:
    """The chat's beneficiary, made at first contact, with its dialog state read in the same SELECT
    and kept for the storage below: an update costs one lookup instead of two."""
    hashes = crypto.blind_indexes(TELEGRAM_PURPOSE, str(telegram_id))
    statement = (
        select(Beneficiary, DialogState)
        .outerjoin(DialogState, DialogState.id == Beneficiary.id)
        .where(Beneficiary.telegram_hash.in_(hashes))
    )
    found = (await session.execute(statement)).one_or_none()
    if found is None:
        beneficiary = await create_beneficiary(session, crypto, telegram_id=telegram_id)
        row = None
    else:
        beneficiary, row = found
    session.info.update(beneficiary=beneficiary, telegram_id=telegram_id)
    if row is not None:
        session.info[_ROW] = row
    return beneficiary


class SqlStorage(BaseStorage):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> None:
        self._sessionmaker = sessionmaker
        self._crypto = crypto

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        current = update_session.get()
        if current is not None:
            yield current
            return
        async with self._sessionmaker() as session, session.begin():
            yield session

    async def _row(self, session: AsyncSession, key: StorageKey, *, create: bool) -> DialogState | None:
        if key.destiny != DEFAULT_DESTINY or key.chat_id != key.user_id:
            raise ValueError("dialog state is kept for private chats only")
        known = session.info.get("beneficiary")
        if known is not None and session.info.get("telegram_id") == key.user_id:
            beneficiary = known
        else:
            beneficiary = await find_beneficiary(session, self._crypto, telegram_id=key.user_id)
        if beneficiary is None:
            if create:
                raise LookupError("dialog state for a chat without a beneficiary")
            return None
        row = session.info.get(_ROW)
        if row is None or row.id != beneficiary.id:
            row = await session.get(DialogState, beneficiary.id)
            if row is None and create:
                row = DialogState(id=beneficiary.id)
                session.add(row)
            # The session's identity map holds rows weakly: without this reference every read of the
            # state or data in an update would select the row again.
            session.info[_ROW] = row
        return row

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        async with self._session() as session:
            row = await self._row(session, key, create=True)
            assert row is not None
            row.state = state.state if isinstance(state, State) else state

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session() as session:
            row = await self._row(session, key, create=False)
            return None if row is None else row.state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._session() as session:
            row = await self._row(session, key, create=True)
            assert row is not None
            seal_json(self._crypto, row, "data_enc", dict(data) or None)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session() as session:
            row = await self._row(session, key, create=False)
            if row is None:
                return {}
            return dict(unseal_json(self._crypto, row, "data_enc") or {})

    async def close(self) -> None:
        return None
