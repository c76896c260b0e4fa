"""Tables of the caseworkers' own work on a case: closings (with their reason) and reopenings."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, UuidPrimaryKey, utcnow


class CaseClosure(UuidPrimaryKey, Base):
    """One closing of a case. The reason is a code in clear (figures count them); any details are
    free text about a person, so they are sealed. Reopening fills in the reopened_* columns."""

    __tablename__ = "case_closures"
    __encrypted__ = ("details_enc",)
    __owner__ = "case_id"
    # The retention purge walks the closings past their period oldest first (storage.retention).
    __table_args__ = (Index("ix_case_closures_closed", "closed_at", "id"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    # The stage the case was in when it closed: reopening returns it there.
    stage_before: Mapped[str] = mapped_column(String(32))
    details_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    closed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reopened_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    reopened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
