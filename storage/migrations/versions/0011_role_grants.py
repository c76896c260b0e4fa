"""role grants: an account given access to case data in the console waits for a supervisor

Revision ID: 0011_role_grants
Revises: 0011_offices
Create Date: 2026-12-07

An administrator who makes a caseworker or supervisor account, or enables one, does not give it
access to case data alone: the account waits, disabled, until a supervisor approves it
(caseworker_console.accounts). Accounts made on the command line need no approval.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_role_grants"
down_revision: str | Sequence[str] | None = "0011_offices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("awaiting_approval", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("awaiting_approval")
