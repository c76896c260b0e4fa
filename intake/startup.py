"""What every process checks before it starts, each mistake one sentence for the operator.

The database is reachable with DATABASE_URL's login and at this version's schema; a real
installation's database holds none of the demo's made-up data; the data keys open the data (the
key check row, storage.ops); the erasure ledger is there (storage.erasure_ledger), and whoever it
names and a restored backup brought back is erased again; Telegram is reachable and takes the bot
token; the ports are free.
Each failure is a `SettingsError` naming the setting or the step to take (intake.cli prints it).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
from collections.abc import Iterator

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramServerError, TelegramUnauthorizedError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from intake.demo_data import holds_demo_data
from intake.settings import SettingsError
from storage import ops
from storage.crypto import Crypto
from storage.engine import create_sessionmaker
from storage.erasure import has_erased_anyone, reapply
from storage.erasure_ledger import ErasureLedger, LedgerError
from storage.migrate import SchemaState, schema_state
from storage.ops import KeyState, check_keys

log = logging.getLogger(__name__)

# PostgreSQL's error codes for a refused login and a database that does not exist.
BAD_LOGIN = {"28P01": "password", "28000": "user name"}
NO_DATABASE = "3D000"


def _sqlstate(error: BaseException) -> str | None:
    """The PostgreSQL error code somewhere in the chain SQLAlchemy and asyncpg wrap it in."""
    seen: BaseException | None = error
    while seen is not None:
        code = getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)
        if isinstance(code, str):
            return code
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


def database_error(error: BaseException) -> SettingsError:
    """A failed first connection as one sentence."""
    code = _sqlstate(error)
    if code in BAD_LOGIN:
        return SettingsError(
            f"PostgreSQL refused the login in DATABASE_URL (wrong {BAD_LOGIN[code]}): "
            "give a user and password the server accepts."
        )
    if code == NO_DATABASE:
        return SettingsError(
            "The database named in DATABASE_URL does not exist on the PostgreSQL server: "
            "create it (createdb NAME) or correct the name."
        )
    return SettingsError(
        f"Could not open the database in DATABASE_URL ({type(error).__name__}): "
        "check that the server is running and the URL's host, port and path."
    )


def schema_problem(state: SchemaState) -> str | None:
    if state.empty:
        return "The database at DATABASE_URL has no tables yet: run `intake migrate` first."
    if state.newer:
        return (
            "The database at DATABASE_URL was upgraded by a newer version of Intake Bridge: "
            "run that version, or restore a backup made before the upgrade."
        )
    if not state.at_head:
        return "The database at DATABASE_URL is at an older schema: run `intake migrate` first."
    return None


KEYS_WRONG = (
    "INTAKE_DATA_KEYS does not open the data in DATABASE_URL: give the keys this database was "
    "written with (newest first), or the DATABASE_URL these keys belong to."
)
DEMO_DATABASE = (
    "The database at DATABASE_URL holds the demo's made-up cases: give this installation a database "
    "of its own in DATABASE_URL (`intake demo` keeps its own under ./var/demo/)."
)


async def reachable(engine: AsyncEngine) -> SchemaState:
    """The database's schema, read on a first connection whose failure is one sentence."""
    try:
        return await schema_state(engine)
    except (DBAPIError, InterfaceError, OperationalError, OSError) as error:
        raise database_error(error) from None


async def migrated(engine: AsyncEngine) -> None:
    """Reachable and at this version's schema (what needs no data keys: `create-user`)."""
    if problem := schema_problem(await reachable(engine)):
        raise SettingsError(problem)


async def check_database(engine: AsyncEngine, crypto: Crypto, *, refuse_demo: bool) -> None:
    """Reachable, migrated, not the demo's (when `refuse_demo`), and opened by the keys."""
    if problem := schema_problem(await reachable(engine)):
        raise SettingsError(problem)
    async with create_sessionmaker(engine)() as session, session.begin():
        if refuse_demo and await holds_demo_data(session):
            raise SettingsError(DEMO_DATABASE)
        if await check_keys(session, crypto) is KeyState.WRONG:
            raise SettingsError(KEYS_WRONG)


