"""Queries of webhook mode's inbound queue: store an update once (taking it at once when it may be),
claim each chat's oldest, finish it."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, case, delete, func, literal, null, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.crypto import Crypto
from storage.models import UTCDateTime, utcnow
from storage.models_webhook import InboundUpdate
from storage.sealing import open_value, seal_value

# Its own purpose, so these hashes cannot be joined with beneficiaries.telegram_hash.
CHAT_PURPOSE = "inbound-chat"
_TABLE = InboundUpdate.__table__
_PAYLOAD = "payload_enc"
# The queue row of the update the current task feeds to the dispatcher (webhook mode).
HANDLING: ContextVar[uuid.UUID | None] = ContextVar("inbound_row", default=None)
_DELETE_ONE = delete(_TABLE).where(_TABLE.c.id == bindparam("row_id"))
# An update that failed this many times (or whose replica died this often) is given up (bot.webhook);
# the retention purge deletes a given-up row the consumer could not (storage.retention).
MAX_ATTEMPTS = 5


def _insert(connection: AsyncConnection) -> Any:
    return (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(_TABLE)


def chat_hash(crypto: Crypto, chat_key: int | None) -> str | None:
    return None if chat_key is None else crypto.blind_index(CHAT_PURPOSE, str(chat_key))


def open_payload(crypto: Crypto, row: QueuedUpdate) -> Any:
    """The update a claimed row holds, as Telegram sent it."""
    return json.loads(open_value(crypto, _TABLE.name, _PAYLOAD, row.id, row.payload_enc) or "null")


@dataclass(frozen=True)
class StoredUpdate:
    """A newly queued update; `taken` when its store also leased it to the storing replica."""

    id: uuid.UUID
    taken: bool


@dataclass(frozen=True)
class QueuedUpdate:
    """A claimed row as plain values: the claim is the hot path, and an ORM entity costs more."""

    id: uuid.UUID
    update_id: int
    chat_hash: str | None
    attempts: int
    payload_enc: bytes


def _older_queued(bot_id: int, chat: str, update_id: int, held: Sequence[uuid.UUID]) -> Any:
    """Whether an update of this chat older than `update_id` is still queued (leased or not),
    other than the rows in `held`."""
    older = select(_TABLE.c.id).where(
        _TABLE.c.bot_id == bot_id, _TABLE.c.chat_hash == chat, _TABLE.c.update_id < update_id
    )
    if held:
        older = older.where(_TABLE.c.id.not_in(held))
    return older.exists()


async def store_update(
    session: AsyncSession,
    crypto: Crypto,
    *,
    bot_id: int,
    update_id: int,
    chat_key: int | None,
    payload: str,
    take_for: dt.timedelta | None = None,
    held: Sequence[uuid.UUID] = (),
    now: dt.datetime | None = None,
) -> StoredUpdate | None:
    """Queue an update, sealed; None when this update id is already queued (a redelivery).

    With `take_for`, the same statement also leases the row to the caller for that long when no
    older update of its chat is queued but those in `held`: rows of the chat the caller holds the
    lease of, and handles before this one (or has handled). The caller then handles the update from
    the payload it has, which spares a claim's transaction and an unseal.
    """
    now = now or utcnow()
    row_id = uuid.uuid4()
    chat = chat_hash(crypto, chat_key)
    values: dict[str, Any] = {
        "id": row_id,
        "bot_id": bot_id,
        "update_id": update_id,
        "chat_hash": chat,
        _PAYLOAD: seal_value(crypto, _TABLE.name, _PAYLOAD, row_id, payload),
        "received_at": now,
        "attempts": 0,
    }
    if take_for is not None and chat is None:
        values |= {"lease_until": now + take_for, "attempts": 1}  # no chat, no order to keep
    elif take_for is not None:
        free = ~_older_queued(bot_id, chat, update_id, held)
        values["lease_until"] = case((free, literal(now + take_for, UTCDateTime())), else_=null())
        values["attempts"] = case((free, 1), else_=0)
    connection = await session.connection()
    statement = (
        _insert(connection)
        .values(values)
        .on_conflict_do_nothing(index_elements=["bot_id", "update_id"])
        .returning(_TABLE.c.lease_until)
    )
    # The lease itself, not `lease_until IS NOT NULL`: SQLite 3.40 answers that with 1 for a NULL.
    row = (await connection.execute(statement)).one_or_none()
    return None if row is None else StoredUpdate(id=row_id, taken=row.lease_until is not None)


async def claim_updates(
    session: AsyncSession, *, bot_id: int, limit: int, lease: dt.timedelta, now: dt.datetime | None = None
) -> list[QueuedUpdate]:
    """Lease up to `limit` updates, each the oldest still queued of its chat, oldest first.

    Only a chat's oldest update is ever claimable, so one chat's updates are applied in update_id
    order whichever replica takes them. On PostgreSQL, rows another replica is claiming right now
    are skipped (FOR UPDATE SKIP LOCKED) instead of waited for; SQLite has one writer at a time.
    """
    now = now or utcnow()
    candidate = _TABLE.alias("candidate")
    older = _TABLE.alias("older")
    older_waiting = (
        select(older.c.id)
        .where(
            older.c.bot_id == candidate.c.bot_id,
            older.c.chat_hash == candidate.c.chat_hash,
            older.c.update_id < candidate.c.update_id,
        )
        .exists()
    )
    claimable = (
        select(candidate.c.id)
        .where(
            candidate.c.bot_id == bot_id,
            or_(candidate.c.lease_until.is_(None), candidate.c.lease_until < now),
            ~older_waiting,
        )
        .order_by(candidate.c.update_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(_TABLE)
        .where(_TABLE.c.id.in_(claimable))
        .values(lease_until=now + lease, attempts=_TABLE.c.attempts + 1)
        .returning(
            _TABLE.c.id, _TABLE.c.update_id, _TABLE.c.chat_hash, _TABLE.c.attempts, _TABLE.c.payload_enc
        )
    )
    connection = await session.connection()
    rows = [QueuedUpdate(*row) for row in await connection.execute(statement)]
    rows.sort(key=lambda row: row.update_id)
    return rows


async def finish_updates(session: AsyncSession, *, ids: Sequence[uuid.UUID]) -> None:
    """Forget handled updates (their processed_updates record keeps redeliveries out)."""
    if ids:
        connection = await session.connection()
        await connection.execute(delete(_TABLE).where(_TABLE.c.id.in_(ids)))


async def forget_handled(session: AsyncSession) -> None:
    """Delete the queue row of the update being handled, in the update's own transaction: it is
    gone when the update is applied (a newer one of its chat need not wait for it, on any replica)
    and kept when it is not."""
    row_id = HANDLING.get()
    if row_id is not None:
        connection = await session.connection()
        await connection.execute(_DELETE_ONE, {"row_id": row_id})


async def retry_later(
    session: AsyncSession, *, update_row_id: uuid.UUID, not_before: dt.datetime | None
) -> None:
    """Keep an update queued, untouchable until `not_before` (None: claimable at once); its chat
    waits behind it."""
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
