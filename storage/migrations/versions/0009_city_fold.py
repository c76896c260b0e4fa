"""city_fold: cities typed on Arabic and Persian keyboards, and digits of any script, index alike

Revision ID: 0009_city_fold
Revises: 0008_reminder_outbox_index
Create Date: 2026-11-24

The city index's normalisation changed (storage.city), so every stored index is marked pending
again (storage.city.PENDING): the migration has no keys; the worker recomputes them when it starts.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_city_fold"
down_revision: str | Sequence[str] | None = "0008_reminder_outbox_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE beneficiaries SET city_hash = 'pending' WHERE city_hash IS NOT NULL")


def downgrade() -> None:
    # The older normalisation's indexes are recomputed from the answers by the worker either way.
    pass
