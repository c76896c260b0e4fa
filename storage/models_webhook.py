"""Webhook mode's inbound queue: updates stored sealed before Telegram is answered, until handled."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, UuidPrimaryKey, utcnow


class InboundUpdate(UuidPrimaryKey, Base):
    """One update received by a webhook replica and not yet handled.

    A row lives from the moment the update is received until the dispatcher has handled it, then it
    is deleted: the queue holds personal data (what people typed) only for as long as it must.
    """

    __tablename__ = "inbound_updates"
    __encrypted__ = ("payload_enc",)
    __table_args__ = (
        # Telegram retries and load balancers can deliver one update several times at once.
        UniqueConstraint("bot_id", "update_id", name="uq_inbound_updates_bot_update"),
        # "Is there an older update of this chat still waiting?" on every claim.
        Index("ix_inbound_updates_chat", "bot_id", "chat_hash", "update_id"),
    )

    bot_id: Mapped[int] = mapped_column(BigInteger)
    update_id: Mapped[int] = mapped_column(BigInteger)
    # Keyed hash of the user (or chat) the update belongs to, so one chat's updates are applied in
    # update_id order without storing its Telegram id; None for updates that belong to no chat.
    chat_hash: Mapped[str | None] = mapped_column(String(64))
    payload_enc: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A replica that claims the row owns it until then; after that (it crashed) anyone may retry it.
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
