"""The erasure ledger: a backup taken before an erasure, once restored, is erased again at the next
start, their key first; the ledger names no one, survives a crash at every point of the commit, and
a missing or damaged ledger stops the start with one sentence."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import stat
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from intake.settings import SettingsError
from intake.startup import erased_again, ledger_missing, open_ledger, reapply_erasures
from storage.crypto import PERSON_KEYS, Crypto
from storage.engine import clear_erased, create_sessionmaker
from storage.erasure import clear_logs_if_erased, erase_person
from storage.erasure_ledger import (
    DONE,
    INTENT,
    ErasureLedger,
    LedgerError,
    Position,
    ledger_info,
    note_erased,
)
from storage.models import Beneficiary, Case
from storage.models_keys import PersonKey
from storage.schema import Base
from tests.conftest import Database
from tests.storage.test_person_keys import person_with_everything

Maker = async_sessionmaker[AsyncSession]
LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (intent|done) [0-9a-f-]{36} request")


@pytest.fixture
def ledger(tmp_path: Path) -> ErasureLedger:
    """A new installation's, as its first start made it."""
    made = ErasureLedger(tmp_path / "ledger" / "erasure-ledger")
    made.create()
    return made


@pytest.fixture
def maker(engine: AsyncEngine, ledger: ErasureLedger) -> Maker:
    """Sessions as the processes make them: their erasures go to the ledger."""
    return create_sessionmaker(engine, info=ledger_info(ledger))


async def erase(maker: Maker, crypto: Crypto, person: uuid.UUID) -> None:
    async with maker() as session:
        async with session.begin():
            await erase_person(session, crypto, beneficiary_id=person, reason="request", actor="test")
        await clear_logs_if_erased(session)


class Backup:
    """The whole database as it is now, put back later in place of what is there: SQLite's file
    copied (after a checkpoint) and copied back; on PostgreSQL every row read, and every table
    emptied and filled with them again."""

    def __init__(self, database: Database, engine: AsyncEngine, where: Path) -> None:
        self.database, self.engine, self.where = database, engine, where
        self.rows: dict[str, list[dict[str, Any]]] = {}

    async def take(self) -> None:
        if self.database.backend == "sqlite":
            await clear_erased(self.engine)  # the write-ahead log written back into the file
            shutil.copyfile(self.path(), self.where)
            return
        async with self.engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                found = await connection.execute(select(table))
                self.rows[table.name] = [dict(row._mapping) for row in found]

    async def restore(self) -> None:
        if self.database.backend == "sqlite":
            await self.engine.dispose()
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{self.path()}{suffix}")
            shutil.copyfile(self.where, self.path())
            return
        async with self.engine.begin() as connection:
            tables = Base.metadata.sorted_tables
            await connection.exec_driver_sql(f"TRUNCATE {', '.join(table.name for table in tables)}")
            for table in tables:
                if self.rows[table.name]:
                    await connection.execute(insert(table), self.rows[table.name])

    def path(self) -> str:
        return str(make_url(self.database.url).database)


async def count(maker: Maker, model: Any, **where: Any) -> int:
    async with maker() as session:
        statement = select(func.count()).select_from(model).filter_by(**where)
        return int((await session.execute(statement)).scalar_one())


async def start(engine: AsyncEngine, maker: Maker, crypto: Crypto, ledger: ErasureLedger) -> int:
    """What every process does at start (intake.runtime.open_runtime), after the database's checks."""
    await open_ledger(engine, ledger)
    return await reapply_erasures(maker, crypto, [ledger])


