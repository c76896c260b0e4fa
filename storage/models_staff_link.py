"""Tables linking a console account to its holder's own Telegram chat, where campaign tests go.

The chat id is personal data: sealed, with a keyed hash for the bot's look-up. The one-time code
that makes a link is kept only as a keyed hash, and failed tries are counted per chat (by hash).
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigIntId, UTCDateTime, UuidPrimaryKey, utcnow

# Purposes of the keyed hashes (storage.crypto.blind_index).
STAFF_CHAT_PURPOSE = "staff-telegram"
LINK_CODE_PURPOSE = "staff-link-code"


class StaffTelegramLink(UuidPrimaryKey, Base):
    """One account's linked chat; a chat belongs to one account at a time."""

    __tablename__ = "staff_telegram_links"
    __encrypted__ = ("chat_id_enc",)
    __blind_indexes__: ClassVar[dict[str, tuple[str, str]]] = {
        "chat_hash": ("chat_id_enc", STAFF_CHAT_PURPOSE)
    }

    staff_user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", name="fk_staff_telegram_links_staff_user", ondelete="CASCADE"),
        unique=True,
    )
    chat_hash: Mapped[str] = mapped_column(String(64), unique=True)
    chat_id_enc: Mapped[bytes] = mapped_column(LargeBinary)
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffLinkCode(Base):
    """The one code an account has out; a new one replaces it, using it deletes it."""

    __tablename__ = "staff_link_codes"

    staff_user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", name="fk_staff_link_codes_staff_user", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffLinkFailure(Base):
    """A wrong, expired, used or malformed code sent from a chat, for the rate limit."""

    __tablename__ = "staff_link_failures"
    __table_args__ = (Index("ix_staff_link_failures_chat_at", "chat_hash", "at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    chat_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
