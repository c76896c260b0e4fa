"""campaign approval: a supervisor approves a campaign that sensitive filters narrow to few people

Revision ID: 0012_campaign_approval
Revises: 0012_phone_index
Create Date: 2026-12-07

A campaign whose segment sensitive filters (case stage, service area, appointments, city) narrow
under INTAKE_CAMPAIGN_APPROVAL_BELOW people is sent only once a supervisor has approved it; the
approval is cleared when the segment changes (outreach.campaigns.needs_approval).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0012_campaign_approval"
down_revision: str | Sequence[str] | None = "0012_phone_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approved_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("approved_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            "fk_campaigns_approved_by", "staff_users", ["approved_by"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_constraint("fk_campaigns_approved_by", type_="foreignkey")
        batch_op.drop_column("approved_at")
        batch_op.drop_column("approved_by")
