"""The data keys' check row: written at the first start once the data already there opens, opened
at every later one, and carried onto the new key by a rotation."""

from __future__ import annotations

import os
import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import ops, person_keys
from storage.crypto import Crypto
from storage.models import Beneficiary
from storage.rotation import rotate_keys
from storage.sealing import seal


async def test_a_rotation_carries_the_key_check_onto_the_new_key(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    old, new = os.urandom(32), os.urandom(32)
    async with sessionmaker() as session, session.begin():
        assert await ops.check_keys(session, Crypto([old])) is ops.KeyState.CURRENT
    async with sessionmaker() as session, session.begin():
        assert await ops.key_state(session, Crypto([new, old])) is ops.KeyState.OLDER
    await rotate_keys(sessionmaker, Crypto([new, old]))
    async with sessionmaker() as session, session.begin():
        assert await ops.key_state(session, Crypto([new])) is ops.KeyState.CURRENT
        assert await ops.key_state(session, Crypto([old])) is ops.KeyState.WRONG


async def test_the_first_check_looks_at_the_data_already_there(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A database from before the check row: another installation's key is refused, not sealed
    into a check row that would then lock out the right one."""
    right = Crypto([os.urandom(32)])
    async with sessionmaker() as session, session.begin():
        person = Beneficiary(id=uuid.uuid4(), telegram_hash="f" * 64, language="ru")
        person_keys.add_new(session, right, person.id)
        seal(right, person, "telegram_id_enc", "9100000000001")
        session.add(person)
    async with sessionmaker() as session, session.begin():
        assert await ops.check_keys(session, Crypto([os.urandom(32)])) is ops.KeyState.WRONG
        assert await ops.key_state(session, right) is None  # nothing was written
    async with sessionmaker() as session, session.begin():
        assert await ops.check_keys(session, right) is ops.KeyState.CURRENT
    async with sessionmaker() as session, session.begin():
        assert await ops.key_state(session, right) is ops.KeyState.CURRENT
