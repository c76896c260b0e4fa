"""The facts the operations page shows and start-up checks: the sender's heartbeat, the data keys'
check row, the outbox backlog by lane, the bot's last update, the webhook queue."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import Crypto, DecryptionError
from storage.models import OutboxMessage, ProcessedUpdate, utcnow
from storage.models_keys import PersonKey
from storage.models_ops import OpsMarker
from storage.models_webhook import InboundUpdate
from storage.queries import dialect_insert

SENDER_HEARTBEAT = "sender_heartbeat"
KEY_CHECK = "key_check"
# Since when this database's erasures are written to an erasure ledger (storage.erasure_ledger).
ERASURE_LEDGER = "erasure_ledger"
# What the key check row seals: nothing secret, only proof that a configured key opens it.
KEY_CHECK_TEXT = "intake-bridge key check v1"


class KeyState(enum.StrEnum):
    CURRENT = "current"  # opened, under the newest key
    OLDER = "older"  # opened, under an older key still configured: `intake rotate-keys` moves it
    WRONG = "wrong"  # no configured key opens the data


async def beat(session: AsyncSession, name: str, detail: str, *, now: dt.datetime | None = None) -> None:
    """The marker `name` rewritten with the time and `detail`, whoever wrote it before (a heartbeat,
    or processes starting together: the last one's stands)."""
    at = now or utcnow()
    insert = dialect_insert(session, OpsMarker).values(id=name, at=at, detail=detail)
    await session.execute(
        insert.on_conflict_do_update(index_elements=["id"], set_={"at": at, "detail": detail})
    )


def replayed(ledger: str) -> str:
    """The marker of how far into the erasure ledger named `ledger` (ErasureLedger.name) this
    database was last checked (its `detail`: storage.erasure_ledger.Position)."""
    return f"replayed {ledger[:16]}"


async def marker(session: AsyncSession, name: str) -> OpsMarker | None:
    return await session.get(OpsMarker, name)


def _opens(crypto: Crypto, blob: bytes, *, table: str, column: str, row: object) -> bytes | None:
    try:
        return crypto.decrypt_bytes(blob, table=table, column=column, row=row)
    except DecryptionError:
        return None


async def _older_data_opens(session: AsyncSession, crypto: Crypto) -> bool:
    """Before the check row existed: one person's wrapped key, if any, opens with these keys."""
    found = (await session.execute(select(PersonKey.id, PersonKey.wrapped).limit(1))).first()
    if found is None:
        return True
    owner, wrapped = found
    return _opens(crypto, wrapped, table="person_keys", column="wrapped", row=owner) is not None


async def key_state(session: AsyncSession, crypto: Crypto) -> KeyState | None:
    """Whether the configured keys open the check row; None when there is none yet."""
    row = (await session.execute(select(OpsMarker).where(OpsMarker.id == KEY_CHECK))).scalar_one_or_none()
    if row is None or row.sealed is None:
        return None
    opened = _opens(crypto, row.sealed, table=OpsMarker.__tablename__, column="sealed", row=KEY_CHECK)
    if opened != KEY_CHECK_TEXT.encode():
        return KeyState.WRONG
    return KeyState.CURRENT if crypto.is_current(row.sealed) else KeyState.OLDER


async def mark_once(session: AsyncSession, name: str) -> None:
    """The marker `name` written with the time, unless it is there (processes starting together:
    the first one's stands)."""
    insert = dialect_insert(session, OpsMarker)
    await session.execute(insert.values(id=name, at=utcnow()).on_conflict_do_nothing(index_elements=["id"]))


async def check_keys(session: AsyncSession, crypto: Crypto) -> KeyState:
    """Whether the configured keys open this database's data: its check row opened, or, the first
    time, written under the newest key once the data already there is seen to open."""
    state = await key_state(session, crypto)
    if state is not None:
        return state
    if not await _older_data_opens(session, crypto):
        return KeyState.WRONG
    sealed = crypto.encrypt(KEY_CHECK_TEXT, table=OpsMarker.__tablename__, column="sealed", row=KEY_CHECK)
    insert = dialect_insert(session, OpsMarker)
    # Replicas starting together: the first one's row stands, and the others check against it.
    await session.execute(
        insert.values(id=KEY_CHECK, at=utcnow(), sealed=sealed).on_conflict_do_nothing(index_elements=["id"])
    )
    return await key_state(session, crypto) or KeyState.WRONG


@dataclasses.dataclass(frozen=True)
class LaneBacklog:
    lane: int
    waiting: int  # pending, due or not
    due: int  # pending and due now
    oldest_due: dt.datetime | None  # the longest-waiting due row's due time
    sending: int


async def outbox_backlog(session: AsyncSession, *, now: dt.datetime | None = None) -> list[LaneBacklog]:
    """Per lane: rows waiting, those due now and the oldest due one, and rows being sent (the
    outbox's ready index answers it without reading a row)."""
    now = now or utcnow()
    due = OutboxMessage.not_before <= now
    rows = await session.execute(
        select(
            OutboxMessage.lane,
            func.count().filter(OutboxMessage.status == "pending"),
            func.count().filter((OutboxMessage.status == "pending") & due),
            func.min(OutboxMessage.not_before).filter((OutboxMessage.status == "pending") & due),
            func.count().filter(OutboxMessage.status == "sending"),
        )
        .where(OutboxMessage.status.in_(("pending", "sending")))
        .group_by(OutboxMessage.lane)
    )
    return [LaneBacklog(*row) for row in rows.all()]


async def last_update_at(session: AsyncSession) -> dt.datetime | None:
    """When the bot last handled an update: the newest processed_updates record, found through its
    primary key (update ids grow), not a scan."""
    return (
        await session.execute(
            select(ProcessedUpdate.processed_at)
            .order_by(ProcessedUpdate.bot_id.desc(), ProcessedUpdate.update_id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def webhook_queue(session: AsyncSession) -> int:
    """Updates received in webhook mode and not handled yet."""
    return (await session.execute(select(func.count()).select_from(InboundUpdate))).scalar_one()
