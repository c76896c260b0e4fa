"""Tables of the organisation's own settings: who it is and when it answers, and its ready replies.

Nothing here is about a person, so nothing is sealed: an administrator writes the organisation's
name and data contact (which the consent text shows every person), supervisors the ready replies
(texts for anyone, never for one person: the form says so).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, utcnow


class OrganisationSettings(Base):
    """One row (id 1), written when an administrator first saves the organisation page; until then
    the environment's values hold (programme.organisation). `controllers` and `contacts` map a bot
    language to the name and contact in it; `hours` maps a weekday (0 = Monday) to local
    [start, end] pairs in the programme's time zone, as an office's opening hours do."""

    __tablename__ = "organisation_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    controller: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(200), default="")
    controllers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    contacts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    hours: Mapped[dict[str, list[list[str]]]] = mapped_column(JSON, default=dict)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReadyReply(Base):
    """A reply a caseworker sends with one click. `labels` maps a console language to what the
    caseworker picks from; `texts` maps a bot language to what the person reads. A retired reply
    (not `active`) is kept: the audit log names the replies sent by their id."""

    __tablename__ = "ready_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    texts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
