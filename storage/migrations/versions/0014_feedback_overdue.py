"""feedback overdue: when the readers of a piece of feedback were told on their phones that its
first answer is overdue, and each account's choice of that alert

Revision ID: 0014_feedback_overdue
Revises: 0013_organisation
Create Date: 2026-12-07

Feedback already overdue at the upgrade is marked told: the console lists it highlighted as before,
and the phones are not all told of it at once.
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0014_feedback_overdue"
down_revision: str | Sequence[str] | None = "0013_organisation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs on both engines: a batch would rebuild the tables on SQLite.
    op.add_column(
        "feedback", sa.Column("overdue_alerted_at", storage.models.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "staff_alert_settings", sa.Column("feedback", sa.Boolean(), server_default="1", nullable=False)
    )
    feedback = sa.table(
        "feedback",
        sa.column("due_at", storage.models.UTCDateTime(timezone=True)),
        sa.column("first_answered_at", storage.models.UTCDateTime(timezone=True)),
        sa.column("overdue_alerted_at", storage.models.UTCDateTime(timezone=True)),
    )
    op.execute(
        feedback.update()
        .where(feedback.c.first_answered_at.is_(None), feedback.c.due_at < dt.datetime.now(dt.UTC))
        .values(overdue_alerted_at=feedback.c.due_at)
    )


def downgrade() -> None:
    op.drop_column("staff_alert_settings", "feedback")
    op.drop_column("feedback", "overdue_alerted_at")
