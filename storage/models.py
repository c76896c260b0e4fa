"""SQLAlchemy models: beneficiaries, cases, form answers, outbox, audit log, dialog state, staff."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    TypeDecorator,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a real BIGINT.
BigIntId = BigInteger().with_variant(Integer, "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite drops the offset on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    # Columns holding ciphertext (see storage.crypto); `intake rotate-keys` walks these.
    __encrypted__: ClassVar[tuple[str, ...]] = ()
    # Lookup hashes recomputed on rotation: hash column -> (encrypted source column, purpose).
    __blind_indexes__: ClassVar[dict[str, tuple[str, str]]] = {}
    # Whose data the encrypted columns hold, sealed under that person's key (storage.person_keys):
    # the attribute naming the beneficiary ("id", "beneficiary_id") or their case ("case_id"); None
    # for what the master key seals (staff data, the webhook queue, the wrapped keys themselves).
    __owner__: ClassVar[str | None] = None


class UuidPrimaryKey:
    """Rows that hold ciphertext get their id at construction, because the id is part of the
    associated data and must be known before the first value is encrypted."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("id", uuid.uuid4())
        super().__init__(**kwargs)


class Beneficiary(UuidPrimaryKey, Base):
    __tablename__ = "beneficiaries"
    __table_args__ = (
        # The retention purge walks the people out of contact longest first (storage.retention);
        # campaigns select on the last contact too.
        Index("ix_beneficiaries_last_active", "last_active_at", "id"),
        # The few who withdrew, looked up on every page of the case list (journey.withdrawn_cases).
        Index(
            "ix_beneficiaries_withdrawn",
            "id",
            postgresql_where=text("withdrawn_at IS NOT NULL"),
            sqlite_where=text("withdrawn_at IS NOT NULL"),
        ),
    )
    __encrypted__ = ("telegram_id_enc", "name_enc", "phone_enc")
    __owner__ = "id"
    __blind_indexes__: ClassVar[dict[str, tuple[str, str]]] = {
        "telegram_hash": ("telegram_id_enc", "telegram"),
        # The number's digits (storage.phone.index_value), so the console finds a case by phone.
        "phone_hash": ("phone_enc", "phone"),
    }

    telegram_hash: Mapped[str] = mapped_column(String(64), unique=True)
    telegram_id_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    language: Mapped[str | None] = mapped_column(String(8))
    source: Mapped[str | None] = mapped_column(String(64))
    # The lookup hash of the city in their newest interview (storage.city), so campaigns can select
    # on it; the answer itself is sealed in the interview's form response.
    city_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # The lookup hash of the phone number in phone_enc (storage.phone): finding a case by phone.
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    unreachable_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When they stopped taking part (/withdraw, or consent withdrawn in /consent): from then on no
    # campaign, reminder or referral, until they give a new consent (storage.journey.withdraw).
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_active_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    cases: Mapped[list[Case]] = relationship(back_populates="beneficiary")


class CaseCounter(Base):
    """Per-year sequence behind case codes; incremented inside the creating transaction."""

    __tablename__ = "case_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Case(UuidPrimaryKey, Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_stage_created", "stage", "created_at"),
        # The console's case list: newest first, then by code.
        Index("ix_cases_created_code", "created_at", "code"),
        # Per-channel figures (storage.channels) group cases by the channel they came from.
        Index("ix_cases_source", "source"),
        # The queue (storage.casework.queue): the unassigned cases already in the queue's order, so
        # a page never sorts the whole queue. PostgreSQL orders from a partial index; SQLite's
        # planner (without ANALYZE statistics) takes an index only when the equality comes first.
        Index(
            "ix_cases_queue",
            text("urgent DESC"),
            text("priority DESC"),
            text("coalesce(handoff_at, created_at)"),
            "code",
            postgresql_where=text("assigned_to IS NULL"),
        ).ddl_if(dialect="postgresql"),
        Index(
            "ix_cases_queue_sqlite",
            "assigned_to",
            text("urgent DESC"),
            text("priority DESC"),
            text("coalesce(handoff_at, created_at)"),
            "code",
        ).ddl_if(dialect="sqlite"),
    )

    code: Mapped[str] = mapped_column(String(20), unique=True)
    # Indexed: a person's cases are looked up by it (the purge asks whether any is open or held).
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(32), default="new")
    source: Mapped[str] = mapped_column(String(64), default="bot")
    language: Mapped[str | None] = mapped_column(String(8))
    provisionally_eligible: Mapped[bool | None] = mapped_column(Boolean)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # In one of the programme's priority groups (programme.priority): which ones is not kept here,
    # only that the queue puts the case ahead of others that waited as long.
    priority: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # In the handoff queue since (None: not asked for a person) and why, from the bot's short list.
    handoff_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    handoff_reason: Mapped[str | None] = mapped_column(String(32))
    # When the supervisors were told this handoff waits unassigned (outreach.staff_alerts): once a
    # handoff, so a restarted worker does not tell them again.
    waiting_alerted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The person said they are under 18: a parent's or guardian's consent is needed.
    guardian_consent_needed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # A caseworker is handling the conversation: the bot's automated prompts pause.
    caseworker_active: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The caseworker who owns the case; None while it waits in the queue.
    assigned_to: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", name="fk_cases_assigned_to_staff_users", ondelete="SET NULL"),
        index=True,
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    beneficiary: Mapped[Beneficiary] = relationship(back_populates="cases")

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class FormResponse(UuidPrimaryKey, Base):
    """One filled form (screening, interview, assessment…), answers encrypted as one JSON document."""

    __tablename__ = "form_responses"
    __encrypted__ = ("answers_enc",)
    __owner__ = "case_id"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    form_id: Mapped[str] = mapped_column(String(40))
    form_version: Mapped[int] = mapped_column(Integer)
    answers_enc: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(16), default="bot")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship()


