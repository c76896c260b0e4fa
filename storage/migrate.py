"""Schema upgrades through Alembic, callable from async code (`intake migrate`, demo, tests), and
whether a database is at this version's schema (start-up, the operations page)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "storage:migrations")
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    # "heads": features may add migrations on parallel branches, merged later.
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)


def newest_revision() -> str:
    """This version's newest schema revision (one head: parallel branches are merged)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@dataclass(frozen=True)
class SchemaState:
    """The database's Alembic revisions beside this version's heads."""

    current: frozenset[str]
    heads: frozenset[str]

    @property
    def empty(self) -> bool:
        return not self.current

    @property
    def at_head(self) -> bool:
        return self.current == self.heads

    @property
    def newer(self) -> bool:
        """Upgraded by a newer version of the program: revisions this one does not know."""
        script = ScriptDirectory.from_config(alembic_config())
        return not self.current <= {revision.revision for revision in script.walk_revisions()}


def _schema_state(connection: Connection) -> SchemaState:
    # Reading the revision logs Alembic's "Context impl" lines: noise before every start.
    quiet = logging.getLogger("alembic.runtime.migration")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        current = MigrationContext.configure(connection).get_current_heads()
    finally:
        quiet.setLevel(level)
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    return SchemaState(frozenset(current), frozenset(heads))


async def schema_state(engine: AsyncEngine) -> SchemaState:
    async with engine.connect() as connection:
        return await schema_state_of(connection)


async def schema_state_of(connection: AsyncConnection) -> SchemaState:
    return await connection.run_sync(_schema_state)
