"""Key rotation, batch by batch; safe to interrupt and re-run.

Each person's data key is rewrapped under the newest master key (a few bytes a person: the values
sealed under it stay as they are); what the master key seals itself is re-encrypted; and a value
about a person still under a master key (written before per-person keys) moves onto their key,
which is made for them if they have none."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import city, person_keys, phone
from storage.crypto import (
    FORMAT_VERSION,
    KEY_ID_BYTES,
    PERSON_KEYS,
    WRAPPED_COLUMN,
    WRAPPED_TABLE,
    Crypto,
)
from storage.models import Base, Case
from storage.models_keys import PersonKey
from storage.schema import ENCRYPTED_MODELS
from storage.sealing import open_value, owner_of_row, seal, unseal

log = logging.getLogger(__name__)

# What a lookup hash is computed from, where it is not its source column's value as it is.
INDEX_VALUES: dict[str, Callable[[str], str]] = {phone.PURPOSE: phone.index_value}


@dataclass
class RotationReport:
    rows_seen: dict[str, int] = field(default_factory=dict)
    rows_rewritten: dict[str, int] = field(default_factory=dict)
    city_index: city.ReindexReport = field(default_factory=city.ReindexReport)


def _stale_columns(crypto: Crypto, row: Base) -> list[str]:
    """Columns under an older master key, or under a master key though they are about a person."""
    owned = row.__owner__ is not None
    return [
        column
        for column in row.__encrypted__
        if (blob := getattr(row, column)) is not None
        and (not crypto.is_current(blob) or (owned and blob[:1] == FORMAT_VERSION and _has_owner(row)))
    ]


def _may_need_work(model: type[Base], crypto: Crypto) -> ColumnElement[bool]:
    """Which rows a pass reads: only those with a value under a master key (under an older one, or
    under any when the value is about a person), so values under their person's key are not even
    read; every row where a lookup hash follows the master key."""
    table = model.__table__
    stale = []
    for name in model.__encrypted__:
        column = table.c[name]
        under_master = func.substr(column, 1, 1) == FORMAT_VERSION
        if model.__owner__ is None:
            under_master &= func.substr(column, 2, KEY_ID_BYTES) != crypto.current_key_id
        stale.append(under_master)
    return or_(*stale)


def _has_owner(row: Base) -> bool:
    return getattr(row, row.__owner__ or "", None) is not None  # an outbox row to staff has none


async def _hold_owners(session: AsyncSession, crypto: Crypto, rows: list[Base]) -> None:
    """The keys of the people a batch's rows are about, held (made where missing) in one go."""
    if not rows or rows[0].__owner__ is None:
        return
    if rows[0].__owner__ == "case_id":
        case_ids = {row.case_id for row in rows}  # type: ignore[attr-defined]
        pairs = await session.execute(select(Case.id, Case.beneficiary_id).where(Case.id.in_(case_ids)))
        for case_id, owner in pairs:
            PERSON_KEYS.note_case(case_id, owner)
    await person_keys.load(session, crypto, {owner_of_row(row) for row in rows if _has_owner(row)})


_KEYS = PersonKey.__table__
_SET_WRAPPED = update(_KEYS).where(_KEYS.c.id == bindparam("key_id")).values(wrapped=bindparam("wrapped"))


async def _rewrap_keys(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, *, batch_size: int
) -> tuple[int, int]:
    """Every person's key not under the newest master key, rewrapped under it: plain statements, a
    batch a transaction. (seen, rewritten)."""
    stale = func.substr(_KEYS.c.wrapped, 2, KEY_ID_BYTES) != crypto.current_key_id
    seen = rewritten = 0
    last_id = None
    while True:
        async with sessionmaker() as session, session.begin():
            statement = (
                select(_KEYS.c.id, _KEYS.c.wrapped).where(stale).order_by(_KEYS.c.id).limit(batch_size)
            )
            if last_id is not None:
                statement = statement.where(_KEYS.c.id > last_id)
            rows = (await session.execute(statement.with_for_update())).all()
            changes = []
            for owner, wrapped in rows:
                where = {"table": WRAPPED_TABLE, "column": WRAPPED_COLUMN, "row": owner}
                changes.append(
                    {
                        "key_id": owner,
                        "wrapped": crypto.encrypt(crypto.decrypt_bytes(wrapped, **where), **where),
                    }
                )
            if changes:
                await session.execute(_SET_WRAPPED, changes)
        for change in changes:
            PERSON_KEYS.rewrapped(change["key_id"], wrapped_by=crypto.current_key_id)
        seen, rewritten = seen + len(rows), rewritten + len(changes)
        if len(rows) < batch_size:
            return seen, rewritten
        last_id = rows[-1].id


