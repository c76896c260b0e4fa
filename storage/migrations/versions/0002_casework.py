"""casework: case closures and the caseworker a case is assigned to

Revision ID: 0002_casework
Revises: 0001
Create Date: 2026-11-24 01:12:41.908362
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0002_casework"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ASSIGNED_FK = "fk_cases_assigned_to_staff_users"


def upgrade() -> None:
    op.create_table(
        "case_closures",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("stage_before", sa.String(length=32), nullable=False),
        sa.Column("details_enc", sa.LargeBinary(), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reopened_by", sa.Integer(), nullable=True),
        sa.Column("reopened_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["closed_by"], ["staff_users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["reopened_by"], ["staff_users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_case_closures_case_id"), "case_closures", ["case_id"], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a nullable column with its REFERENCES clause in place. Batch mode would
        # recreate `cases` instead, and dropping the old table with foreign keys on cascades into
        # every form response and message of every case.
        # (Alembic refuses a constraint outside batch mode, so the statement is written out.)
        op.execute(
            f"ALTER TABLE cases ADD COLUMN assigned_to INTEGER CONSTRAINT {ASSIGNED_FK} "
            "REFERENCES staff_users (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("cases", sa.Column("assigned_to", sa.Integer(), nullable=True))
        op.create_foreign_key(
            ASSIGNED_FK, "cases", "staff_users", ["assigned_to"], ["id"], ondelete="SET NULL"
        )
    op.create_index(op.f("ix_cases_assigned_to"), "cases", ["assigned_to"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_cases_assigned_to"), table_name="cases")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot drop a column that has a foreign key, so the table is rebuilt: run this
        # only on a copy, or with foreign keys off, or the rebuild cascades into child rows.
        with op.batch_alter_table("cases", schema=None) as batch_op:
            batch_op.drop_column("assigned_to")
    else:
        op.drop_constraint(ASSIGNED_FK, "cases", type_="foreignkey")
        op.drop_column("cases", "assigned_to")
    op.drop_index(op.f("ix_case_closures_case_id"), table_name="case_closures")
    op.drop_table("case_closures")
