"""reminder outbox index: find a reminder by the outbox row that carries it

Revision ID: 0008_reminder_outbox_index
Revises: 0007_staff_telegram
Create Date: 2026-11-24 07:10:00

The sender looks up the reminders of each round it claims (their appointment is their deadline),
and cancelling an appointment looks up its reminders' rows: without an index each is a scan of
every reminder ever scheduled.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_reminder_outbox_index"
down_revision: str | None = "0007_staff_telegram"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index("ix_reminders_outbox_id", ["outbox_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_reminders_outbox_id")
