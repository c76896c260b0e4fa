"""ops: the sender's heartbeat and the data keys' check row, for the operations page and start-up

Revision ID: 0013_ops
Revises: 0013_pending_role
Create Date: 2026-12-07

One small table of named markers (storage.models_ops): the active sender's heartbeat, and a known
value sealed under the newest master key that every process opens at start.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0013_ops"
down_revision: str | Sequence[str] | None = "0013_pending_role"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ops_markers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("detail", sa.String(length=120), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("ops_markers")
