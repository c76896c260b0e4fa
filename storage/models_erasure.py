"""The tombstone an erased case leaves behind: its code and dates, never anything about the person."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, utcnow

# Why a case was erased (storage.erasure): the person asked, or its retention period ended.
REQUEST, RETENTION = "request", "retention"


class CaseTombstone(Base):
    """One erased case: the code the audit log still points at, when it was opened, closed (if it
    was) and erased, and why. No name, answer, chat or staff note: nothing that identifies anyone.

    Who may read it: every console account that may read cases (a code that was erased answers
    "erased on …" instead of "not found"), and the audit log's readers. How long it is kept: as
    long as the audit log entries that name the code (their own retention period). How it is erased:
    by deleting its row with those entries; it holds nothing that erasure of a person must reach.
    """

    __tablename__ = "case_tombstones"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    reason: Mapped[str] = mapped_column(String(16))
