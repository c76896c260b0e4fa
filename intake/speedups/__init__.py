"""The speed patches, one module each, installed by the composition root and never on import.

Each module says which library version it was written against, what it changes, the gain it was
measured to bring and how to remove it (docs/performance.md has them side by side):

- `deferred_models`: pydantic's `BaseModel.model_rebuild` replaced so that aiogram's types are built
  on first use (must run before anything imports aiogram: `intake/__init__.py` calls `install`).
- `sqlite_one_trip`: aiosqlite subclassed, one trip to its thread per statement or none (inline).
- `sqlite_turns`: a process's SQLite writers take turns on an asyncio lock, awaited from a
  synchronous SQLAlchemy event.
- `filters`: the bot's plain-callable filters wrapped in async `Filter`s (aiogram's supported path).

`INTAKE_SPEEDUPS=off` leaves every library stock: the same behaviour, only slower. The test suite
runs a slice that way (`make test`), which proves it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiogram import Dispatcher

    from storage.engine import SqliteSpeedups

SETTING = "INTAKE_SPEEDUPS"

_installed: bool | None = None


def requested(environ: Mapping[str, str] = os.environ) -> bool:
    """INTAKE_SPEEDUPS: `on` (the default) or `off`."""
    value = environ.get(SETTING, "on").strip().lower()
    if value not in ("on", "off"):
        raise ValueError(f"expected on or off, not {value!r}")
    return value == "on"


def install(environ: Mapping[str, str] = os.environ) -> bool:
    """Install the patches INTAKE_SPEEDUPS asks for, once per process; whether they are on.

    Called before anything imports aiogram (the first patch needs that), and before the first engine
    is made. Asking again with another answer is a mistake in the caller: the patches cannot be
    taken out of a running process.
    """
    global _installed
    wanted = requested(environ)
    if _installed is not None:
        if _installed != wanted:
            raise RuntimeError(f"the speed patches are already {'on' if _installed else 'off'}")
        return _installed
    if wanted:
        # Imported here: each module imports the library it patches.
        from intake.speedups import deferred_models

        deferred_models.install()
        from intake.speedups import sqlite_one_trip, sqlite_turns

        sqlite_one_trip.install()
        sqlite_turns.install()
    _installed = wanted
    return wanted


def sqlite() -> SqliteSpeedups:
    """The SQLite patches, for a test or a benchmark that builds an engine with them whatever the
    process runs on (`create_engine(url, speedups=sqlite())`)."""
    from intake.speedups import sqlite_one_trip, sqlite_turns
    from storage.engine import SqliteSpeedups

    return SqliteSpeedups(driver=sqlite_one_trip.dbapi, engine=sqlite_turns.take_turns)


def enabled() -> bool:
    """Whether this process runs with the patches (False before `install`)."""
    return bool(_installed)


def tune_dispatcher(dispatcher: Dispatcher) -> None:
    """What the patches change in a dispatcher once its routers are included."""
    if enabled():
        from intake.speedups import filters

        filters.keep_in_loop(dispatcher)
