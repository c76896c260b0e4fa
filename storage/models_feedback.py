"""Feedback and complaints from the people served (programme.feedback), and what staff did with them.

Given with their case, a row holds the beneficiary's id and is sealed under their key, and erased
with them. Given anonymously, it holds no link to any beneficiary or case at all (sealed under the
master key): only its reference number leads to it, and it is erased `feedback_kept_days` after it
is closed (storage.feedback.purge_closed).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Boolean, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, UuidPrimaryKey, utcnow


class Feedback(UuidPrimaryKey, Base):
    __tablename__ = "feedback"
    __encrypted__ = ("body_enc",)
    __owner__ = "beneficiary_id"  # None (anonymous): the master key
    __table_args__ = (Index("ix_feedback_routing_status", "routing", "status", "due_at"),)

    reference: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    routing: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16), default="telegram")
    # text, voice or photo: what body_enc holds (the text, or Telegram's file id and a caption).
    medium: Mapped[str] = mapped_column(String(8))
    body_enc: Mapped[bytes] = mapped_column(LargeBinary)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    status: Mapped[str] = mapped_column(String(16), default="new")
    # None: given anonymously. Never a case: its caseworker must not find it through the case.
    beneficiary_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), index=True
    )
    assigned_to: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", name="fk_feedback_assigned_to_staff_users", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    first_answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When its readers were told on their phones that its first answer is overdue (once only).
    overdue_alerted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)


class FeedbackNote(UuidPrimaryKey, Base):
    """An answer sent to the person, or a record of what was done (staff only)."""

    __tablename__ = "feedback_notes"
    __encrypted__ = ("text_enc",)
    __owner__ = "beneficiary_id"

    feedback_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"), index=True)
    # The feedback's person (copied: whose key seals the text); None for anonymous feedback.
    beneficiary_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))  # "answer" (sent to the person) or "action"
    text_enc: Mapped[bytes] = mapped_column(LargeBinary)
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", name="fk_feedback_notes_staff_users", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SatisfactionPrompt(UuidPrimaryKey, Base):
    """The one question asked after a case is closed ("was the programme helpful?"): asked once per
    case, never again; the answer is a button's value, counted in the feedback figures."""

    __tablename__ = "satisfaction_prompts"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    # The buttons' own one-time token (as a reminder's): a tap is checked against it.
    token: Mapped[str] = mapped_column(String(32), unique=True)
    language: Mapped[str | None] = mapped_column(String(8))
    asked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    rating: Mapped[str | None] = mapped_column(String(8))  # yes, partly, no
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
