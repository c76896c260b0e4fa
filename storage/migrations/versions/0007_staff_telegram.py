"""staff telegram: a console account's own linked chat, its one-time codes, and outbox rows to it

Revision ID: 0007_staff_telegram
Revises: 0007_city_segment
Create Date: 2026-11-24

A campaign's "send a test to me" goes through the outbox to the officer's linked chat: an outbox
row is addressed to a beneficiary or to a staff account.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0007_staff_telegram"
down_revision: str | Sequence[str] | None = "0007_city_segment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_telegram_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("chat_hash", sa.String(length=64), nullable=False),
        sa.Column("chat_id_enc", sa.LargeBinary(), nullable=False),
        sa.Column("linked_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name="fk_staff_telegram_links_staff_user",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chat_hash"),
        sa.UniqueConstraint("staff_user_id"),
    )
    op.create_table(
        "staff_link_codes",
        sa.Column("staff_user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name="fk_staff_link_codes_staff_user",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("staff_user_id"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_table(
        "staff_link_failures",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("chat_hash", sa.String(length=64), nullable=False),
        sa.Column("at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_staff_link_failures_chat_at", "staff_link_failures", ["chat_hash", "at"])
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("beneficiary_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.add_column(sa.Column("staff_user_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_outbox_staff_user", "staff_users", ["staff_user_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE beneficiary_id IS NULL")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbox_staff_user", type_="foreignkey")
        batch_op.drop_column("staff_user_id")
        batch_op.alter_column("beneficiary_id", existing_type=sa.Uuid(), nullable=False)
    op.drop_index("ix_staff_link_failures_chat_at", table_name="staff_link_failures")
    op.drop_table("staff_link_failures")
    op.drop_table("staff_link_codes")
    op.drop_table("staff_telegram_links")
