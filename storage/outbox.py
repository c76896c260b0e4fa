"""Putting messages in the outbox and claiming, settling and reclaiming them (lease-based)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Table, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import person_keys
from storage.crypto import Crypto
from storage.models import OutboxMessage, utcnow
from storage.sealing import seal, seal_json

# Telegram's limit on a message's text, counted in UTF-16 code units.
TEXT_LIMIT = 4096


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
    # A campaign's rows while it is paused or after it was cancelled: never claimed.
    PAUSED = "paused"
    CANCELLED = "cancelled"


FINAL = frozenset({Status.SENT, Status.FAILED, Status.UNCERTAIN, Status.CANCELLED})
STOPPED_AFTER_SENDING = "sender stopped after sending"
# An uncertain row someone chose to leave as it is (it stays uncertain, and is not asked about again).
LEFT_UNCERTAIN = "left uncertain"


def undecided() -> ColumnElement[bool]:
    """Rows settled uncertain that nobody has decided about yet: the sender never repeats them by
    itself (Telegram has no idempotency key), so a person sends them again or leaves them."""
    return (OutboxMessage.status == Status.UNCERTAIN) & or_(
        OutboxMessage.error.is_(None), OutboxMessage.error != LEFT_UNCERTAIN
    )


async def send_uncertain_again(
    session: AsyncSession,
    *conditions: ColumnElement[bool],
    not_before: dt.datetime,
    status: Status = Status.PENDING,
) -> int:
    """The undecided uncertain rows the conditions pick go out again (or are held, `status`
    PAUSED, with a paused campaign): the person who chose it was warned some may get them twice."""
    done = await session.execute(
        update(OutboxMessage)
        .where(undecided(), *conditions)
        .values(status=status, error=None, lease_until=None, attempt_started_at=None, not_before=not_before)
        .execution_options(synchronize_session=False)
    )
    return int(done.rowcount)  # type: ignore[attr-defined]


async def leave_uncertain(session: AsyncSession, *conditions: ColumnElement[bool]) -> int:
    """The undecided uncertain rows the conditions pick stay as they are, decided."""
    done = await session.execute(
        update(OutboxMessage)
        .where(undecided(), *conditions)
        .values(error=LEFT_UNCERTAIN)
        .execution_options(synchronize_session=False)
    )
    return int(done.rowcount)  # type: ignore[attr-defined]


def _uncertain_to(beneficiary_id: uuid.UUID) -> tuple[ColumnElement[bool], ...]:
    # A campaign's are decided on the campaign's page.
    return (
        undecided(),
        OutboxMessage.beneficiary_id == beneficiary_id,
        OutboxMessage.campaign_id.is_(None),
        OutboxMessage.lane.in_([int(Lane.REPLY), int(Lane.REMINDER)]),
    )


async def uncertain_to(session: AsyncSession, *, beneficiary_id: uuid.UUID) -> list[OutboxMessage]:
    """A person's replies and reminders left uncertain and undecided, oldest first."""
    rows = await session.execute(
        select(OutboxMessage).where(*_uncertain_to(beneficiary_id)).order_by(OutboxMessage.created_at)
    )
    return list(rows.scalars())


