"""staff alerts: what raised an alert, its opening and escalation, alerts on staff phones

Revision ID: 0013_staff_alerts
Revises: 0013_ops
Create Date: 2026-12-07

An alert keeps the message that raised it (sealed on the case as a handoff message) and when it
was opened and escalated; each account chooses which alerts reach its linked chat, and its quiet
hours; the bot notes alerts and new messages for the worker, which sends them (outreach.staff_alerts);
a case remembers when its supervisors were told its handoff waits unassigned.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0013_staff_alerts"
down_revision: str | Sequence[str] | None = "0013_ops"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The alerts' new columns with a foreign key: (column, its SQLite type, constraint, table referred to).
REFERENCES = (
    ("message_id", "CHAR(32)", "fk_alerts_message", "case_messages"),
    ("opened_by", "INTEGER", "fk_alerts_opened_by", "staff_users"),
)


def upgrade() -> None:
    for column, sqlite_type, constraint, target in REFERENCES:
        if op.get_bind().dialect.name == "sqlite":
            # SQLite adds a nullable column with its REFERENCES clause in place; a batch would
            # rebuild the table (Alembic refuses a constraint outside one, so it is written out).
            op.execute(
                f"ALTER TABLE alerts ADD COLUMN {column} {sqlite_type} CONSTRAINT {constraint} "
                f"REFERENCES {target} (id) ON DELETE SET NULL"
            )
        else:
            kind = sa.Uuid() if column == "message_id" else sa.Integer()
            op.add_column("alerts", sa.Column(column, kind, nullable=True))
            op.create_foreign_key(constraint, "alerts", target, [column], ["id"], ondelete="SET NULL")
    op.add_column("alerts", sa.Column("opened_at", storage.models.UTCDateTime(timezone=True), nullable=True))
    op.add_column(
        "alerts", sa.Column("escalated_at", storage.models.UTCDateTime(timezone=True), nullable=True)
    )
    # Alerts raised, and handoffs made, before phones were told of them do not all reach the
    # supervisors' phones at once after the upgrade (the console lists them as before).
    op.execute("UPDATE alerts SET escalated_at = created_at")
    # A plain ADD COLUMN on both engines: a batch would rebuild the cases table on SQLite.
    op.add_column(
        "cases", sa.Column("waiting_alerted_at", storage.models.UTCDateTime(timezone=True), nullable=True)
    )
    op.execute("UPDATE cases SET waiting_alerted_at = handoff_at WHERE handoff_at IS NOT NULL")
    op.create_table(
        "staff_alert_settings",
        sa.Column("staff_user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("messages", sa.Boolean(), nullable=False),
        sa.Column("waiting", sa.Boolean(), nullable=False),
        sa.Column("quiet_from", sa.String(length=5), nullable=True),
        sa.Column("quiet_until", sa.String(length=5), nullable=True),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name="fk_staff_alert_settings_staff_user",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("staff_user_id"),
    )
    op.create_table(
        "staff_notices",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_staff_notices_case", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_staff_notices_case_id", "staff_notices", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_staff_notices_case_id", table_name="staff_notices")
    op.drop_table("staff_notices")
    op.drop_table("staff_alert_settings")
    op.drop_column("cases", "waiting_alerted_at")
    op.drop_column("alerts", "escalated_at")
    op.drop_column("alerts", "opened_at")
    for column, _, constraint, _ in REFERENCES:
        if op.get_bind().dialect.name == "sqlite":
            # SQLite cannot drop a column that has a foreign key: the table is rebuilt (alerts has
            # no rows referring to it, so nothing cascades).
            with op.batch_alter_table("alerts", schema=None) as batch_op:
                batch_op.drop_column(column)
        else:
            op.drop_constraint(constraint, "alerts", type_="foreignkey")
            op.drop_column("alerts", column)
