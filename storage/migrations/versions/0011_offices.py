"""offices: closures (a day or a range with a reason); holidays become ranges with a label; the
name and address per language

Revision ID: 0011_offices
Revises: 0011_person_keys
Create Date: 2026-12-07

Holidays were bare ISO dates; each becomes {"start", "end", "label"} (programme.offices.DayOff).
"""

import datetime as dt
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_offices"
down_revision: str | Sequence[str] | None = "0011_person_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OFFICES = sa.table("offices", sa.column("id", sa.Integer), sa.column("holidays", sa.JSON))


def _convert(*, to_ranges: bool) -> None:
    connection = op.get_bind()
    for office_id, holidays in connection.execute(sa.select(OFFICES.c.id, OFFICES.c.holidays)).all():
        entries = json.loads(holidays) if isinstance(holidays, str) else holidays or []
        changed: list[object] = []
        for entry in entries:
            if to_ranges:
                changed.append(
                    {"start": entry, "end": entry, "label": "Holiday"} if isinstance(entry, str) else entry
                )
            elif isinstance(entry, str):
                changed.append(entry)
            else:
                day, last = dt.date.fromisoformat(entry["start"]), dt.date.fromisoformat(entry["end"])
                while day <= last:
                    changed.append(day.isoformat())
                    day += dt.timedelta(days=1)
        connection.execute(sa.update(OFFICES).where(OFFICES.c.id == office_id).values(holidays=changed))


def upgrade() -> None:
    with op.batch_alter_table("offices") as table:
        table.add_column(sa.Column("closures", sa.JSON(), server_default="[]", nullable=False))
        table.add_column(sa.Column("names", sa.JSON(), server_default="{}", nullable=False))
        table.add_column(sa.Column("addresses", sa.JSON(), server_default="{}", nullable=False))
    _convert(to_ranges=True)


def downgrade() -> None:
    _convert(to_ranges=False)
    with op.batch_alter_table("offices") as table:
        table.drop_column("addresses")
        table.drop_column("names")
        table.drop_column("closures")
