"""campaign language: the language each campaign row was rendered in

Revision ID: 0007_campaign_language
Revises: 0006_join
Create Date: 2026-11-24 07:00:00

A campaign's results per language count what each person was sent, not the language they hold now
(which they may have changed since). Rows made before this revision get their person's language of
today: the best that is known about them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_campaign_language"
down_revision: str | None = "0006_join"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    op.execute(
        "UPDATE outbox SET language = (SELECT beneficiaries.language FROM beneficiaries"
        " WHERE beneficiaries.id = outbox.beneficiary_id) WHERE campaign_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("language")
