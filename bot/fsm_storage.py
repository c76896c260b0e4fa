"""aiogram FSM storage in the database, so a restarted bot resumes every dialog at its step.

Rows are keyed by the beneficiary (found through the Telegram id's lookup hash) and their data is
sealed. Inside an update the dialog is read with the person (`open_chat`, one SELECT), kept in the
update's session while handlers read and change it (the data unsealed once), and written once, in
one statement, just before the update's transaction commits (`save_dialog`): dialog state and the
case data it leads to commit together. Outside an update each call is its own transaction.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import DEFAULT_DESTINY, BaseStorage, StateType, StorageKey
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.renamed_states import current_name
from storage import person_keys
from storage.crypto import Crypto
from storage.journey import ERASED
from storage.models import Beneficiary, DialogState, utcnow
from storage.queries import TELEGRAM_PURPOSE, create_beneficiary, find_beneficiary

# The session of the update being handled, set by the update middleware.
update_session: ContextVar[AsyncSession | None] = ContextVar("update_session", default=None)
_DIALOG = "dialog"
_TABLE = DialogState.__table__
_COLUMN = "data_enc"

_READ = select(_TABLE.c.state, _TABLE.c.data_enc).where(_TABLE.c.id == bindparam("id"))
_UPDATE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values(state=bindparam("state"), data_enc=bindparam("data_enc"), updated_at=bindparam("updated_at"))
)
_INSERT = insert(_TABLE)
# The person with their dialog, by any of the Telegram id's lookup hashes (one per key in use).
_OPEN_CHAT = (
    select(Beneficiary, _TABLE.c.id, _TABLE.c.state, _TABLE.c.data_enc)
    .outerjoin(_TABLE, _TABLE.c.id == Beneficiary.id)
    .where(Beneficiary.telegram_hash.in_(bindparam("hashes", expanding=True)))
)


@dataclass(slots=True)
class Dialog:
    """One person's dialog while an update (or a call outside one) works with it."""

    id: uuid.UUID  # the beneficiary's
    stored: bool  # a row exists
    state: str | None = None
    data_enc: bytes | None = None
    text: str | None = None  # the data as JSON, unsealed on first read or set by a write
    changed: bool = False

    def __post_init__(self) -> None:
        # A state saved under a former name is read as today's (bot.renamed_states).
        self.state = current_name(self.state)

    def read(self, crypto: Crypto) -> dict[str, Any]:
        """A fresh copy each time, as if read from the database: what a handler does to it stays
        its own until it writes it back."""
        if self.text is None and self.data_enc is not None:
            self.text = crypto.decrypt(self.data_enc, **self._sealed_as())
        return {} if self.text is None else dict(json.loads(self.text))

    def write(self, data: Mapping[str, Any]) -> None:
        self.text = json.dumps(dict(data), ensure_ascii=False) if data else None
        self.data_enc, self.changed = None, True

    def _sealed_as(self) -> dict[str, str]:
        return {"table": _TABLE.name, "column": _COLUMN, "row": str(self.id)}

    async def save(self, session: AsyncSession, crypto: Crypto) -> None:
        if not self.changed:
            return
        if self.data_enc is None and self.text is not None:
            self.data_enc = crypto.encrypt(self.text, **self._sealed_as(), owner=self.id)
        values = {"state": self.state, "data_enc": self.data_enc, "updated_at": utcnow()}
        connection = await session.connection()
        if self.stored:
            await connection.execute(_UPDATE, {"row_id": self.id, **values})
        else:
            await connection.execute(_INSERT, {"id": self.id, **values})
            self.stored = True
        self.changed = False


async def open_chat(session: AsyncSession, crypto: Crypto, *, telegram_id: int) -> Beneficiary:
    """The chat's beneficiary, made at first contact, with its dialog read in the same SELECT and
    kept for the storage below: an update costs one lookup instead of two."""
    hashes = crypto.blind_indexes(TELEGRAM_PURPOSE, str(telegram_id))
    found = (await session.execute(_OPEN_CHAT, {"hashes": hashes})).one_or_none()
    if found is None:
        beneficiary = await create_beneficiary(session, crypto, telegram_id=telegram_id)
        dialog = Dialog(beneficiary.id, stored=False)
    else:
        beneficiary, row_id, state, data_enc = found
        dialog = Dialog(beneficiary.id, stored=row_id is not None, state=state, data_enc=data_enc)
        # Held already when their values are under their key (read with them); no query then.
        await person_keys.load(session, crypto, [beneficiary.id])
    session.info.update(beneficiary=beneficiary, telegram_id=telegram_id)
    session.info[_DIALOG] = dialog
    return beneficiary


async def save_dialog(session: AsyncSession, crypto: Crypto) -> None:
    """Write the update's dialog, if it changed, before the update's transaction commits."""
    dialog: Dialog | None = session.info.get(_DIALOG)
    if dialog is not None and not session.info.get(ERASED):  # an erased person has no dialog
        await dialog.save(session, crypto)


class SqlStorage(BaseStorage):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> None:
        self._sessionmaker = sessionmaker
        self._crypto = crypto

    @contextlib.asynccontextmanager
    async def _dialog(self, key: StorageKey, *, create: bool) -> AsyncIterator[Dialog | None]:
        """The dialog of `key`'s chat: the update's own, or read (and, if changed, written back) in
        the update's transaction or, outside an update, in one of its own."""
        if key.destiny != DEFAULT_DESTINY or key.chat_id != key.user_id:
            raise ValueError("dialog state is kept for private chats only")
        current = update_session.get()
        if current is not None and current.info.get("telegram_id") == key.user_id:
            yield current.info[_DIALOG]
            return
        async with self._session(current) as session:
            beneficiary = await find_beneficiary(session, self._crypto, telegram_id=key.user_id)
            if beneficiary is None:
                if create:
                    raise LookupError("dialog state for a chat without a beneficiary")
                yield None
                return
            row = (await session.execute(_READ, {"id": beneficiary.id})).one_or_none()
            await person_keys.load(session, self._crypto, [beneficiary.id])
            state, data_enc = row if row is not None else (None, None)
            dialog = Dialog(beneficiary.id, stored=row is not None, state=state, data_enc=data_enc)
            yield dialog
            await dialog.save(session, self._crypto)

    @contextlib.asynccontextmanager
    async def _session(self, current: AsyncSession | None) -> AsyncIterator[AsyncSession]:
        if current is not None:  # another chat's dialog during an update: in its transaction
            yield current
            return
        async with self._sessionmaker() as session, session.begin():
            yield session

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        async with self._dialog(key, create=True) as dialog:
            assert dialog is not None
            dialog.state = state.state if isinstance(state, State) else state
            dialog.changed = True

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._dialog(key, create=False) as dialog:
            return None if dialog is None else dialog.state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._dialog(key, create=True) as dialog:
            assert dialog is not None
            dialog.write(data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._dialog(key, create=False) as dialog:
            return {} if dialog is None else dialog.read(self._crypto)

    async def close(self) -> None:
        return None
