"""temporary_password: a password an administrator set must be changed by its holder

Revision ID: 0012_temporary_password
Revises: 0011_role_grants
Create Date: 2026-12-07

An administrator's reset gives an account a temporary password, and an account an administrator
makes starts with one: its holder chooses their own at the next sign-in before anything else works
(caseworker_console.accounts). Existing accounts keep the passwords their holders know.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_temporary_password"
down_revision: str | Sequence[str] | None = "0011_role_grants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("must_change_password", sa.Boolean(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
