"""Each person's data key: made with the person, held unwrapped once loaded, destroyed with them.

Reading needs nothing from the caller: every SELECT run through a session is looked at as it
returns (`do_orm_execute`), and the keys of the people whose values it brought back are loaded in
the same transaction, with one more SELECT for the keys this process does not hold yet. Writing a
person's value needs their key held first: the functions that write (storage.journey,
storage.casework, storage.plan, the outbox's callers) call `load` or `load_for_case`, which cost no
query once the key is held; a person without a key yet (their values predate per-person keys) is
given one there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, bindparam, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from storage.crypto import PERSON_KEYS, Crypto, hold_person_key, owner_of
from storage.models import Base, Case, utcnow
from storage.models_keys import PersonKey

_LOADING = "intake_person_keys"
_TABLE = PersonKey.__table__
_WRAPPED = select(_TABLE.c.id, _TABLE.c.wrapped).where(_TABLE.c.id.in_(bindparam("ids", expanding=True)))


def _hold(rows: Iterable[Any]) -> None:
    # A key no configured master key opens stays unheld: its person's values do not decrypt.
    for owner, wrapped in rows:
        hold_person_key(owner, wrapped)


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_TABLE)


def add_new(session: AsyncSession, crypto: Crypto, owner: uuid.UUID) -> None:
    """A new person's key, held at once and written with them (their row is flushed first)."""
    session.add(PersonKey(id=owner, wrapped=crypto.new_person_key(owner)))


async def load(session: AsyncSession, crypto: Crypto, owners: Iterable[uuid.UUID | None]) -> None:
    """Hold the keys of `owners` unwrapped: nothing to do for those already held, one SELECT for
    the rest, and a new key for anyone who has none (a person from before per-person keys; two
    processes doing so at once agree on the first one written)."""
    missing = {owner for owner in owners if owner is not None and owner not in PERSON_KEYS}
    if not missing:
        return
    found = (await session.execute(_WRAPPED, {"ids": list(missing)})).all()
    _hold(found)
    missing.difference_update(owner for owner, _ in found)
    if not missing:
        return
    now = utcnow()
    rows = [{"id": owner, "wrapped": crypto.new_person_key(owner), "created_at": now} for owner in missing]
    await session.execute(_insert(session).on_conflict_do_nothing(index_elements=["id"]), rows)
    # Another process may have given one of them a key first: theirs is the one written.
    _hold((await session.execute(_WRAPPED, {"ids": list(missing)})).all())


async def load_for_case(session: AsyncSession, crypto: Crypto, case: Case | uuid.UUID) -> uuid.UUID:
    """The person a case is about, with their key held, so the case's rows can be sealed."""
    if isinstance(case, Case):
        PERSON_KEYS.note_case(case.id, case.beneficiary_id)
        case_id = case.id
    else:
        case_id = case
    owner = PERSON_KEYS.owner_of_case(case_id)
    if owner is None:
        owner = (await session.execute(select(Case.beneficiary_id).where(Case.id == case_id))).scalar_one()
        PERSON_KEYS.note_case(case_id, owner)
    await load(session, crypto, [owner])
    return owner


def note_cases(cases: Iterable[Case]) -> None:
    """Remember whose the loaded `cases` are (it never changes): sealing their rows needs no query."""
    for case in cases:
        PERSON_KEYS.note_case(case.id, case.beneficiary_id)


def forget(owner: uuid.UUID) -> None:
    """Drop an erased person's key from this process (their row is deleted with them)."""
    PERSON_KEYS.forget(owner)


def _sealed_values(row: Any) -> Iterable[bytes]:
    # A row of several columns, or (a single-entity ORM result) the entity itself.
    for value in row if isinstance(row, Row | tuple) else (row,):
        if isinstance(value, bytes | memoryview):
            yield bytes(value)
        elif isinstance(value, Base):
            yield from (
                blob
                for column in value.__encrypted__
                if isinstance(blob := value.__dict__.get(column), bytes)
            )


def _owners_to_load(rows: Iterable[Any]) -> set[uuid.UUID]:
    owners = set()
    for row in rows:
        for blob in _sealed_values(row):
            owner = owner_of(blob)
            if owner is not None and owner not in PERSON_KEYS:
                owners.add(owner)
    return owners


@event.listens_for(Session, "do_orm_execute")
def _load_while_reading(state: ORMExecuteState) -> Any:
    """The keys of the people a SELECT brought back, loaded before the caller sees the rows."""
    if not state.is_select or state.execution_options.get(_LOADING):
        return None
    frozen = state.invoke_statement().freeze()
    owners = _owners_to_load(frozen.data)
    if owners:
        loading = _WRAPPED.execution_options(**{_LOADING: True})
        _hold(state.session.execute(loading, {"ids": list(owners)}).all())
    return frozen()
