"""Query functions (keyword-only arguments) for console staff accounts and their sessions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, StaffSession, StaffUser


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
    awaiting_approval: bool = False,
    must_change_password: bool = False,
) -> StaffUser:
    """Insert an account and flush, so a duplicate username fails here rather than at commit.
    An account `awaiting_approval` is made disabled."""
    user = StaffUser(
        username=username,
        password_hash=password_hash,
        role=role,
        display_name=display_name,
        language=language,
        active=not awaiting_approval,
        awaiting_approval=awaiting_approval,
        must_change_password=must_change_password,
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


async def replace_password_hash(
    session: AsyncSession,
    *,
    user_id: int,
    password_hash: str,
    temporary: bool = False,
    keep_session: str | None = None,
) -> None:
    """A new password lifts any lock and ends every session opened with the old one (but
    `keep_session`, the one the holder changed it in). A `temporary` one must be changed by its
    holder at their next sign-in."""
    await session.execute(
        update(StaffUser)
        .where(StaffUser.id == user_id)
        .values(
            password_hash=password_hash, failed_logins=0, locked_until=None, must_change_password=temporary
        )
    )
    ended = delete(StaffSession).where(StaffSession.user_id == user_id)
    if keep_session is not None:
        ended = ended.where(StaffSession.id != keep_session)
    await session.execute(ended)


async def set_role(session: AsyncSession, *, user_id: int, role: str) -> None:
    """Give an account another role. Its sessions end: they carried the old role's rights."""
    await session.execute(update(StaffUser).where(StaffUser.id == user_id).values(role=role))
    await session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))


async def ask_for_role(session: AsyncSession, *, user_id: int, role: str) -> None:
    """A role that waits for a supervisor's approval: the account works on in its present role."""
    await session.execute(
        update(StaffUser).where(StaffUser.id == user_id).values(pending_role=role, awaiting_approval=True)
    )


async def set_language(session: AsyncSession, *, user_id: int, language: str) -> None:
    await session.execute(update(StaffUser).where(StaffUser.id == user_id).values(language=language))


async def set_user_active(
    session: AsyncSession, *, user_id: int, active: bool, awaiting_approval: bool = False
) -> None:
    """Enable or disable an account (or hold it disabled, `awaiting_approval`); a disabled account's
    sessions are ended at once."""
    await session.execute(
        update(StaffUser)
        .where(StaffUser.id == user_id)
        .values(active=active, awaiting_approval=awaiting_approval and not active, pending_role=None)
    )
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


async def users_awaiting_approval(session: AsyncSession) -> Sequence[StaffUser]:
    """Accounts an administrator gave access to case data, waiting for a supervisor, oldest first."""
    statement = (
        select(StaffUser).where(StaffUser.awaiting_approval).order_by(StaffUser.created_at, StaffUser.id)
    )
    return (await session.execute(statement)).scalars().all()


async def approve_user(session: AsyncSession, *, user_id: int) -> bool:
    """Enable an account that waits for approval, in the role it waits for (its sessions of the old
    role ended); False when it no longer waits (a double tap)."""
    result = await session.execute(
        update(StaffUser)
        .where(StaffUser.id == user_id, StaffUser.awaiting_approval)
        .values(
            active=True,
            awaiting_approval=False,
            role=func.coalesce(StaffUser.pending_role, StaffUser.role),
            pending_role=None,
        )
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
    return True


async def refuse_user(session: AsyncSession, *, user_id: int) -> bool:
    """Leave an account that waits for approval as it was: disabled, or at work in its present role;
    False when it no longer waits."""
    result = await session.execute(
        update(StaffUser)
        .where(StaffUser.id == user_id, StaffUser.awaiting_approval)
        .values(awaiting_approval=False, pending_role=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def account_entries(
    session: AsyncSession, *, actions: Sequence[str], limit: int
) -> Sequence[AuditEntry]:
    """The newest audit entries of these actions on staff accounts (read only)."""
    statement = (
        select(AuditEntry)
        .where(AuditEntry.object_type == "staff_user", AuditEntry.action.in_(actions))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return (await session.execute(statement)).scalars().all()


async def find_user(session: AsyncSession, *, user_id: int) -> StaffUser | None:
    return await session.get(StaffUser, user_id)
