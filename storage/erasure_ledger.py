"""The erasure ledger: a file outside the database that lists who was erased, so that a backup taken
before an erasure, once restored, is erased again (`reapply`).

A backup made before someone's erasure still holds their wrapped data key beside their values: the
database alone cannot know, once restored, that they were erased since. The ledger can, because it
is not restored with the database. Each line is one person's erasure, by their random id (the id of
their beneficiary row, which is also the id of their key in `person_keys`), with its time and
reason: nothing that identifies anyone (no name, phone, chat or case code), so it is kept forever.

    2026-12-07T09:50:12.123456Z intent 0b9b6c1e-6a3c-4f0e-9a51-3f6ad1f2c0d4 request
    2026-12-07T09:50:12.140021Z done 0b9b6c1e-6a3c-4f0e-9a51-3f6ad1f2c0d4 request

A session that erased someone (storage.erasure.erase_person) writes an `intent` line just before its
commit and a `done` line just after, each appended in one write and flushed to the disk (fsync). A
crash between the commit and the `done` line leaves the intent alone; a failed commit too (whether
the database committed is then not known). Replay treats every line alike: whoever it names and is
still in the database is erased again. An intent whose commit did not happen thus erases the person
at the next start, which is what was decided: their erasure was asked for (or their retention period
was over) and a commit was attempted. If the intent line cannot be written, the commit is refused
(the erasure is not carried out, and is tried again as any failed erasure is): an erasure the ledger
does not know about would come back with the next restore.

Sessions write to the ledger their sessionmaker names (`ledger_info`); a session without one (tests,
tools) writes none.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.util.concurrency import await_only, in_greenlet

from storage.models import Beneficiary

log = logging.getLogger(__name__)

INTENT, DONE = "intent", "done"
# Ends a line a crash cut short (while writing an intent: its commit was never attempted).
TORN = "torn"
# session.info: the ledger the session's erasures go to, and the people it erased, not yet committed.
_LEDGER = "intake_erasure_ledger"
_PENDING = "intake_erasures_pending"
# How many ids one query looks for when the ledger is read against the database.
LOOKUP_BATCH = 500


class LedgerError(Exception):
    """The ledger cannot be read or written; the message is one sentence for an operator."""


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    state: str
    person: uuid.UUID
    reason: str


def _format(at: dt.datetime, state: str, person: uuid.UUID, reason: str) -> str:
    stamp = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{stamp} {state} {person} {reason}\n"


def _parse(line: str) -> Entry:
    stamp, state, person, reason = line.split(" ")
    if state not in (INTENT, DONE) or not reason.isidentifier():
        raise ValueError(line)
    at = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    return Entry(at, state, uuid.UUID(person), reason)


class ErasureLedger:
    """The append-only file at `path` (INTAKE_ERASURE_LEDGER)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        return self.path.exists()

    def create(self) -> None:
        """An empty ledger (a new installation), readable by its owner alone, its folder made too."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
        _sync_folder(self.path.parent)

    def append(self, state: str, people: Sequence[tuple[uuid.UUID, str]], *, at: dt.datetime) -> None:
        """One line a person, in one write, on the disk when this returns."""
        if not people:
            return
        text = "".join(_format(at, state, person, reason) for person, reason in people)
        try:
            # Not made here: a ledger gone while the processes run was lost (moved, deleted), and a
            # new one would hide that its lines are missing. The erasure waits; the next start
            # says what to do.
            descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND)
            try:
                size = os.fstat(descriptor).st_size
                # A line cut short by a crash is marked and ended, so the next one is whole.
                if size and os.pread(descriptor, 1, size - 1) != b"\n":
                    text = f" {TORN}\n{text}"
                data = memoryview(text.encode("ascii"))
                while data:
                    data = data[os.write(descriptor, data) :]
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        except OSError as error:
            why = error.strerror or type(error).__name__
            raise LedgerError(
                f"The erasure ledger {self.path} cannot be written ({why}): "
                "check INTAKE_ERASURE_LEDGER, the disk and the file's owner."
            ) from None

    def entries(self) -> list[Entry]:
        """Every line; a line cut short by a crash (the last, or one marked `torn`) is left out: its
        commit was never attempted."""
        return self.read()[0]

    def read(self, after: Position | None = None) -> tuple[list[Entry], Position]:
        """The lines after `after` (every line, if `after` is not a place in this file: the line
        before it is not the one it names), and the place this read reached."""
        try:
            with self.path.open("rb") as file:
                start = (
                    after.offset
                    if after is not None and _line_before(file, after.offset) == after.digest
                    else 0
                )
                file.seek(start)
                data = file.read()
            text = data.decode("ascii")
        except FileNotFoundError:
            raise LedgerError(
                f"The erasure ledger {self.path} does not exist: check INTAKE_ERASURE_LEDGER."
            ) from None
        except (OSError, UnicodeDecodeError) as error:
            why = getattr(error, "strerror", None) or type(error).__name__
            raise LedgerError(
                f"The erasure ledger {self.path} cannot be read ({why}): "
                "check INTAKE_ERASURE_LEDGER and the file's owner and permissions."
            ) from None
        lines = text.split("\n")
        complete, cut = lines[:-1], lines[-1]
        if cut:
            log.warning("the erasure ledger's last line is incomplete (a crash while writing it); ignored")
        found = []
        for number, line in enumerate(complete, start=1):
            if not line or line.endswith(f" {TORN}"):
                continue
            try:
                found.append(_parse(line))
            except ValueError:
                where = f"Line {number}" if start == 0 else f"A line (byte {start} on)"
                raise LedgerError(
                    f"{where} of the erasure ledger {self.path} is not an erasure record: restore "
                    "the file from its own backup (docs/DATA-PROTECTION.md, the erasure ledger)."
                ) from None
        if not complete:
            reached = after if start and after is not None else Position(0, _digest(b""))
        else:
            reached = Position(start + len(data) - len(cut), _digest(complete[-1].encode("ascii")))
        return found, reached

    def name(self) -> str | None:
        """What tells this ledger from another (each machine keeps its own): the digest of its first
        line, which no other ledger has; None while it is empty."""
        try:
            with self.path.open("rb") as file:
                first = file.readline()
        except OSError:
            return None
        return _digest(first[:-1]) if first.endswith(b"\n") else None

    def people(self, after: Position | None = None) -> tuple[dict[uuid.UUID, str], Position]:
        """Everyone the ledger names (after `after`), with the reason of their last erasure, and the
        place the read reached."""
        entries, reached = self.read(after)
        return {entry.person: entry.reason for entry in entries}, reached


@dataclass(frozen=True)
class Position:
    """A place in a ledger: the byte after a whole line, and that line's digest (another file, or
    this one restored from an older copy, does not have the same line there). A database keeps, for
    each ledger, the place up to which it was last checked against it (storage.ops.replayed): a
    restored backup brings back its own, older place, so what was erased since is read again."""

    offset: int
    digest: str

    def text(self) -> str:
        return f"{self.offset} {self.digest}"

    @classmethod
    def parse(cls, text: str | None) -> Position | None:
        offset, _, digest = (text or "").partition(" ")
        return cls(int(offset), digest) if offset.isdigit() and digest else None


def _digest(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()[:32]


# A line is shorter than this (a time, a state, an id and a reason that is a short identifier).
_LONGEST_LINE = 512


def _line_before(file: BinaryIO, offset: int) -> str | None:
    """The digest of the whole line that ends just before `offset` (None if none does there)."""
    if offset <= 0:
        return _digest(b"") if offset == 0 else None
    file.seek(0, os.SEEK_END)
    if offset > file.tell():
        return None
    begin = max(0, offset - _LONGEST_LINE)
    file.seek(begin)
    chunk = file.read(offset - begin)
    if not chunk.endswith(b"\n"):
        return None
    line = chunk[:-1].rsplit(b"\n", 1)[-1]
    return _digest(line)


def _sync_folder(folder: Path) -> None:
    """The folder's entry for a new file on the disk too, so a crash does not lose the file."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def ledger_info(ledger: ErasureLedger | None) -> dict[str, Any]:
    """What a sessionmaker gives its sessions (`info=`) so that their erasures are written to `ledger`."""
    return {} if ledger is None else {_LEDGER: ledger}


