"""figures: partners, referrals, calendar feeds, full exports

Revision ID: 0005_figures
Revises: 0004_case_list_index
Create Date: 2026-11-24 03:24:06.866710
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0005_figures"
down_revision: str | None = "0004_case_list_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("service_area", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partners_service_area"), ["service_area"], unique=False)

    op.create_table(
        "calendar_feeds",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("staff_id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "full_exports",
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("reason_enc", sa.LargeBinary(), nullable=False),
        sa.Column("file_name", sa.String(length=80), nullable=False),
        sa.Column("archive", sa.LargeBinary(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["requested_by"], ["staff_users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("full_exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_full_exports_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_full_exports_requested_by"), ["requested_by"], unique=False)

    op.create_table(
        "referrals",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["plan_activities.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["changed_by"], ["staff_users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by"], ["staff_users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referrals_activity_id"), ["activity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referrals_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_referrals_partner_status", ["partner_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index("ix_referrals_partner_status")
        batch_op.drop_index(batch_op.f("ix_referrals_case_id"))
        batch_op.drop_index(batch_op.f("ix_referrals_activity_id"))

    op.drop_table("referrals")
    with op.batch_alter_table("full_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_full_exports_requested_by"))
        batch_op.drop_index(batch_op.f("ix_full_exports_expires_at"))

    op.drop_table("full_exports")
    op.drop_table("calendar_feeds")
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partners_service_area"))

    op.drop_table("partners")
