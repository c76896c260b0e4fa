"""Tables of appointments: offices (configuration as data), appointments and the seats they hold."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, SmallInteger, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import Base, UTCDateTime, utcnow


class Office(Base):
    """Where people are received, and when. Opening hours map a weekday (0 = Monday) to local
    [start, end] pairs; holidays and closures are {"start", "end", "label"} date ranges (a closure's
    label is its reason; see programme.offices); an empty time zone means the programme's own.
    Nothing here is about a person."""

    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    address: Mapped[str] = mapped_column(String(300))
    # The name and address in other languages, by language code; `name` and `address` are the
    # first given, shown where a person's language has none (storage.appointments.office_name).
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    addresses: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    timezone: Mapped[str | None] = mapped_column(String(64))
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    holidays: Mapped[list[Any]] = mapped_column(JSON, default=list)
    closures: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list, server_default="[]")
    slot_minutes: Mapped[int] = mapped_column(SmallInteger, default=30)
    capacity: Mapped[int] = mapped_column(SmallInteger, default=1)
    appointment_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Appointment(Base):
    """One appointment of a case; a cancelled one stays on file, only its seat is given back."""

    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_case_status", "case_id", "status"),
        Index("ix_appointments_office_start", "office_id", "starts_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="RESTRICT"))
    type: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # booked/cancelled/attended/no_show, or proposed: a time a caseworker offered that holds its
    # seat until the person answers or `hold_until` passes (see AppointmentProposal).
    status: Mapped[str] = mapped_column(String(12), default="booked")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When and by whom it was marked attended or no-show in the console.
    marked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    marked_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    # A proposed time's seat is free again for everyone once this has passed.
    hold_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The appointment this one replaced when the person rescheduled.
    replaces_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"))

    office: Mapped[Office] = relationship(lazy="joined")


class SlotBooking(Base):
    """A seat of a slot held by a booked appointment. The primary key makes overbooking impossible
    on every engine: two transactions taking the same seat cannot both commit."""

    __tablename__ = "slot_bookings"

    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    seat: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    appointment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), unique=True
    )


class AppointmentProposal(Base):
    """A time a caseworker proposed (a new appointment, or moving `replaces`). Its appointment has
    status "proposed" and holds a seat; the person answers with the buttons of one message, whose
    callback data carry `token`. pending → accepted / declined / withdrawn / expired."""

    __tablename__ = "appointment_proposals"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    appointment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), unique=True
    )
    replaces_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"))
    token: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    appointment: Mapped[Appointment] = relationship(foreign_keys=[appointment_id], lazy="joined")
