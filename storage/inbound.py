"""Queries of webhook mode's inbound queue: store an update once, claim each chat's oldest, finish it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.crypto import Crypto
from storage.models import utcnow
from storage.models_webhook import InboundUpdate
from storage.sealing import seal

# Its own purpose, so these hashes cannot be joined with beneficiaries.telegram_hash.
CHAT_PURPOSE = "inbound-chat"


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(InboundUpdate)


def chat_hash(crypto: Crypto, chat_key: int | None) -> str | None:
    return None if chat_key is None else crypto.blind_index(CHAT_PURPOSE, str(chat_key))


async def store_update(
    session: AsyncSession,
    crypto: Crypto,
    *,
    bot_id: int,
    update_id: int,
    chat_key: int | None,
    payload: str,
) -> bool:
    """Queue an update, sealed; False when this update id is already queued (a redelivery)."""
    row = InboundUpdate(bot_id=bot_id, update_id=update_id)
    seal(crypto, row, "payload_enc", payload)
    statement = (
        _insert(session)
        .values(
            id=row.id,
            bot_id=bot_id,
            update_id=update_id,
            chat_hash=chat_hash(crypto, chat_key),
            payload_enc=row.payload_enc,
            received_at=utcnow(),
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["bot_id", "update_id"])
        .returning(InboundUpdate.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def claim_updates(
    session: AsyncSession, *, bot_id: int, limit: int, lease: dt.timedelta, now: dt.datetime | None = None
) -> list[InboundUpdate]:
    """Lease up to `limit` updates, each the oldest still queued of its chat, oldest first.

    Only a chat's oldest update is ever claimable, so one chat's updates are applied in update_id
    order whichever replica takes them. On PostgreSQL, rows another replica is claiming right now
    are skipped (FOR UPDATE SKIP LOCKED) instead of waited for; SQLite has one writer at a time.
    """
    now = now or utcnow()
    candidate = aliased(InboundUpdate, name="candidate")
    older = aliased(InboundUpdate, name="older")
    older_waiting = (
        select(older.id)
        .where(
            older.bot_id == candidate.bot_id,
            older.chat_hash == candidate.chat_hash,
            older.update_id < candidate.update_id,
        )
        .exists()
    )
    claimable = (
        select(candidate.id)
        .where(
            candidate.bot_id == bot_id,
            or_(candidate.lease_until.is_(None), candidate.lease_until < now),
            ~older_waiting,
        )
        .order_by(candidate.update_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(InboundUpdate)
        .where(InboundUpdate.id.in_(claimable))
        .values(lease_until=now + lease, attempts=InboundUpdate.attempts + 1)
        .returning(InboundUpdate)
        .execution_options(synchronize_session=False)
    )
    rows = list((await session.scalars(statement)).all())
    rows.sort(key=lambda row: row.update_id)
    return rows


async def finish_updates(session: AsyncSession, *, ids: Sequence[uuid.UUID]) -> None:
    """Forget handled updates (their processed_updates record keeps redeliveries out)."""
    if ids:
        await session.execute(delete(InboundUpdate).where(InboundUpdate.id.in_(ids)))


async def retry_later(session: AsyncSession, *, update_row_id: uuid.UUID, not_before: dt.datetime) -> None:
    """Keep a failed update queued, untouchable until `not_before`; its chat waits behind it."""
    await session.execute(
        update(InboundUpdate).where(InboundUpdate.id == update_row_id).values(lease_until=not_before)
    )


async def release_updates(session: AsyncSession, *, ids: Sequence[uuid.UUID]) -> None:
    """Give leased updates back at once (a replica stopping cleanly), so another takes them now."""
    if ids:
        await session.execute(update(InboundUpdate).where(InboundUpdate.id.in_(ids)).values(lease_until=None))


async def queue_depth(session: AsyncSession, *, bot_id: int) -> tuple[int, dt.datetime | None]:
    """How many updates wait and when the oldest of them arrived."""
    statement = select(func.count(), func.min(InboundUpdate.received_at)).where(
        InboundUpdate.bot_id == bot_id
    )
    count, oldest = (await session.execute(statement)).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)  # an aggregate bypasses the column's type on SQLite
    return int(count), oldest
