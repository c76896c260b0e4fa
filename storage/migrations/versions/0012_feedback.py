"""feedback: feedback and complaints from the people served, and focal points among supervisors

Revision ID: 0012_feedback
Revises: 0012_campaign_approval
Create Date: 2026-12-07

A person gives feedback or a complaint in the bot, with their case or anonymously (no link to them
at all); supervisors read and answer it, and a complaint about staff or what someone is afraid to
tell their caseworker only the supervisors an administrator named focal points (storage.feedback).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0012_feedback"
down_revision: str | Sequence[str] | None = "0012_campaign_approval"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("focal_point", sa.Boolean(), server_default="0", nullable=False))
    op.create_table(
        "feedback",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("routing", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("medium", sa.String(length=8), nullable=False),
        sa.Column("body_enc", sa.LargeBinary(), nullable=False),
        sa.Column("urgent", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("beneficiary_id", sa.Uuid(), nullable=True),
        sa.Column("assigned_to", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_answered_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["beneficiary_id"], ["beneficiaries.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["assigned_to"],
            ["staff_users.id"],
            name="fk_feedback_assigned_to_staff_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    op.create_index("ix_feedback_routing_status", "feedback", ["routing", "status", "due_at"])
    op.create_index("ix_feedback_beneficiary_id", "feedback", ["beneficiary_id"])
    op.create_index("ix_feedback_closed_at", "feedback", ["closed_at"])
    op.create_table(
        "feedback_notes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("feedback_id", sa.Uuid(), nullable=False),
        sa.Column("beneficiary_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["feedback_id"], ["feedback.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["beneficiary_id"], ["beneficiaries.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["staff_user_id"], ["staff_users.id"], name="fk_feedback_notes_staff_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_feedback_notes_feedback_id", "feedback_notes", ["feedback_id"])
    op.create_index("ix_feedback_notes_beneficiary_id", "feedback_notes", ["beneficiary_id"])
    op.create_table(
        "satisfaction_prompts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("asked_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rating", sa.String(length=8), nullable=True),
        sa.Column("answered_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
        sa.UniqueConstraint("token"),
    )


def downgrade() -> None:
    op.drop_table("satisfaction_prompts")
    op.drop_table("feedback_notes")
    op.drop_table("feedback")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("focal_point")
