"""Re-encrypts every sealed value under the newest key, batch by batch; safe to interrupt and re-run."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import city
from storage.crypto import Crypto
from storage.models import Base
from storage.schema import ENCRYPTED_MODELS
from storage.sealing import seal, unseal

log = logging.getLogger(__name__)


@dataclass
class RotationReport:
    rows_seen: dict[str, int] = field(default_factory=dict)
    rows_rewritten: dict[str, int] = field(default_factory=dict)
    city_index: city.ReindexReport = field(default_factory=city.ReindexReport)


def _stale_columns(crypto: Crypto, row: Base) -> list[str]:
    return [
        column
        for column in row.__encrypted__
        if (blob := getattr(row, column)) is not None and not crypto.is_current(blob)
    ]


def _reseal(crypto: Crypto, row: Base, columns: list[str]) -> None:
    plaintexts = {column: unseal(crypto, row, column) for column in columns}
    for column, plaintext in plaintexts.items():
        seal(crypto, row, column, plaintext)
    for hash_column, (source, purpose) in row.__blind_indexes__.items():
        if source in plaintexts and plaintexts[source] is not None:
            setattr(row, hash_column, crypto.blind_index(purpose, plaintexts[source]))


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
        last_id = None
        while True:
            async with sessionmaker() as session, session.begin():
                statement = (
                    select(model).order_by(model.id).limit(batch_size).with_for_update()  # type: ignore[attr-defined]
                )
                if last_id is not None:
                    statement = statement.where(model.id > last_id)  # type: ignore[attr-defined]
                rows = (await session.execute(statement)).scalars().all()
                for row in rows:
                    stale = _stale_columns(crypto, row)
                    if stale:
                        _reseal(crypto, row, stale)
                        report.rows_rewritten[name] += 1
                report.rows_seen[name] += len(rows)
            if len(rows) < batch_size:
                break
            last_id = rows[-1].id
        log.info(
            "rotated %s: %d of %d rows rewritten", name, report.rows_rewritten[name], report.rows_seen[name]
        )
    report.city_index = await city.reindex(sessionmaker, crypto, batch_size=batch_size)
    log.info("city index: %d of %d recomputed", report.city_index.rewritten, report.city_index.seen)
    return report
