"""pending_role: a role change waiting for a supervisor's approval leaves the account at work

Revision ID: 0013_pending_role
Revises: 0012_feedback
Create Date: 2026-12-07

A role that opens more case data waits for a second person (issue 16). Until now the account was
disabled meanwhile; now it keeps working in its present role and the role asked for waits in
`pending_role` until a supervisor approves it (or refuses it: then nothing changes).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_pending_role"
down_revision: str | Sequence[str] | None = "0012_feedback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_role", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("pending_role")
