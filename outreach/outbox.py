"""Putting messages in the outbox and claiming, settling and reclaiming them (lease-based)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import Crypto
from storage.models import OutboxMessage, utcnow
from storage.sealing import seal_json


class Lane(enum.IntEnum):
    """Lower lanes go first, so a broadcast never holds up a reply."""

    REPLY = 0
    REMINDER = 1
    BROADCAST = 2


class Status(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"


def enqueue(
    session: AsyncSession,
    crypto: Crypto,
    *,
    beneficiary_id: uuid.UUID,
    text: str,
    lane: Lane = Lane.REPLY,
    reply_markup: dict[str, Any] | None = None,
    not_before: dt.datetime | None = None,
) -> OutboxMessage:
    message = OutboxMessage(
        beneficiary_id=beneficiary_id,
        lane=int(lane),
        method="sendMessage",
        status=Status.PENDING,
        attempts=0,
        not_before=not_before or utcnow(),
    )
    payload: dict[str, Any] = {"text": text}
    if reply_markup is not None:
        payload["reply_markup"] = reply_markup
    seal_json(crypto, message, "payload_enc", payload)
    session.add(message)
    return message


async def claim(
    session: AsyncSession, *, now: dt.datetime, lease: dt.timedelta, limit: int
) -> Sequence[OutboxMessage]:
    """Take due messages, and those whose sender died holding them, for `lease`."""
    due = or_(
        (OutboxMessage.status == Status.PENDING) & (OutboxMessage.not_before <= now),
        (OutboxMessage.status == Status.SENDING) & (OutboxMessage.lease_until < now),
    )
    statement = (
        select(OutboxMessage)
        .where(due)
        .order_by(OutboxMessage.lane, OutboxMessage.not_before, OutboxMessage.created_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    rows = (await session.execute(statement)).scalars().all()
    for row in rows:
        row.status = Status.SENDING
        row.lease_until = now + lease
    return rows


async def settle(
    session: AsyncSession,
    *,
    message_id: uuid.UUID,
    status: Status,
    error: str | None = None,
    telegram_message_id: int | None = None,
    retry_at: dt.datetime | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "error": error, "lease_until": None}
    if status is Status.SENT:
        values.update(sent_at=utcnow(), telegram_message_id=telegram_message_id)
    if retry_at is not None:
        values["not_before"] = retry_at
    values["attempts"] = OutboxMessage.attempts + 1
    await session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))
