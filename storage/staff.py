"""Query functions (keyword-only arguments) for console staff accounts and their sessions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import StaffSession, StaffUser


async def find_user_by_username(session: AsyncSession, *, username: str) -> StaffUser | None:
    statement = select(StaffUser).where(StaffUser.username == username)
    return (await session.execute(statement)).scalar_one_or_none()


async def add_user(
    session: AsyncSession,
    *,
    username: str,
    password_hash: str,
    role: str,
    display_name: str,
    language: str,
    at: dt.datetime,
) -> StaffUser:
    """Insert an account and flush, so a duplicate username fails here rather than at commit."""
    user = StaffUser(
        username=username,
        password_hash=password_hash,
        role=role,
        display_name=display_name,
        language=language,
        active=True,
        failed_logins=0,
        created_at=at,
    )
    session.add(user)
    await session.flush()
    return user


async def count_failed_login(
    session: AsyncSession, *, user_id: int, threshold: int, lock_until: dt.datetime
) -> bool:
    """Count one failed sign-in; at `threshold` lock the account and start counting afresh.

    The increment is done in SQL, not in Python, so concurrent guesses cannot overwrite each
    other's count. Returns True when this failure locked the account.
    """
    statement = (
        update(StaffUser)
        .where(StaffUser.id == user_id)
        .values(failed_logins=StaffUser.failed_logins + 1)
        .returning(StaffUser.failed_logins)
    )
    failures = (await session.execute(statement)).scalar_one()
    if failures < threshold:
        return False
    await session.execute(
        update(StaffUser).where(StaffUser.id == user_id).values(failed_logins=0, locked_until=lock_until)
    )
    return True


async def record_successful_login(
    session: AsyncSession, *, user_id: int, at: dt.datetime, new_password_hash: str | None = None
) -> None:
    values: dict[str, object] = {"failed_logins": 0, "locked_until": None, "last_login_at": at}
    if new_password_hash is not None:
        values["password_hash"] = new_password_hash
    await session.execute(update(StaffUser).where(StaffUser.id == user_id).values(**values))


async def unlock_user(session: AsyncSession, *, user_id: int) -> None:
    await session.execute(
        update(StaffUser).where(StaffUser.id == user_id).values(failed_logins=0, locked_until=None)
    )


async def replace_password_hash(session: AsyncSession, *, user_id: int, password_hash: str) -> None:
    """A new password lifts any lock and ends every session opened with the old one."""
    await session.execute(
        update(StaffUser)
        .where(StaffUser.id == user_id)
        .values(password_hash=password_hash, failed_logins=0, locked_until=None)
    )
    await session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))


async def set_user_active(session: AsyncSession, *, user_id: int, active: bool) -> None:
    """Enable or disable an account; a disabled account's sessions are ended at once."""
    await session.execute(update(StaffUser).where(StaffUser.id == user_id).values(active=active))
    if not active:
        await session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))


async def create_session(
    session: AsyncSession, *, session_id: str, user_id: int, csrf_token: str, at: dt.datetime
) -> StaffSession:
    record = StaffSession(
        id=session_id, user_id=user_id, csrf_token=csrf_token, created_at=at, last_seen_at=at
    )
    session.add(record)
    await session.flush()
    return record


async def find_session(session: AsyncSession, *, session_id: str) -> tuple[StaffSession, StaffUser] | None:
    statement = (
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.id == session_id)
    )
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else (row[0], row[1])


async def touch_session(session: AsyncSession, *, session_id: str, at: dt.datetime) -> None:
    await session.execute(update(StaffSession).where(StaffSession.id == session_id).values(last_seen_at=at))


async def delete_session(session: AsyncSession, *, session_id: str) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.id == session_id))


async def delete_expired_sessions(
    session: AsyncSession, *, idle_before: dt.datetime, created_before: dt.datetime
) -> None:
    """Remove sessions nobody can use any more (people rarely press "log out")."""
    await session.execute(
        delete(StaffSession).where(
            or_(StaffSession.last_seen_at < idle_before, StaffSession.created_at < created_before)
        )
    )


async def all_users(session: AsyncSession) -> Sequence[StaffUser]:
    """Every account, active or not, by username (the administrators' list, the audit filter)."""
    return (await session.execute(select(StaffUser).order_by(StaffUser.username))).scalars().all()


async def find_user(session: AsyncSession, *, user_id: int) -> StaffUser | None:
    return await session.get(StaffUser, user_id)
