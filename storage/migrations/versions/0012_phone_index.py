"""phone_index: a keyed lookup hash of each beneficiary's phone number, to find a case by phone

Revision ID: 0012_phone_index
Revises: 0012_temporary_password
Create Date: 2026-12-07

`beneficiaries.phone_hash` (storage.phone) lets the console find a case by phone without decrypting
anyone's number. The numbers are sealed and the migration has no keys, so, as the city index did
(0007_city_segment, 0009_city_fold), it marks everyone with a number pending
(storage.phone.PENDING); the worker computes their hashes when it starts (storage.phone.fill_pending).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_phone_index"
down_revision: str | Sequence[str] | None = "0012_temporary_password"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("beneficiaries", sa.Column("phone_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_beneficiaries_phone_hash", "beneficiaries", ["phone_hash"])
    op.execute("UPDATE beneficiaries SET phone_hash = 'pending' WHERE phone_enc IS NOT NULL")


def downgrade() -> None:
    op.drop_index("ix_beneficiaries_phone_hash", table_name="beneficiaries")
    op.drop_column("beneficiaries", "phone_hash")
