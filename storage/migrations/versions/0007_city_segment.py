"""city_segment: a lookup hash of each beneficiary's city, for campaign segments

Revision ID: 0007_city_segment
Revises: 0007_campaign_language
Create Date: 2026-11-24

The migration has no keys, so it cannot compute hashes: it marks the people who answered the
interview already ("pending", storage.city.PENDING) and the worker fills them in when it starts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_city_segment"
down_revision: str | Sequence[str] | None = "0007_campaign_language"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("beneficiaries", sa.Column("city_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_beneficiaries_city_hash", "beneficiaries", ["city_hash"])
    op.execute(
        "UPDATE beneficiaries SET city_hash = 'pending' WHERE EXISTS ("
        " SELECT 1 FROM form_responses JOIN cases ON cases.id = form_responses.case_id"
        " WHERE cases.beneficiary_id = beneficiaries.id AND form_responses.form_id = 'interview')"
    )


def downgrade() -> None:
    op.drop_index("ix_beneficiaries_city_hash", table_name="beneficiaries")
    op.drop_column("beneficiaries", "city_hash")
