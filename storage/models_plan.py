"""Tables of the integration plan: needs by urgency, goals, activities and progress reviews.

Free text about the person (needs, goals, activities, who helps, review notes) is sealed. Every row
keeps the last change to it with the beneficiary's agreement (docs/programme.md: changes to the plan need
it): `agreed`, how it was given, who recorded the change and when. The audit log keeps each change in turn.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, UuidPrimaryKey, utcnow


class _Agreed:
    """The last change to a plan row, made with the beneficiary's agreement."""

    agreed: Mapped[bool] = mapped_column(Boolean, default=False)
    # How the beneficiary agreed: in_person, phone or bot (programme.plan.AGREEMENT_CHANNELS).
    agreed_via: Mapped[str | None] = mapped_column(String(16))
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlanNeed(UuidPrimaryKey, _Agreed, Base):
    """A need of the beneficiary; rank 1 is the most urgent."""

    __tablename__ = "plan_needs"
    __encrypted__ = ("text_enc",)
    __owner__ = "case_id"
    __table_args__ = (Index("ix_plan_needs_case_rank", "case_id", "rank"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column(Integer)
    text_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlanGoal(UuidPrimaryKey, _Agreed, Base):
    """A goal agreed with the beneficiary, short or long term, for one need."""

    __tablename__ = "plan_goals"
    __encrypted__ = ("text_enc",)
    __owner__ = "case_id"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    need_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plan_needs.id", ondelete="CASCADE"), index=True)
    term: Mapped[str] = mapped_column(String(8))  # "short" or "long"
    text_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlanActivity(UuidPrimaryKey, _Agreed, Base):
    """Something done with the beneficiary (not for them) towards a goal."""

    __tablename__ = "plan_activities"
    __encrypted__ = ("text_enc", "who_enc")
    __owner__ = "case_id"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    goal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plan_goals.id", ondelete="CASCADE"), index=True)
    text_enc: Mapped[bytes] = mapped_column(LargeBinary)
    service_area: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    who_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlanReview(UuidPrimaryKey, _Agreed, Base):
    """A progress review of the plan, held with the beneficiary."""

    __tablename__ = "plan_reviews"
    __encrypted__ = ("note_enc",)
    __owner__ = "case_id"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    reviewed_on: Mapped[dt.date] = mapped_column(Date)
    note_enc: Mapped[bytes] = mapped_column(LargeBinary)
