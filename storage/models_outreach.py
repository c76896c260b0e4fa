"""Tables of outreach campaigns: a notice in several languages, sent to a segment through the outbox.

A campaign's texts are notices to many people, not personal data; who got one is only in the outbox
rows (their payloads sealed), and its figures are counted from those rows, never kept twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, utcnow


class Campaign(Base):
    """Draft → scheduled → running → done; paused and cancelled on the way. The worker expands a
    scheduled campaign into outbox rows in batches, remembering the last recipient it reached."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_status_starts", "status", "starts_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(120))
    # Language code → the notice in that language; people whose language has none get the fallback's.
    texts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    fallback_language: Mapped[str] = mapped_column(String(8), default="en")
    # An optional button: {"kind": "url" | "start", "target": …, "labels": {language: label}}.
    button: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Who gets it, as data (outreach.segments.Segment).
    segment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # No sends between these local times of the office (seconds after midnight); None: no quiet hours.
    # No column default: an explicit None must stay None (the console's form proposes 21:00-09:00).
    quiet_from: Mapped[int | None] = mapped_column(Integer)
    quiet_until: Mapped[int | None] = mapped_column(Integer)
    # Sending time (quiet hours not counted) the messages are spread over; 0: as fast as allowed.
    spread_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Expansion: the moment the segment was taken (people who came later are not in it), how many
    # it held then, the last one reached (ids in order), the rows made so far, when it finished.
    segment_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    planned: Mapped[int | None] = mapped_column(Integer)
    expanded_through: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    expanded: Mapped[int] = mapped_column(Integer, default=0)
    expanded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # A supervisor's approval of a segment that sensitive filters narrow under the threshold
    # (outreach.campaigns.needs_approval); cleared when the segment changes.
    approved_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", name="fk_campaigns_approved_by", ondelete="SET NULL")
    )
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
