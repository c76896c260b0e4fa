"""Tables of the programme's figures work: partner directory, referrals, calendar feeds, full exports."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, UuidPrimaryKey, utcnow


class Partner(Base):
    """An organisation people are referred or signposted to. Organisational data (an office's
    address, phone or e-mail), kept in clear; supervisors keep it up to date."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # One of programme.forms.SERVICE_AREAS.
    service_area: Mapped[str] = mapped_column(String(32), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    # Language codes the partner's staff speak.
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Referral(UuidPrimaryKey, Base):
    """A referral of a case to a partner from one plan activity, tracked sent → accepted → done
    (or declined). Made only under a current consent to share data for case work."""

    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_partner_status", "partner_id", "status"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plan_activities.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(12), default="sent")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarFeed(Base):
    """A person's secret calendar feed URL; only the token's SHA-256 is kept. Deleting the row
    revokes it; regenerating replaces the hash, so the old URL stops working at once."""

    __tablename__ = "calendar_feeds"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FullExport(UuidPrimaryKey, Base):
    """A full (named) export a supervisor asked for, with the written reason (sealed: it may speak
    of a person). The archive is AES-encrypted under a passphrase shown once and never stored;
    it can be fetched by the person who asked until it expires."""

    __tablename__ = "full_exports"
    __encrypted__ = ("reason_enc",)

    requested_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    reason_enc: Mapped[bytes] = mapped_column(LargeBinary)
    file_name: Mapped[str] = mapped_column(String(80))
    archive: Mapped[bytes | None] = mapped_column(LargeBinary)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
