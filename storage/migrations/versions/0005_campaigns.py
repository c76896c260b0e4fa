"""campaigns: outreach campaigns sent through the outbox

Revision ID: 0005_campaigns
Revises: 0004_case_list_index
Create Date: 2026-11-24 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0005_campaigns"
down_revision: str | None = "0004_case_list_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("fallback_language", sa.String(length=8), nullable=False),
        sa.Column("button", sa.JSON(), nullable=True),
        sa.Column("segment", sa.JSON(), nullable=False),
        sa.Column("starts_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("quiet_from", sa.Integer(), nullable=True),
        sa.Column("quiet_until", sa.Integer(), nullable=True),
        sa.Column("spread_seconds", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("segment_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("planned", sa.Integer(), nullable=True),
        sa.Column("expanded_through", sa.Uuid(), nullable=True),
        sa.Column("expanded", sa.Integer(), nullable=False),
        sa.Column("expanded_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["staff_users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_campaigns_status_starts", "campaigns", ["status", "starts_at"])
    # The campaign's figures group its rows by status: one index range per campaign.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_campaign_status", ["campaign_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_campaign_status")
    op.drop_index("ix_campaigns_status_starts", table_name="campaigns")
    op.drop_table("campaigns")
