"""Query functions (keyword-only arguments) used by the bot, the console and the workers."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, bindparam, cast, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage import person_keys
from storage.crypto import Crypto
from storage.models import (
    AuditEntry,
    Beneficiary,
    Case,
    CaseCounter,
    FormResponse,
    ProcessedUpdate,
    utcnow,
)
from storage.sealing import seal

TELEGRAM_PURPOSE = "telegram"


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT of the session's dialect, for its ON CONFLICT clauses (SQLite's or PostgreSQL's)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _mark_processed_sqlite() -> Any:
    table = ProcessedUpdate.__table__
    return (
        sqlite.insert(table)
        .values(bot_id=bindparam("bot_id"), update_id=bindparam("update_id"), processed_at=bindparam("at"))
        .on_conflict_do_nothing(index_elements=["bot_id", "update_id"])
        .returning(table.c.update_id)
    )


def _mark_processed_postgresql() -> Any:
    """The chat's advisory lock, then the mark, in one round trip: the row's values are selected
    from the lock's result, so the lock is held before the insert looks for the update id."""
    table = ProcessedUpdate.__table__
    lock = select(
        func.pg_advisory_xact_lock(cast(bindparam("chat_key"), BigInteger)).label("taken")
    ).subquery()
    values = select(
        cast(bindparam("bot_id"), BigInteger),
        cast(bindparam("update_id"), BigInteger),
        cast(bindparam("at", type_=table.c.processed_at.type), table.c.processed_at.type),
    ).select_from(lock)
    return (
        postgresql.insert(table)
        .from_select(["bot_id", "update_id", "processed_at"], values)
        .on_conflict_do_nothing(index_elements=["bot_id", "update_id"])
        .returning(table.c.update_id)
    )


# Built once: every update runs one, and it needs nothing of the ORM.
_MARK_PROCESSED = {"postgresql": _mark_processed_postgresql(), "sqlite": _mark_processed_sqlite()}


async def mark_update_processed(session: AsyncSession, *, bot_id: int, update_id: int, chat_key: int) -> bool:
    """Record an update id; False when it was already recorded (a redelivery). On PostgreSQL, first
    wait for the advisory lock `chat_key` for the rest of the transaction: one chat's updates are
    applied one at a time across replicas (SQLite has one writer anyway)."""
    connection = await session.connection()
    statement = _MARK_PROCESSED[connection.dialect.name]
    parameters = {"bot_id": bot_id, "update_id": update_id, "at": utcnow()}
    if connection.dialect.name == "postgresql":
        parameters["chat_key"] = chat_key
    found = await connection.execute(statement, parameters)
    return found.scalar_one_or_none() is not None


async def find_beneficiary(session: AsyncSession, crypto: Crypto, *, telegram_id: int) -> Beneficiary | None:
    hashes = crypto.blind_indexes(TELEGRAM_PURPOSE, str(telegram_id))
    statement = select(Beneficiary).where(Beneficiary.telegram_hash.in_(hashes))
    return (await session.execute(statement)).scalar_one_or_none()


async def get_or_create_beneficiary(
    session: AsyncSession, crypto: Crypto, *, telegram_id: int
) -> Beneficiary:
    beneficiary = await find_beneficiary(session, crypto, telegram_id=telegram_id)
    if beneficiary is not None:
        return beneficiary
    return await create_beneficiary(session, crypto, telegram_id=telegram_id)


async def create_beneficiary(session: AsyncSession, crypto: Crypto, *, telegram_id: int) -> Beneficiary:
    """A new person for a Telegram id the caller has looked up and not found."""
    beneficiary = Beneficiary(telegram_hash=crypto.blind_index(TELEGRAM_PURPOSE, str(telegram_id)))
    person_keys.add_new(session, crypto, beneficiary.id)
    seal(crypto, beneficiary, "telegram_id_enc", str(telegram_id))
    session.add(beneficiary)
    await session.flush()
    return beneficiary


async def next_case_code(session: AsyncSession, *, year: int) -> str:
    statement = (
        dialect_insert(session, CaseCounter)
        .values(year=year, last=1)
        .on_conflict_do_update(index_elements=["year"], set_={"last": CaseCounter.last + 1})
        .returning(CaseCounter.last)
    )
    number = (await session.execute(statement)).scalar_one()
    return f"IP-{year}-{number:06d}"


async def open_case_of(session: AsyncSession, *, beneficiary_id: uuid.UUID) -> Case | None:
    statement = (
        select(Case)
        .where(Case.beneficiary_id == beneficiary_id, Case.stage != "closed")
        .order_by(Case.created_at.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def list_cases(session: AsyncSession, *, limit: int = 50, offset: int = 0) -> Sequence[Case]:
    statement = select(Case).order_by(Case.created_at.desc(), Case.code.desc()).limit(limit).offset(offset)
    return (await session.execute(statement)).scalars().all()


async def form_responses(session: AsyncSession, *, case_id: uuid.UUID) -> Sequence[FormResponse]:
    statement = select(FormResponse).where(FormResponse.case_id == case_id).order_by(FormResponse.created_at)
    return (await session.execute(statement)).scalars().all()


async def record_audit(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | None,
    details: dict[str, Any],
) -> None:
    session.add(
        AuditEntry(actor=actor, action=action, object_type=object_type, object_id=object_id, details=details)
    )


async def mark_unreachable(session: AsyncSession, *, beneficiary_id: uuid.UUID, at: dt.datetime) -> None:
    await session.execute(
        update(Beneficiary).where(Beneficiary.id == beneficiary_id).values(unreachable_at=at)
    )
