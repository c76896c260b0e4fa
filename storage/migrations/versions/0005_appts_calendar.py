"""appointments in the console: marking, proposals holding a seat; priority groups in the queue

Revision ID: 0005_appts_calendar
Revises: 0004_case_list_index
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0005_appts_calendar"
down_revision: str | None = "0004_case_list_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("marked_at", storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("marked_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("hold_until", storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            "fk_appointments_marked_by_staff_users", "staff_users", ["marked_by"], ["id"], ondelete="SET NULL"
        )
    op.create_table(
        "appointment_proposals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("replaces_id", sa.Uuid(), nullable=True),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("proposed_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointments.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["proposed_by"], ["staff_users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["replaces_id"], ["appointments.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("appointment_id"),
        sa.UniqueConstraint("token"),
    )
    op.create_index("ix_appointment_proposals_case_id", "appointment_proposals", ["case_id"])
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Boolean(), server_default="0", nullable=False))
    # The unassigned cases already in the queue's order: no sort of the whole queue per page
    # (see storage.models.Case for why the engines get different ones).
    order = [
        sa.text("urgent DESC"),
        sa.text("priority DESC"),
        sa.text("coalesce(handoff_at, created_at)"),
        "code",
    ]
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_cases_queue", "cases", order, postgresql_where=sa.text("assigned_to IS NULL"))
    else:
        op.create_index("ix_cases_queue_sqlite", "cases", ["assigned_to", *order])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_cases_queue", table_name="cases")
    else:
        op.drop_index("ix_cases_queue_sqlite", table_name="cases")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("priority")
    op.drop_index("ix_appointment_proposals_case_id", table_name="appointment_proposals")
    op.drop_table("appointment_proposals")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_constraint("fk_appointments_marked_by_staff_users", type_="foreignkey")
        batch_op.drop_column("hold_until")
        batch_op.drop_column("marked_by")
        batch_op.drop_column("marked_at")