async def test_a_restored_backup_from_before_an_erasure_is_erased_again_at_start_key_first(
    database: Database,
    engine: AsyncEngine,
    maker: Maker,
    crypto: Crypto,
    ledger: ErasureLedger,
    tmp_path: Path,
) -> None:
    assert await start(engine, maker, crypto, ledger) == 0  # a new installation: an empty ledger
    erased = await person_with_everything(maker, crypto, 720_001)
    kept = await person_with_everything(maker, crypto, 720_002)
    backup = Backup(database, engine, tmp_path / "backup.db")
    await backup.take()
    await erase(maker, crypto, erased)
    await backup.restore()
    assert await count(maker, Beneficiary, id=erased) == 1
    assert await count(maker, PersonKey, id=erased) == 1  # the backup holds their key: readable again

    assert await start(engine, maker, crypto, ledger) == 1
    assert await count(maker, PersonKey, id=erased) == 0
    assert await count(maker, Beneficiary, id=erased) == 0
    assert await count(maker, Case, beneficiary_id=erased) == 0
    assert await count(maker, Beneficiary, id=kept) == 1
    assert await count(maker, PersonKey, id=kept) == 1
    assert erased not in PERSON_KEYS
    # A second start finds no one.
    assert await start(engine, maker, crypto, ledger) == 0
    states = [line.split(" ")[1] for line in ledger.path.read_text().splitlines()]
    assert states == [INTENT, DONE, INTENT, DONE]  # the first erasure and the one at start


async def test_a_start_reads_the_lines_written_since_the_last_one_and_a_restore_brings_its_place_back(
    database: Database,
    engine: AsyncEngine,
    maker: Maker,
    crypto: Crypto,
    ledger: ErasureLedger,
    tmp_path: Path,
) -> None:
    first, second, kept = [await person_with_everything(maker, crypto, 720_020 + n) for n in range(3)]
    await erase(maker, crypto, first)
    assert await start(engine, maker, crypto, ledger) == 0
    # The database now says how far it was checked: a backup taken here holds that place.
    backup = Backup(database, engine, tmp_path / "backup.db")
    await backup.take()
    await erase(maker, crypto, second)
    assert await start(engine, maker, crypto, ledger) == 0
    # Lines the database was checked against are not read again: one damaged since stops no start.
    text = ledger.path.read_text()
    lines = text.splitlines(keepends=True)
    lines[1] = lines[1].replace(str(first), "x" * 36)  # the first one's done line, as long
    ledger.path.write_text("".join(lines))
    assert await start(engine, maker, crypto, ledger) == 0

    # The backup comes back with its own older place: the lines since (the second erasure) are
    # read again, and the second person, back with the backup, erased again.
    ledger.path.write_text(text)
    await backup.restore()
    assert await count(maker, Beneficiary, id=second) == 1
    assert await start(engine, maker, crypto, ledger) == 1
    assert await count(maker, Beneficiary, id=second) == await count(maker, PersonKey, id=second) == 0
    assert await count(maker, Beneficiary, id=kept) == 1


async def test_a_place_that_does_not_fit_the_ledger_makes_the_whole_ledger_read(
    database: Database,
    engine: AsyncEngine,
    maker: Maker,
    crypto: Crypto,
    ledger: ErasureLedger,
    tmp_path: Path,
) -> None:
    person = await person_with_everything(maker, crypto, 720_030)
    backup = Backup(database, engine, tmp_path / "backup.db")
    await backup.take()
    await erase(maker, crypto, person)
    copy = ledger.path.read_text()  # the ledger's own backup, with the erasure
    ledger.append(DONE, [(uuid.uuid4(), "request")] * 3, at=dt.datetime.now(dt.UTC))
    assert await start(engine, maker, crypto, ledger) == 0  # the database is checked to the end
    # Both restored: the database from before the erasure (without a place), the ledger from its
    # own older, shorter copy.
    await backup.restore()
    ledger.path.write_text(copy)
    assert await start(engine, maker, crypto, ledger) == 1
    assert await count(maker, Beneficiary, id=person) == 0
    # A place past the end of the file, or whose line is another: every line is read.
    for position in (Position(10**6, "0" * 32), Position(len(copy), "0" * 32)):
        assert ledger.read(after=position)[0] == ledger.entries()
    assert [entry.person for entry in ledger.entries()] == [person] * 4  # the erasure, and at start
    _, reached = ledger.read()
    assert ledger.read(after=reached) == ([], reached)


