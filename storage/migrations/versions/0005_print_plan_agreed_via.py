"""integration plan: how the beneficiary agreed to the last change of each entry

Revision ID: 0005_print_plan_agreed_via
Revises: 0004_case_list_index
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_print_plan_agreed_via"
down_revision: str | None = "0004_case_list_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("plan_needs", "plan_goals", "plan_activities", "plan_reviews")


def upgrade() -> None:
    # Rows made before this was asked have no answer: shown as agreed, without how.
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("agreed_via", sa.String(length=16), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("agreed_via")
