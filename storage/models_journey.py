"""Tables of the beneficiary's journey in the bot: consent, conversation, requests and alerts."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Boolean, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigIntId, UTCDateTime, UuidPrimaryKey, utcnow


class Consent(UuidPrimaryKey, Base):
    """One Annex 4 record. A change adds a row and supersedes the previous one: the history stays."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_case_current", "case_id", "superseded_at"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    text_version: Mapped[str] = mapped_column(String(16))
    text_hash: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    casework: Mapped[bool] = mapped_column(Boolean)
    publicity: Mapped[str] = mapped_column(String(16))
    third_party: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(8), default="bot")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CaseMessage(UuidPrimaryKey, Base):
    """A message of the case conversation, either way; its content is sealed."""

    __tablename__ = "case_messages"
    __encrypted__ = ("body_enc",)
    __owner__ = "case_id"
    __table_args__ = (
        Index("ix_case_messages_case_time", "case_id", "created_at"),
        # The retention purge's files past their period (storage.retention), without a table scan.
        Index("ix_case_messages_files", "kind", "removed_at", "created_at"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))  # "in" from the beneficiary, "out" to them
    kind: Mapped[str] = mapped_column(String(16))
    body_enc: Mapped[bytes] = mapped_column(LargeBinary)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A file's message whose content was replaced by a stub after the retention period
    # (storage.retention): the row and its time stay, so the conversation still reads.
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DataRequest(UuidPrimaryKey, Base):
    """A correction, withdrawal, deletion or consent request, worked by caseworkers until done.

    A deletion made after a caseworker took the case is an erasure request: due by `due_at`, carried
    out by a supervisor (which erases this row with everything else) or refused, the reason they
    wrote (told to the person) sealed in `answer_enc`."""

    __tablename__ = "data_requests"
    __encrypted__ = ("details_enc", "answer_enc")
    __owner__ = "beneficiary_id"

    beneficiary_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    details_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(8), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answer_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))


class Alert(Base):
    """Something caseworkers and supervisors must see now (urgent help, crisis words, adverse event)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    # What raised it, kept sealed on the case like any handoff message (the crisis message, or what
    # was written with /urgent); None when nothing was written (the button, a bare /urgent).
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("case_messages.id", name="fk_alerts_message", ondelete="SET NULL")
    )
    # Opened by the case's caseworker or a supervisor (its tab): an urgent alert opened in time is
    # not escalated (outreach.staff_alerts).
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opened_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", name="fk_alerts_opened_by", ondelete="SET NULL")
    )
    # When it went to every supervisor, nobody having opened it in time: once only.
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