async def count_uncertain_to(session: AsyncSession, *, beneficiary_id: uuid.UUID) -> int:
    """How many of them there are (the case header's note, on every tab)."""
    found = await session.execute(select(func.count()).where(*_uncertain_to(beneficiary_id)))
    return int(found.scalar_one())


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _prefix_within(text: str, limit: int) -> int:
    """The longest prefix of `text` (in code points) whose UTF-16 length is at most `limit`."""
    low, high = 0, min(len(text), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if _utf16_length(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Text cut into messages Telegram accepts: at a paragraph, else a line, else a space."""
    parts: list[str] = []
    while _utf16_length(text) > limit:
        end = _prefix_within(text, limit)
        window = text[:end]
        cut = end
        for separator in ("\n\n", "\n", " "):
            found = window.rfind(separator)
            if found > 0 and window[:found].strip():
                cut = found
                break
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text or not parts:
        parts.append(text)
    return parts


async def enqueue(
    session: AsyncSession,
    crypto: Crypto,
    *,
    beneficiary_id: uuid.UUID | None = None,
    staff_user_id: int | None = None,
    chat_id: int | None = None,
    text: str,
    lane: Lane = Lane.REPLY,
    reply_markup: dict[str, Any] | None = None,
    not_before: dt.datetime | None = None,
    campaign_id: uuid.UUID | None = None,
    link_preview: bool = True,
) -> list[OutboxMessage]:
    """One outbox row per message Telegram will get (long texts are split; buttons go on the last).

    The parts' creation times are a microsecond apart, so the claim's order keeps them in order.
    A message goes to a beneficiary, or to a staff member's own linked chat (a campaign's test), or
    to a bare chat (`chat_id`, sealed): the last message to a person whose rows are being erased.
    Without `link_preview`, Telegram shows no preview of a link in it (nor fetches the page).
    """
    if sum(target is not None for target in (beneficiary_id, staff_user_id, chat_id)) != 1:
        raise ValueError("an outbox message goes to a beneficiary, a staff member or a chat: one of them")
    await person_keys.load(
        session, crypto, [beneficiary_id]
    )  # what goes to a person is sealed under their key
    created = utcnow()
    parts = split_text(text)
    messages = []
    for n, part in enumerate(parts):
        message = OutboxMessage(
            beneficiary_id=beneficiary_id,
            staff_user_id=staff_user_id,
            lane=int(lane),
            method="sendMessage",
            status=Status.PENDING,
            attempts=0,
            not_before=not_before or created,
            created_at=created + dt.timedelta(microseconds=n),
            campaign_id=campaign_id,
        )
        payload: dict[str, Any] = {"text": part}
        if not link_preview:
            payload["link_preview_options"] = {"is_disabled": True}
        if reply_markup is not None and n == len(parts) - 1:
            payload["reply_markup"] = reply_markup
        seal_json(crypto, message, "payload_enc", payload)
        if chat_id is not None:
            seal(crypto, message, "chat_id_enc", str(chat_id))
        session.add(message)
        messages.append(message)
    return messages


def enqueue_call(
    session: AsyncSession, crypto: Crypto, *, chat_id: int, method: str, payload: dict[str, Any]
) -> OutboxMessage:
    """Another Bot API call than sendMessage to a bare chat (deleteMessages, when a person is erased)."""
    message = OutboxMessage(
        lane=int(Lane.REPLY), method=method, status=Status.PENDING, attempts=0, not_before=utcnow()
    )
    message.created_at = message.not_before
    seal_json(crypto, message, "payload_enc", payload)
    seal(crypto, message, "chat_id_enc", str(chat_id))
    session.add(message)
    return message


# The sender's statements are Core statements on the table: it writes many rows, many times a
# second, and SQLAlchemy's ORM layer over a statement costs more than the statement.
OUTBOX = cast(Table, OutboxMessage.__table__)
_ROW_ID = "outbox_row_id"
# One outcome: the row by its id, the columns to set from the other keys of each row's values.
_SETTLE = OUTBOX.update().where(OUTBOX.c.id == bindparam(_ROW_ID))
# What the sender reads of a claimed row.
CLAIMED = (
    OutboxMessage.id,
    OutboxMessage.beneficiary_id,
    OutboxMessage.staff_user_id,
    OutboxMessage.chat_id_enc,
    OutboxMessage.lane,
    OutboxMessage.method,
    OutboxMessage.attempts,
    OutboxMessage.campaign_id,
    OutboxMessage.payload_enc,
    OutboxMessage.not_before,
    OutboxMessage.created_at,
)


async def claim(
    session: AsyncSession, *, now: dt.datetime, lease: dt.timedelta, limit: int
) -> list[Row[Any]]:
    """Take due messages, and those whose sender died holding them, for `lease`: the columns of
    `CLAIMED`, lanes first, then by due time and creation.

    A dead sender's row whose attempt had started may have reached Telegram, which has no
    idempotency key: it is settled uncertain instead of being sent a second time.

    One statement takes them (an UPDATE of the rows a sub-select picks, returning them): plain rows,
    not ORM objects, as the sender reads each once.
    """
    expired = (OutboxMessage.status == Status.SENDING) & (OutboxMessage.lease_until < now)
    await session.execute(
        OUTBOX.update()
        .where(expired & OutboxMessage.attempt_started_at.is_not(None))
        .values(status=Status.UNCERTAIN, error=STOPPED_AFTER_SENDING, lease_until=None)
    )
    # Only the dead sender's unattempted rows are taken again. On PostgreSQL each statement sees what
    # was committed before it began: an attempted row committed between the two statements is left
    # for the next claim to settle uncertain, never taken here to be sent a second time.
    unattempted = expired & OutboxMessage.attempt_started_at.is_(None)
    due = or_((OutboxMessage.status == Status.PENDING) & (OutboxMessage.not_before <= now), unattempted)
    chosen = (
        select(OutboxMessage.id)
        .where(due)
        .order_by(OutboxMessage.lane, OutboxMessage.not_before, OutboxMessage.created_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True)
    taken = await session.execute(
        OUTBOX.update()
        .where(OUTBOX.c.id.in_(chosen.scalar_subquery()))
        .values(status=Status.SENDING, lease_until=now + lease, attempt_started_at=None)
        .returning(*(OUTBOX.c[column.key] for column in CLAIMED))
    )
    # RETURNING keeps no order: the sub-select's is restored here.
    return sorted(taken.all(), key=lambda row: (row.lane, row.not_before, row.created_at))


async def recover_orphans(session: AsyncSession) -> tuple[int, int]:
    """Settle every row a sender holds, for a sender that knows it is the only one (it leads):
    attempted rows become uncertain, the others pending again. Returns (uncertain, pending)."""
    sending = OutboxMessage.status == Status.SENDING
    uncertain = await session.execute(
        update(OutboxMessage)
        .where(sending & OutboxMessage.attempt_started_at.is_not(None))
        .values(status=Status.UNCERTAIN, error=STOPPED_AFTER_SENDING, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    pending = await session.execute(
        update(OutboxMessage)
        .where(sending)
        .values(status=Status.PENDING, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return uncertain.rowcount, pending.rowcount  # type: ignore[attr-defined]


async def mark_attempts_started(
    session: AsyncSession, *, message_ids: Sequence[uuid.UUID], at: dt.datetime
) -> None:
    """Written and committed right before the requests go out (see `claim`)."""
    await session.execute(OUTBOX.update().where(OUTBOX.c.id.in_(message_ids)).values(attempt_started_at=at))


async def settle(
    session: AsyncSession,
    *,
    message_id: uuid.UUID,
    status: Status,
    error: str | None = None,
    telegram_message_id: int | None = None,
    retry_at: dt.datetime | None = None,
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "error": error,
        "lease_until": None,
        "attempt_started_at": None,
    }
    if status is Status.SENT:
        values.update(sent_at=utcnow(), telegram_message_id=telegram_message_id)
    if retry_at is not None:
        values["not_before"] = retry_at
    values["attempts"] = OutboxMessage.attempts + 1
    await session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))


async def settle_many(session: AsyncSession, settlements: Sequence[dict[str, Any]]) -> None:
    """Several outcomes in one statement per shape: dicts of `id` and the columns to set.

    A plain UPDATE run for many rows (no ORM bulk update, which costs the sender more than the
    statement); each key besides `id` is a column it sets."""
    shapes: dict[frozenset[str], list[dict[str, Any]]] = {}
    for values in settlements:
        row = {key: value for key, value in values.items() if key != "id"}
        row[_ROW_ID] = values["id"]
        shapes.setdefault(frozenset(row), []).append(row)
    for rows in shapes.values():
        await session.execute(_SETTLE, rows)
