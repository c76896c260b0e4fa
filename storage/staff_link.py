"""Query functions linking a console account to its holder's own Telegram chat: one-time codes,
the link itself, and the count of failed tries a chat made (the bot's rate limit)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import Crypto
from storage.models import StaffUser
from storage.models_staff_link import (
    LINK_CODE_PURPOSE,
    STAFF_CHAT_PURPOSE,
    StaffLinkCode,
    StaffLinkFailure,
    StaffTelegramLink,
)
from storage.sealing import seal, unseal

# Read off a screen and typed on a phone: no 0/O, 1/I/L. 31^10 codes, each alive 15 minutes,
# against 5 tries a chat an hour.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
CODE_LIFETIME = dt.timedelta(minutes=15)
# The bot's deep link carries the code as `staff-<code>`, apart from the channels' codes.
DEEP_LINK_PREFIX = "staff-"
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(hours=1)
_CODE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")


def normalise_code(raw: str) -> str | None:
    """The code as issued, from what a person typed (any case, spaces around); None if it cannot be one."""
    code = raw.strip().upper()
    return code if _CODE.fullmatch(code) else None


async def new_code(session: AsyncSession, crypto: Crypto, *, staff_user_id: int, now: dt.datetime) -> str:
    """A fresh code for the account, replacing the one it had out; only its keyed hash is stored."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    await session.execute(delete(StaffLinkCode).where(StaffLinkCode.staff_user_id == staff_user_id))
    session.add(
        StaffLinkCode(
            staff_user_id=staff_user_id,
            code_hash=crypto.blind_index(LINK_CODE_PURPOSE, code),
            expires_at=now + CODE_LIFETIME,
            created_at=now,
        )
    )
    await session.flush()
    return code


async def recent_failures(session: AsyncSession, crypto: Crypto, *, chat_id: int, now: dt.datetime) -> int:
    hashes = crypto.blind_indexes(STAFF_CHAT_PURPOSE, str(chat_id))
    statement = select(func.count()).where(
        StaffLinkFailure.chat_hash.in_(hashes), StaffLinkFailure.at > now - FAILURE_WINDOW
    )
    return int((await session.execute(statement)).scalar_one())


async def record_failure(session: AsyncSession, crypto: Crypto, *, chat_id: int, now: dt.datetime) -> None:
    """One failed try; every try older than the window is dropped on the way, so the table only
    ever holds the last hour's (at most MAX_FAILURES a chat: a refused try is not recorded)."""
    await session.execute(delete(StaffLinkFailure).where(StaffLinkFailure.at <= now - FAILURE_WINDOW))
    session.add(StaffLinkFailure(chat_hash=crypto.blind_index(STAFF_CHAT_PURPOSE, str(chat_id)), at=now))


async def redeem(
    session: AsyncSession, crypto: Crypto, *, code: str, chat_id: int, now: dt.datetime
) -> StaffUser | None:
    """Link the chat to the active account whose unexpired code this is, and use the code up.

    None (nothing linked) for an unknown, expired or used code, or a disabled account. A chat
    linked to another account before moves to this one; the account's previous chat is unlinked.
    """
    hashes = crypto.blind_indexes(LINK_CODE_PURPOSE, code)
    found = (
        await session.execute(
            select(StaffLinkCode, StaffUser)
            .join(StaffUser, StaffUser.id == StaffLinkCode.staff_user_id)
            .where(StaffLinkCode.code_hash.in_(hashes))
        )
    ).one_or_none()
    if found is None:
        return None
    record, user = found
    # Deleted whatever its state: an expired code is of no use, a used one never again. The
    # row count settles two chats sending the same code at once: only one deletes it.
    deleted = await session.execute(
        delete(StaffLinkCode).where(
            StaffLinkCode.staff_user_id == record.staff_user_id, StaffLinkCode.code_hash == record.code_hash
        )
    )
    if deleted.rowcount != 1 or record.expires_at <= now or not user.active:  # type: ignore[attr-defined]
        return None
    chat_hashes = crypto.blind_indexes(STAFF_CHAT_PURPOSE, str(chat_id))
    await session.execute(
        delete(StaffTelegramLink).where(
            or_(StaffTelegramLink.staff_user_id == user.id, StaffTelegramLink.chat_hash.in_(chat_hashes))
        )
    )
    await session.execute(delete(StaffLinkFailure).where(StaffLinkFailure.chat_hash.in_(chat_hashes)))
    link = StaffTelegramLink(
        staff_user_id=user.id, chat_hash=crypto.blind_index(STAFF_CHAT_PURPOSE, str(chat_id)), linked_at=now
    )
    seal(crypto, link, "chat_id_enc", str(chat_id))
    session.add(link)
    await session.flush()
    return user


async def link_of(session: AsyncSession, *, staff_user_id: int) -> StaffTelegramLink | None:
    statement = select(StaffTelegramLink).where(StaffTelegramLink.staff_user_id == staff_user_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def unlink(session: AsyncSession, *, staff_user_id: int) -> bool:
    """Unlink the account's chat (and withdraw any code it has out); False if it had none."""
    await session.execute(delete(StaffLinkCode).where(StaffLinkCode.staff_user_id == staff_user_id))
    deleted = await session.execute(
        delete(StaffTelegramLink).where(StaffTelegramLink.staff_user_id == staff_user_id)
    )
    return bool(deleted.rowcount)  # type: ignore[attr-defined]


async def chat_ids(session: AsyncSession, crypto: Crypto, *, staff_user_ids: Iterable[int]) -> dict[int, int]:
    """The linked chat of each of these accounts that has one (for the outbox sender)."""
    wanted = list(staff_user_ids)
    if not wanted:
        return {}
    links = (
        await session.execute(select(StaffTelegramLink).where(StaffTelegramLink.staff_user_id.in_(wanted)))
    ).scalars()
    return {link.staff_user_id: int(unseal(crypto, link, "chat_id_enc") or 0) for link in links}
