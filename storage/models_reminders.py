"""The reminder schedule: one row per reminder of an appointment, due at an indexed UTC time.

No per-item timers: the worker's scheduler reads the pending rows that are due and moves them into
the outbox in the same transaction that marks them enqueued, so each goes out once across restarts.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, utcnow
from storage.models_appointments import Appointment

# Kinds: a reminder `offset_minutes` before the appointment, or the one follow-up of a no-show.
BEFORE, NO_SHOW = "before", "no_show"
# Statuses: waiting for its time; in the outbox; not sent (see `reason`).
PENDING, ENQUEUED, DROPPED = "pending", "enqueued", "dropped"
# What the person answered with the reminder's buttons.
CONFIRMED, CANCEL, RESCHEDULE, BOOK = "confirmed", "cancel", "reschedule", "book"


class Reminder(Base):
    __tablename__ = "reminders"
    __table_args__ = (
        # Exactly one reminder per offset, and one no-show follow-up, per appointment.
        UniqueConstraint("appointment_id", "kind", "offset_minutes", name="uq_reminders_appointment_kind"),
        # The scheduler's scan: only pending rows are indexed, so the index stays small.
        Index(
            "ix_reminders_pending_due",
            "due_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    appointment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    offset_minutes: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    # Why a reminder was dropped: cancelled, closed, past, unreachable, rebooked, withdrawn.
    reason: Mapped[str | None] = mapped_column(String(16))
    # The outbox row that carries it; indexed: the sender looks reminders up by their rows.
    outbox_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The one-time token of the sent message's buttons; a tap answers once (answer, answered_at).
    tap_token: Mapped[str | None] = mapped_column(String(32), unique=True)
    answer: Mapped[str | None] = mapped_column(String(12))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# The no-show scan reads recent missed appointments by status, not the whole table.
Index("ix_appointments_status_start", Appointment.status, Appointment.starts_at)
