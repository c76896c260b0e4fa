"""plan: needs, goals, activities and progress reviews of the integration plan

Revision ID: 0003_plan
Revises: 0002_casework
Create Date: 2026-11-24 02:04:08.577251
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0003_plan"
down_revision: str | None = "0002_casework"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _agreed() -> list[sa.Column[object]]:
    # The last change to the row, made with the beneficiary's agreement (storage.models_plan._Agreed).
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreed", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["changed_by"], ["staff_users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    ]


def upgrade() -> None:
    op.create_table(
        "plan_needs",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        *_agreed(),
    )
    op.create_index("ix_plan_needs_case_rank", "plan_needs", ["case_id", "rank"], unique=False)

    op.create_table(
        "plan_reviews",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("note_enc", sa.LargeBinary(), nullable=False),
        *_agreed(),
    )
    op.create_index(op.f("ix_plan_reviews_case_id"), "plan_reviews", ["case_id"], unique=False)

    op.create_table(
        "plan_goals",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("need_id", sa.Uuid(), nullable=False),
        sa.Column("term", sa.String(length=8), nullable=False),
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        *_agreed(),
        sa.ForeignKeyConstraint(["need_id"], ["plan_needs.id"], ondelete="CASCADE"),
    )
    op.create_index(op.f("ix_plan_goals_case_id"), "plan_goals", ["case_id"], unique=False)
    op.create_index(op.f("ix_plan_goals_need_id"), "plan_goals", ["need_id"], unique=False)

    op.create_table(
        "plan_activities",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("goal_id", sa.Uuid(), nullable=False),
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        sa.Column("service_area", sa.String(length=32), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("who_enc", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        *_agreed(),
        sa.ForeignKeyConstraint(["goal_id"], ["plan_goals.id"], ondelete="CASCADE"),
    )
    op.create_index(op.f("ix_plan_activities_case_id"), "plan_activities", ["case_id"], unique=False)
    op.create_index(op.f("ix_plan_activities_goal_id"), "plan_activities", ["goal_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_plan_activities_goal_id"), table_name="plan_activities")
    op.drop_index(op.f("ix_plan_activities_case_id"), table_name="plan_activities")
    op.drop_table("plan_activities")
    op.drop_index(op.f("ix_plan_goals_need_id"), table_name="plan_goals")
    op.drop_index(op.f("ix_plan_goals_case_id"), table_name="plan_goals")
    op.drop_table("plan_goals")
    op.drop_index(op.f("ix_plan_reviews_case_id"), table_name="plan_reviews")
    op.drop_table("plan_reviews")
    op.drop_index("ix_plan_needs_case_rank", table_name="plan_needs")
    op.drop_table("plan_needs")
