"""Join the second round of feature branches of the schema into one head

Revision ID: 0006_join
Revises: 0005_appts_calendar, 0005_campaigns, 0005_channels, 0005_figures, 0005_print_plan_agreed_via,
    0005_reminders_schedule
Create Date: 2026-11-24

The next migration revises this one alone.
"""

from collections.abc import Sequence

revision: str = "0006_join"
down_revision: str | Sequence[str] | None = (
    "0005_appts_calendar",
    "0005_campaigns",
    "0005_channels",
    "0005_figures",
    "0005_print_plan_agreed_via",
    "0005_reminders_schedule",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