def note_erased(session: AsyncSession | Session, person: uuid.UUID, reason: str) -> None:
    """`person` is erased in this session's transaction: the ledger hears of it at its commit."""
    session.info.setdefault(_PENDING, []).append((person, reason if reason.isidentifier() else "other"))


def _pending(session: Session) -> tuple[ErasureLedger | None, list[tuple[uuid.UUID, str]]]:
    return session.info.get(_LEDGER), session.info.get(_PENDING, [])


def _append(ledger: ErasureLedger, state: str, people: list[tuple[uuid.UUID, str]]) -> None:
    """Appended and on the disk; an async session's event loop goes on meanwhile (the fsync runs in
    a thread; the commit waits for it)."""
    at = dt.datetime.now(dt.UTC)
    if in_greenlet():
        await_only(asyncio.to_thread(ledger.append, state, people, at=at))
    else:
        ledger.append(state, people, at=at)


@event.listens_for(Session, "before_commit")
def _intent(session: Session) -> None:
    ledger, people = _pending(session)
    if ledger is not None and people:
        _append(ledger, INTENT, people)


@event.listens_for(Session, "after_commit")
def _done(session: Session) -> None:
    ledger, people = _pending(session)
    session.info.pop(_PENDING, None)
    if ledger is None or not people:
        return
    try:
        _append(ledger, DONE, people)
    except LedgerError as error:
        # Committed, and the intent lines are written: replay reads them alike.
        log.warning("%s", error)


@event.listens_for(Session, "after_soft_rollback")
def _abandoned(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


async def present(maker: async_sessionmaker[AsyncSession], people: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """Those of `people` who have a beneficiary row (a restored backup still holds them)."""
    wanted = sorted(people)
    found: list[uuid.UUID] = []
    async with maker() as session:
        for start in range(0, len(wanted), LOOKUP_BATCH):
            chunk = wanted[start : start + LOOKUP_BATCH]
            statement = select(Beneficiary.id).where(Beneficiary.id.in_(chunk))
            found.extend((await session.execute(statement)).scalars())
    return sorted(found)
