"""withdrawal: when a person stopped taking part (/withdraw, or consent withdrawn in /consent)

Revision ID: 0010_withdrawal
Revises: 0009_city_fold
Create Date: 2026-12-06

From then on nothing their consent covered goes on: no campaign message, no reminder, no referral;
the case header asks the caseworker to close the case with reason 1. A new consent clears it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0010_withdrawal"
down_revision: str | Sequence[str] | None = "0009_city_fold"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("beneficiaries") as table:
        table.add_column(sa.Column("withdrawn_at", storage.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("beneficiaries") as table:
        table.drop_column("withdrawn_at")
