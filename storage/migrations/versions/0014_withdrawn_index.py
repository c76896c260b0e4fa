"""withdrawn index: the few people who withdrew, found without reading every person

Revision ID: 0014_withdrawn_index
Revises: 0014_office_hours_reply
Create Date: 2026-12-07

Every page of the case list asks which of its cases' people withdrew; without this partial index
PostgreSQL reads the whole people table for it (its estimate of the withdrawn is a row or two).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_withdrawn_index"
down_revision: str | Sequence[str] | None = "0014_office_hours_reply"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHERE = sa.text("withdrawn_at IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_beneficiaries_withdrawn", "beneficiaries", ["id"], postgresql_where=WHERE, sqlite_where=WHERE
    )


def downgrade() -> None:
    op.drop_index("ix_beneficiaries_withdrawn", table_name="beneficiaries")
