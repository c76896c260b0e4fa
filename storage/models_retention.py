"""Tables of the retention policy: legal holds that keep a case past its retention period."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, UuidPrimaryKey, utcnow


class LegalHold(UuidPrimaryKey, Base):
    """One case kept past its retention period: the purge (storage.retention) erases nothing of a
    person while any case of theirs is held. A supervisor puts it on with a written reason and a
    review date, and lifts it; both are in the audit log (which holds the case code, never the reason).

    Who may read it: supervisors (Permission.LEGAL_HOLD); a caseworker sees on the case only that it
    is held and when it is reviewed. The reason is sealed, because it may name a court case or a
    person. How long it is kept: until it is lifted (the row is deleted then: the audit entry stays)
    or until the case is erased, which it goes with (ON DELETE CASCADE from the case). The review
    date only reminds: a hold stays until a supervisor lifts it."""

    __tablename__ = "legal_holds"
    __encrypted__ = ("reason_enc",)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    reason_enc: Mapped[bytes] = mapped_column(LargeBinary)
    review_on: Mapped[dt.date] = mapped_column(Date)
    placed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
