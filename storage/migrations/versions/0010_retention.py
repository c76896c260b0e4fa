"""retention: legal holds, attachments removed after their period, indexes the purge walks by

Revision ID: 0010_retention
Revises: 0010_erasure
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0010_retention"
down_revision: str | Sequence[str] | None = "0010_erasure"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "legal_holds",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("reason_enc", sa.LargeBinary(), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=False),
        sa.Column("placed_by", sa.Integer(), nullable=True),
        sa.Column("placed_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["placed_by"], ["staff_users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    with op.batch_alter_table("case_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removed_at", storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_case_messages_files", ["kind", "removed_at", "created_at"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_beneficiary_id"), ["beneficiary_id"], unique=False)
    with op.batch_alter_table("beneficiaries", schema=None) as batch_op:
        batch_op.create_index("ix_beneficiaries_last_active", ["last_active_at", "id"], unique=False)
    with op.batch_alter_table("case_closures", schema=None) as batch_op:
        batch_op.create_index("ix_case_closures_closed", ["closed_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_closures", schema=None) as batch_op:
        batch_op.drop_index("ix_case_closures_closed")
    with op.batch_alter_table("beneficiaries", schema=None) as batch_op:
        batch_op.drop_index("ix_beneficiaries_last_active")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_beneficiary_id"))
    with op.batch_alter_table("case_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_case_messages_files")
        batch_op.drop_column("removed_at")
    op.drop_table("legal_holds")