async def test_the_ledger_names_people_by_random_id_only_is_private_and_on_the_disk(
    maker: Maker, crypto: Crypto, ledger: ErasureLedger
) -> None:
    person = await person_with_everything(maker, crypto, 720_003)
    async with maker() as session:
        code = (await session.execute(select(Case.code).where(Case.beneficiary_id == person))).scalar_one()
    await erase(maker, crypto, person)
    text = ledger.path.read_text()
    lines = text.splitlines()
    assert len(lines) == 2 and all(LINE.fullmatch(line) for line in lines), lines
    assert [line.split(" ")[2] for line in lines] == [str(person), str(person)]
    for identifying in ("Leyla", "Mammadova", "720003", code):
        assert identifying not in text
    assert stat.S_IMODE(ledger.path.stat().st_mode) == 0o600


async def test_a_session_that_erased_no_one_or_rolled_back_writes_nothing(
    maker: Maker, crypto: Crypto, ledger: ErasureLedger
) -> None:
    person = await person_with_everything(maker, crypto, 720_004)
    async with maker() as session:
        await erase_person(session, crypto, beneficiary_id=person, reason="request", actor="test")
        await session.rollback()
    async with maker() as session, session.begin():
        await session.get(Beneficiary, person)  # a later commit of the same kind writes nothing either
    assert ledger.path.read_text() == ""
    assert await count(maker, Beneficiary, id=person) == 1


async def test_a_crash_between_the_commit_and_the_done_line_still_erases_a_restore_again(
    database: Database,
    engine: AsyncEngine,
    maker: Maker,
    crypto: Crypto,
    ledger: ErasureLedger,
    tmp_path: Path,
) -> None:
    person = await person_with_everything(maker, crypto, 720_005)
    backup = Backup(database, engine, tmp_path / "backup.db")
    await backup.take()
    await erase(maker, crypto, person)
    # As if the process had died after the commit, before its done line.
    intent = ledger.path.read_text().splitlines()[0]
    ledger.path.write_text(intent + "\n")
    await backup.restore()
    assert await start(engine, maker, crypto, ledger) == 1
    assert await count(maker, PersonKey, id=person) == await count(maker, Beneficiary, id=person) == 0


async def test_a_commit_that_failed_after_its_intent_line_is_carried_out_at_the_next_start(
    engine: AsyncEngine, maker: Maker, crypto: Crypto, ledger: ErasureLedger
) -> None:
    """Whether a failed commit reached the database is not known: the erasure was decided and
    attempted, so the next start carries it out."""
    person = await person_with_everything(maker, crypto, 720_006)

    def fail(session: Session) -> None:
        raise ConnectionError("the database went away")

    event.listen(Session, "before_commit", fail)
    try:
        with pytest.raises(ConnectionError):
            await erase(maker, crypto, person)
    finally:
        event.remove(Session, "before_commit", fail)
    assert await count(maker, Beneficiary, id=person) == 1
    assert [line.split(" ")[1] for line in ledger.path.read_text().splitlines()] == [INTENT]
    assert await start(engine, maker, crypto, ledger) == 1
    assert await count(maker, PersonKey, id=person) == await count(maker, Beneficiary, id=person) == 0


async def test_an_erasure_the_ledger_cannot_record_is_not_committed(
    maker: Maker, crypto: Crypto, ledger: ErasureLedger
) -> None:
    person = await person_with_everything(maker, crypto, 720_007)
    ledger.path.unlink()
    ledger.path.mkdir()  # a folder where the file should be: no write succeeds
    with pytest.raises(LedgerError, match="cannot be written"):
        await erase(maker, crypto, person)
    assert await count(maker, Beneficiary, id=person) == 1
    assert await count(maker, PersonKey, id=person) == 1


async def test_a_ledger_gone_while_running_is_not_made_anew_and_the_erasure_waits(
    maker: Maker, crypto: Crypto, ledger: ErasureLedger
) -> None:
    person = await person_with_everything(maker, crypto, 720_011)
    ledger.path.unlink()
    with pytest.raises(LedgerError, match="cannot be written"):
        await erase(maker, crypto, person)
    assert not ledger.exists()
    assert await count(maker, Beneficiary, id=person) == 1


async def test_a_line_for_someone_never_in_the_database_is_harmless(
    engine: AsyncEngine, maker: Maker, crypto: Crypto, ledger: ErasureLedger
) -> None:
    person = await person_with_everything(maker, crypto, 720_008)
    ledger.append(DONE, [(uuid.uuid4(), "request")], at=dt.datetime.now(dt.UTC))
    assert await start(engine, maker, crypto, ledger) == 0
    assert await count(maker, Beneficiary, id=person) == 1


