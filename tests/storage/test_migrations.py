"""The migrations build exactly the schema the models describe, on both engines, in one head."""

from __future__ import annotations

import warnings
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Index
from sqlalchemy.exc import SAWarning

from storage.migrate import alembic_config
from storage.schema import Base
from tests.conftest import Database


def test_the_migrations_end_in_one_head() -> None:
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def differences(connection: Connection) -> list[Any]:
    dialect = connection.dialect.name

    def compared(item: Any, _name: str | None, kind: str, reflected: bool, _other: Any) -> bool:
        if kind == "foreign_key_constraint":
            # SQLite's reflection reads neither the name nor ON DELETE of a constraint written on
            # its column (how a column with a foreign key is added there): PostgreSQL compares them.
            return dialect != "sqlite"
        if kind != "index" or reflected or not isinstance(item, Index):
            return True
        only_on = getattr(item, "_ddl_if", None)
        if only_on is not None and only_on.dialect not in (None, dialect):
            return False  # an index of the other engine (Index(...).ddl_if)
        # SQLite's reflection cannot read an index on expressions: it is left out on both sides.
        return not (dialect == "sqlite" and any(not hasattr(e, "table") for e in item.expressions))

    with warnings.catch_warnings():
        # SQLite's reflection cannot read an index on expressions, and both libraries say so.
        warnings.filterwarnings("ignore", ".*expression-based index", SAWarning)
        warnings.filterwarnings("ignore", ".*expression-based index", UserWarning)
        context = MigrationContext.configure(connection, opts={"include_object": compared})
        return compare_metadata(context, Base.metadata)


async def test_the_migrated_schema_is_the_models_schema(database: Database) -> None:
    engine = database.engine()
    try:
        async with engine.connect() as connection:
            found = await connection.run_sync(differences)
    finally:
        await engine.dispose()
    assert found == []