def ledger_missing(ledger: ErasureLedger) -> str:
    return (
        f"The erasure ledger {ledger.path} is missing, yet this database's erasures were written to "
        "one: restore it from its own backup or set INTAKE_ERASURE_LEDGER to where it is "
        "(docs/DATA-PROTECTION.md, the erasure ledger)."
    )


async def open_ledger(engine: AsyncEngine, ledger: ErasureLedger) -> ErasureLedger:
    """The erasure ledger, readable and writable. Missing while the database says that its erasures
    were written to one (its `erasure_ledger` marker), it was lost or moved, and a restored backup
    would keep whom it named: an error. Missing otherwise (a new installation, or one from before
    the ledger), it is made empty, and the marker written."""
    async with create_sessionmaker(engine)() as session, session.begin():
        if not ledger.exists():
            if await ops.marker(session, ops.ERASURE_LEDGER) is not None:
                raise SettingsError(ledger_missing(ledger))
            try:
                ledger.create()
            except OSError as error:
                raise SettingsError(
                    f"The erasure ledger {ledger.path} cannot be created ({error.strerror}): "
                    "check INTAKE_ERASURE_LEDGER and its folder's owner."
                ) from None
            if await has_erased_anyone(session):
                log.warning(
                    "The erasure ledger is new: erasures made before it are not in it; a backup from "
                    "before them, if restored, must be checked against the case tombstones."
                )
        elif ledger.path.is_dir() or not os.access(ledger.path, os.R_OK | os.W_OK):
            raise SettingsError(
                f"The erasure ledger {ledger.path} cannot be read and written by this process: "
                "check INTAKE_ERASURE_LEDGER and the file's owner and permissions."
            )
        await ops.mark_once(session, ops.ERASURE_LEDGER)
    return ledger


def erased_again(count: int) -> str:
    """What a start or `intake reapply-erasures` did, in one sentence (no ids)."""
    if count == 0:
        return "No one the erasure ledger names is in the database: nothing was erased again."
    people = "1 person" if count == 1 else f"{count} people"
    return (
        f"Erased again {people} whom the erasure ledger names and the database still held "
        "(a backup from before their erasure was restored)."
    )


async def reapply_erasures(
    maker: async_sessionmaker[AsyncSession], crypto: Crypto, ledgers: list[ErasureLedger]
) -> int:
    """Everyone the ledgers name who is in the database, erased again (storage.erasure.reapply)."""
    erased = 0
    for ledger in ledgers:
        try:
            erased += await reapply(maker, crypto, ledger)
        except LedgerError as error:
            raise SettingsError(str(error)) from None
    return erased


async def check_telegram(bot: Bot, api_url: str) -> None:
    """getMe once: the token is accepted and the Bot API answers."""
    try:
        await bot.get_me()
    except TelegramUnauthorizedError:
        raise SettingsError(
            "Telegram rejected TELEGRAM_BOT_TOKEN: copy the token again from @BotFather (/mybots, API Token)."
        ) from None
    except (TelegramNetworkError, TelegramServerError, aiohttp.ClientError, TimeoutError, OSError):
        raise SettingsError(
            f"Could not reach the Telegram Bot API at {api_url}: check the network, "
            "or TELEGRAM_API_URL if you set it."
        ) from None


@contextlib.contextmanager
def listening(host: str, port: int, setting: str) -> Iterator[socket.socket]:
    """A listening socket on host:port, made here so that a port in use is one sentence."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            raise bind_error(error, host, port, setting) from None
        sock.listen(2048)
        sock.setblocking(False)
        yield sock
    finally:
        sock.close()


def bind_error(error: OSError, host: str, port: int, setting: str) -> SettingsError:
    if error.errno == errno.EADDRINUSE:
        return SettingsError(
            f"Port {port} on {host} is already in use by another program: stop it, "
            f"or choose another port in {setting}."
        )
    return SettingsError(f"Could not listen on {host}:{port} ({error.strerror}): check {setting}.")
