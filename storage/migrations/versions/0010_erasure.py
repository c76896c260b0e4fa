"""erasure: tombstones of erased cases, erasure requests' due dates and answers, outbox rows to a chat

Revision ID: 0010_erasure
Revises: 0010_withdrawal
Create Date: 2026-12-06

An erased case leaves a tombstone (storage.models_erasure). A deletion asked for after a caseworker
took the case is due by a date, and a refusal's reason is sealed on the request. The message telling
a person their data was erased outlives their rows: its outbox row holds the chat id, sealed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0010_erasure"
down_revision: str | Sequence[str] | None = "0010_withdrawal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_tombstones",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("opened_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("erased_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    with op.batch_alter_table("case_tombstones", schema=None) as batch_op:
        batch_op.create_index("ix_case_tombstones_erased_at", ["erased_at"], unique=False)
    with op.batch_alter_table("data_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_at", storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("answer_enc", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_id_enc", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("chat_id_enc")
    with op.batch_alter_table("data_requests", schema=None) as batch_op:
        batch_op.drop_column("answer_enc")
        batch_op.drop_column("due_at")
    with op.batch_alter_table("case_tombstones", schema=None) as batch_op:
        batch_op.drop_index("ix_case_tombstones_erased_at")
    op.drop_table("case_tombstones")
