"""The reminder schedule of appointments; missed appointments found by status

Revision ID: 0005_reminders_schedule
Revises: 0004_case_list_index
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0005_reminders_schedule"
down_revision: str | Sequence[str] | None = "0004_case_list_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("due_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=True),
        sa.Column("outbox_id", sa.Uuid(), nullable=True),
        sa.Column("enqueued_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tap_token", sa.String(length=32), nullable=True),
        sa.Column("answer", sa.String(length=12), nullable=True),
        sa.Column("answered_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name="fk_reminders_appointment_id_appointments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reminders"),
        sa.UniqueConstraint("appointment_id", "kind", "offset_minutes", name="uq_reminders_appointment_kind"),
        sa.UniqueConstraint("tap_token", name="uq_reminders_tap_token"),
    )
    op.create_index(
        "ix_reminders_pending_due",
        "reminders",
        ["due_at"],
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_appointments_status_start", "appointments", ["status", "starts_at"])


def downgrade() -> None:
    op.drop_index("ix_appointments_status_start", table_name="appointments")
    op.drop_index("ix_reminders_pending_due", table_name="reminders")
    op.drop_table("reminders")
