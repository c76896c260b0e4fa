"""Tables of the staff's alerts on their own phones: each account's choice of alerts and quiet
hours, and the alerts the bot raised that the worker has yet to send (outreach.staff_alerts).

Neither holds anything about a person but a case's id: what goes to a phone is the kind of alert,
the case code and a link to the console, never a name, an answer or a message's text.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigIntId, UTCDateTime, utcnow


class StaffAlertSettings(Base):
    """One account's choice (the defaults, every alert and no quiet hours, until it makes one)."""

    __tablename__ = "staff_alert_settings"

    staff_user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", name="fk_staff_alert_settings_staff_user", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    urgent: Mapped[bool] = mapped_column(Boolean, default=True)
    messages: Mapped[bool] = mapped_column(Boolean, default=True)
    waiting: Mapped[bool] = mapped_column(Boolean, default=True)
    feedback: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # Local times (the office's time zone), "HH:MM"; both None: no quiet hours.
    quiet_from: Mapped[str | None] = mapped_column(String(5))
    quiet_until: Mapped[str | None] = mapped_column(String(5))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffNotice(Base):
    """Something the bot saw that staff are told of on their phones (an urgent alert, a new message),
    written in the update's transaction; the worker sends it and deletes it in one transaction."""

    __tablename__ = "staff_notices"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(24))
    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", name="fk_staff_notices_case", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
