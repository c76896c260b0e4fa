"""Each person's data key: made with the person, held unwrapped once loaded, destroyed with them.

Reading needs nothing from the caller: every SELECT run through a session that may bring back a
sealed value is looked at as it returns (`do_orm_execute`), and the keys of the people whose values
it brought back are loaded in the same transaction, with one more SELECT for the keys this process
does not hold yet. A SELECT of nothing that can be sealed (ids, codes, stages, counts: most of them)
runs untouched; which are which is decided once for each selected column and entity. Writing a
person's value needs their key held first: the functions that write (storage.journey,
storage.casework, storage.plan, the outbox's callers) call `load` or `load_for_case`, which cost no
query once the key is held; a person without a key yet (their values predate per-person keys) is
given one there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import LargeBinary, Row, Select, bindparam, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType, TypeDecorator

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


# Whether a selected mapped column or entity can bring back a sealed value, by the element itself
# (SQLAlchemy makes one for each mapped column and entity and reuses it in every statement). Keyed
# by identity and holding the element, so that its id is not reused; an element equal to another
# is not the same one (SQL's `==` makes an expression). Emptied if it grows past what a schema has.
_MAY_BE_SEALED: dict[int, tuple[Any, bool]] = {}
_MAY_BE_SEALED_MAX = 4096


def _bytes_type(type_: Any) -> bool:
    """A column of this type returns bytes (a sealed value is bytes), or may: an untyped one."""
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    return isinstance(type_, LargeBinary | NullType)


def _decide(element: Any) -> bool:
    mapper = element._annotations.get("parentmapper") if hasattr(element, "_annotations") else None
    # A model about no person (staff, the webhook queue, the wrapped keys themselves) seals its
    # values under the master key: nothing of theirs needs a person's key.
    about_a_person = mapper is None or mapper.class_.__owner__ is not None
    if isinstance(element, ColumnElement):
        return about_a_person and _bytes_type(element.type)
    if mapper is not None:  # an entity (its row's sealed columns are looked at) or an alias of one
        return about_a_person and bool(mapper.class_.__encrypted__)
    columns = getattr(element, "c", None)  # a table or a subquery selected whole
    return columns is None or any(_bytes_type(column.type) for column in columns)


def may_be_sealed(element: Any) -> bool:
    """Whether one selected element (a column, an expression, an entity) can bring back a sealed
    value; decided once for the elements SQLAlchemy reuses (mapped columns and entities)."""
    reused = "parententity" in getattr(element, "_annotations", ())
    if reused:
        known = _MAY_BE_SEALED.get(id(element))
        if known is not None and known[0] is element:
            return known[1]
    decided = _decide(element)
    if reused:
        if len(_MAY_BE_SEALED) >= _MAY_BE_SEALED_MAX:
            _MAY_BE_SEALED.clear()
        _MAY_BE_SEALED[id(element)] = (element, decided)
    return decided


def reads_sealed(statement: Any) -> bool:
    """Whether a SELECT can bring back a sealed value: any of its selected elements can; a statement
    of another shape (a union, text) is assumed to."""
    if type(statement) is not Select:
        return True
    # Select's raw selected elements: SQLAlchemy's own attribute, read here because the public
    # ones (selected_columns, column_descriptions) build new collections on every call.
    return any(may_be_sealed(element) for element in statement._raw_columns)


@event.listens_for(Session, "do_orm_execute")
def _load_while_reading(state: ORMExecuteState) -> Any:
    """The keys of the people a SELECT brought back, loaded before the caller sees the rows."""
    if not state.is_select or state.execution_options.get(_LOADING) or not reads_sealed(state.statement):
        return None
    frozen = state.invoke_statement().freeze()
    owners = _owners_to_load(frozen.data)
    if owners:
        loading = _WRAPPED.execution_options(**{_LOADING: True})
        _hold(state.session.execute(loading, {"ids": list(owners)}).all())
    return frozen()
