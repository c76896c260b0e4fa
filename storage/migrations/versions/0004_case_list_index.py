"""Join the feature branches of the schema; index the case list's order

Revision ID: 0004_case_list_index
Revises: 0002_webhook, 0003_appointments, 0003_outreach, 0003_plan
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_case_list_index"
down_revision: str | Sequence[str] | None = (
    "0002_webhook",
    "0003_appointments",
    "0003_outreach",
    "0003_plan",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Without it every page of the case list sorts all cases (a full scan on both engines).
    op.create_index("ix_cases_created_code", "cases", ["created_at", "code"])


def downgrade() -> None:
    op.drop_index("ix_cases_created_code", table_name="cases")