async def test_a_line_cut_short_by_a_crash_is_ignored_and_the_next_line_is_whole(
    engine: AsyncEngine, maker: Maker, crypto: Crypto, ledger: ErasureLedger
) -> None:
    person = await person_with_everything(maker, crypto, 720_009)
    ledger.path.write_text("2026-12-07T09:50:12.123456Z intent 0b9b6c1e-6a3c")
    assert await start(engine, maker, crypto, ledger) == 0
    await erase(maker, crypto, person)
    lines = ledger.path.read_text().splitlines()
    assert lines[0] == "2026-12-07T09:50:12.123456Z intent 0b9b6c1e-6a3c torn"
    assert all(LINE.fullmatch(line) for line in lines[1:])
    assert len(ledger.entries()) == 2


async def test_a_damaged_ledger_stops_the_start_with_one_sentence(
    engine: AsyncEngine, maker: Maker, crypto: Crypto, ledger: ErasureLedger
) -> None:
    ledger.path.write_text(
        "2026-12-07T09:50:12.123456Z done 0b9b6c1e-6a3c-4f0e-9a51-3f6ad1f2c0d4 request\nLeyla\n"
    )
    with pytest.raises(SettingsError) as raised:
        await start(engine, maker, crypto, ledger)
    assert str(raised.value) == (
        f"Line 2 of the erasure ledger {ledger.path} is not an erasure record: restore the file from "
        "its own backup (docs/DATA-PROTECTION.md, the erasure ledger)."
    )


async def test_a_missing_ledger_is_made_for_a_new_database_and_an_error_once_one_was_used(
    engine: AsyncEngine, maker: Maker, crypto: Crypto, ledger: ErasureLedger, caplog: pytest.LogCaptureFixture
) -> None:
    # An installation from before the ledger, which has erased people: a ledger is made, and the
    # operator told that earlier erasures are not in it.
    ledger.path.unlink()
    await erase(create_sessionmaker(engine), crypto, await person_with_everything(maker, crypto, 720_010))
    await open_ledger(engine, ledger)
    assert ledger.exists() and ledger.path.read_text() == ""
    assert stat.S_IMODE(ledger.path.stat().st_mode) == 0o600
    assert "erasures made before it are not in it" in caplog.text
    await open_ledger(engine, ledger)  # there: nothing to say
    ledger.path.unlink()
    with pytest.raises(SettingsError) as raised:
        await open_ledger(engine, ledger)
    assert str(raised.value) == ledger_missing(ledger)
    assert not ledger.exists()  # not made anew: the lost one's lines would be missing from it


async def test_an_unreadable_ledger_stops_the_start(
    engine: AsyncEngine, ledger: ErasureLedger, tmp_path: Path
) -> None:
    ledger.path.unlink()
    ledger.path.mkdir()
    with pytest.raises(SettingsError, match="cannot be read and written"):
        await open_ledger(engine, ledger)
    if os.geteuid() != 0:  # root reads whatever the permissions say
        other = ErasureLedger(tmp_path / "locked")
        other.create()
        other.path.chmod(0)
        with pytest.raises(SettingsError, match="cannot be read and written"):
            await open_ledger(engine, other)


def test_what_a_start_says_counts_people_and_names_no_one() -> None:
    assert erased_again(0) == "No one the erasure ledger names is in the database: nothing was erased again."
    assert erased_again(1).startswith("Erased again 1 person whom")
    assert erased_again(3).startswith("Erased again 3 people whom")


def test_a_plain_session_writes_its_lines_as_an_async_one_does(tmp_path: Path) -> None:
    ledger = ErasureLedger(tmp_path / "erasure-ledger")
    ledger.create()
    person = uuid.uuid4()
    engine = create_engine("sqlite://")
    with Session(engine, info=ledger_info(ledger)) as session:
        note_erased(session, person, "retention")
        session.commit()
    engine.dispose()
    assert [(entry.state, entry.person, entry.reason) for entry in ledger.entries()] == [
        (INTENT, person, "retention"),
        (DONE, person, "retention"),
    ]
