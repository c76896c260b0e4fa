"""outreach: attempt marks and campaign ids on the outbox

Revision ID: 0003_outreach
Revises: 0002_journey
Create Date: 2026-11-24 01:45:40.376311
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0003_outreach"
down_revision: str | None = "0002_journey"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("attempt_started_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("campaign_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_campaign_id"), ["campaign_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_campaign_id"))
        batch_op.drop_column("campaign_id")
        batch_op.drop_column("attempt_started_at")