async def _refresh_hashes(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, model: type[Base], *, batch_size: int
) -> tuple[int, int]:
    """The model's lookup hashes recomputed under the newest key where they are not: they follow the
    master key even where their source is under a person's key and stays as it is. Plain
    statements (the person's keys are loaded as their rows are read). (seen, changed)."""
    table = model.__table__
    pairs = model.__blind_indexes__
    columns = [table.c.id, *{table.c[source] for source, _ in pairs.values()}, *(table.c[h] for h in pairs)]
    setting = update(table).where(table.c.id == bindparam("row_id")).values({h: bindparam(h) for h in pairs})
    seen = changed = 0
    last_id = None
    while True:
        async with sessionmaker() as session, session.begin():
            statement = select(*columns).order_by(table.c.id).limit(batch_size)
            if last_id is not None:
                statement = statement.where(table.c.id > last_id)
            rows = (await session.execute(statement.with_for_update())).all()
            changes = [change for row in rows if (change := _fresh_hashes(crypto, model, row._mapping))]
            if changes:
                await session.execute(setting, changes)
        seen, changed = seen + len(rows), changed + len(changes)
        if len(rows) < batch_size:
            return seen, changed
        last_id = rows[-1].id


def _fresh_hashes(crypto: Crypto, model: type[Base], row: Any) -> dict[str, Any] | None:
    """The row's lookup hashes under the newest key, if any differs from what is stored."""
    fresh = {}
    for hash_column, (source, purpose) in model.__blind_indexes__.items():
        plaintext = open_value(crypto, model.__tablename__, source, row["id"], row[source])
        value = None if plaintext is None else INDEX_VALUES.get(purpose, str)(plaintext)
        fresh[hash_column] = (
            crypto.blind_index(purpose, value) if value else (None if plaintext else row[hash_column])
        )
    if all(fresh[column] == row[column] for column in fresh):
        return None
    return {"row_id": row["id"], **fresh}


def _reseal(crypto: Crypto, row: Base, columns: list[str]) -> None:
    """Re-encrypt `columns` and bring the row's lookup hashes under the newest key. A hash follows
    the master key even where its source is under a person's key and stays as it is."""
    sources = {source for source, _ in row.__blind_indexes__.values()}
    plaintexts = {column: unseal(crypto, row, column) for column in {*columns, *sources}}
    for column in columns:
        seal(crypto, row, column, plaintexts[column])
    for hash_column, (source, purpose) in row.__blind_indexes__.items():
        if plaintexts[source] is not None:
            value = INDEX_VALUES.get(purpose, str)(plaintexts[source])
            setattr(row, hash_column, crypto.blind_index(purpose, value) if value else None)


async def rotate_keys(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, *, batch_size: int = 500
) -> RotationReport:
    """Each batch commits on its own, so an interrupted run keeps its progress and a re-run
    skips what is already under the newest key.

    A batch's rows are locked as they are read (FOR UPDATE on PostgreSQL; SQLite's transaction
    holds its one write lock from the start): a change the bot or a caseworker commits meanwhile
    waits for the batch and lands after it, instead of being overwritten by the value read before.

    Lookup hashes whose source is in the same row follow their column (`__blind_indexes__`); the
    city's comes from the interview's sealed answers, so it is recomputed in a pass of its own
    after them (storage.city), which also fills any the migration left pending."""
    report = RotationReport()
    for model in ENCRYPTED_MODELS:
        name = model.__tablename__
        report.rows_seen[name] = report.rows_rewritten[name] = 0
        if model is PersonKey:
            report.rows_seen[name], report.rows_rewritten[name] = await _rewrap_keys(
                sessionmaker, crypto, batch_size=batch_size
            )
            continue
        last_id = None
        while True:
            async with sessionmaker() as session, session.begin():
                statement = (
                    select(model)
                    .where(_may_need_work(model, crypto))
                    .order_by(model.id)  # type: ignore[attr-defined]
                    .limit(batch_size)
                    .with_for_update()
                )
                if last_id is not None:
                    statement = statement.where(model.id > last_id)  # type: ignore[attr-defined]
                rows = (await session.execute(statement)).scalars().all()
                stale = {row: columns for row in rows if (columns := _stale_columns(crypto, row))}
                await _hold_owners(session, crypto, list(stale))
                for row, columns in stale.items():
                    _reseal(crypto, row, columns)
                report.rows_rewritten[name] += len(stale)
                report.rows_seen[name] += len(rows)
            if len(rows) < batch_size:
                break
            last_id = rows[-1].id
        if model.__blind_indexes__:
            seen, changed = await _refresh_hashes(sessionmaker, crypto, model, batch_size=batch_size)
            report.rows_seen[name] = max(report.rows_seen[name], seen)
            report.rows_rewritten[name] += changed
        log.info(
            "rotated %s: %d of %d rows rewritten", name, report.rows_rewritten[name], report.rows_seen[name]
        )
    report.city_index = await city.reindex(sessionmaker, crypto, batch_size=batch_size)
    log.info("city index: %d of %d recomputed", report.city_index.rewritten, report.city_index.seen)
    return report