class OutboxMessage(UuidPrimaryKey, Base):
    """A message waiting to be sent by the sender, in priority lanes (0 = replies first)."""

    __tablename__ = "outbox"
    __encrypted__ = ("payload_enc", "chat_id_enc")
    __owner__ = "beneficiary_id"
    __table_args__ = (
        Index("ix_outbox_ready", "status", "lane", "not_before"),
        # A campaign's figures (storage.models_outreach): its rows counted by status.
        Index("ix_outbox_campaign_status", "campaign_id", "status"),
    )

    # Whom it goes to: a beneficiary, or (a campaign's test) a staff member's own linked chat
    # (storage.models_staff_link), or a chat whose person was erased (`chat_id_enc`, sealed: the
    # message that tells them so, which must outlive their rows); exactly one of the three is set.
    beneficiary_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), index=True
    )
    # Not indexed: accounts are disabled rather than deleted, and nothing else looks rows up by it.
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", name="fk_outbox_staff_user", ondelete="CASCADE")
    )
    # Cleared by the sender once the row is settled: the chat is not kept after the last word to it.
    chat_id_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    lane: Mapped[int] = mapped_column(SmallInteger, default=0)
    method: Mapped[str] = mapped_column(String(32), default="sendMessage")
    payload_enc: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Set and committed right before the request goes to Telegram: a row found claimed by a dead
    # sender with this set may have been delivered, so it is settled uncertain, never resent.
    attempt_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The campaign a broadcast row belongs to (storage.models_outreach).
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    # A campaign row's language as it was rendered (its person's at expansion; None: not chosen),
    # which its results count by: the person may choose another language before it is sent.
    language: Mapped[str | None] = mapped_column(String(8))
    error: Mapped[str | None] = mapped_column(String(200))
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Append-only record of who read or changed what. Never holds personal data itself."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ProcessedUpdate(Base):
    """Update ids already handled, so a redelivered update changes nothing."""

    __tablename__ = "processed_updates"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    processed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DialogState(Base):
    """aiogram FSM state of a beneficiary's private chat; the data may hold answers, so it is sealed."""

    __tablename__ = "dialog_states"
    __encrypted__ = ("data_enc",)
    __owner__ = "id"

    id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str | None] = mapped_column(String(100))
    data_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(120), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # Made or enabled with access to case data by an administrator: disabled until a supervisor
    # approves it (caseworker_console.accounts.approve_grant); or, an active account given a role
    # that opens more case data, at work in its present role with the new one in `pending_role`.
    awaiting_approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    pending_role: Mapped[str | None] = mapped_column(String(16))
    # A temporary password (an administrator's reset, or the first one of an account an
    # administrator made): the holder chooses their own before anything else works.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # A supervisor an administrator named a focal point: reads the complaints about staff and what
    # people are afraid to tell their caseworker (programme.feedback), which nobody else reads.
    focal_point: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class StaffSession(Base):
    """Server-side console session; the cookie holds a random token, the table only its hash."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
