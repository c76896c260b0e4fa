"""What an erasure reaches: the person's rows, tombstones for their cases (with the date each closed)
and the exports made while they were on file, and nothing of anyone else; and what shows that
someone was erased."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import erasure
from storage.erasure import ERASURE, erase_person, has_erased_anyone
from storage.erasure_ledger import DONE, ErasureLedger
from storage.inbound import CHAT_PURPOSE
from storage.journey import ensure_case
from storage.models import AuditEntry, Beneficiary, Case, utcnow
from storage.models_casework import CaseClosure
from storage.models_erasure import CaseTombstone
from storage.models_figures import FullExport
from storage.models_staff_link import STAFF_CHAT_PURPOSE, StaffLinkFailure
from storage.models_webhook import InboundUpdate
from storage.schema import Base
from tests.storage.test_person_keys import person_with_everything

Maker = async_sessionmaker[AsyncSession]
PEOPLE_BY_ID = ("person_keys", "beneficiaries", "dialog_states")


def owned_by(name: str, people: set[uuid.UUID], cases: set[uuid.UUID]) -> Any:
    """The condition on an erased table's rows that are about these people, or None when its rows
    are found another way (by appointment, by chat hash, by date)."""
    table = Base.metadata.tables[name]
    if name in PEOPLE_BY_ID:
        return table.c.id.in_(people)
    if "beneficiary_id" in table.c:
        return table.c.beneficiary_id.in_(people)
    if "case_id" in table.c:
        return table.c.case_id.in_(cases)
    return None


async def rows_of(maker: Maker, people: set[uuid.UUID]) -> dict[str, int]:
    """How many rows of each erased table are about these people."""
    async with maker() as session:
        cases = set((await session.execute(select(Case.id).where(Case.beneficiary_id.in_(people)))).scalars())
        found = {}
        for name, _ in ERASURE:
            condition = owned_by(name, people, cases)
            if condition is not None:
                table = Base.metadata.tables[name]
                count = select(func.count()).select_from(table).where(condition)
                found[name] = int((await session.execute(count)).scalar_one())
        return found


async def test_an_erasure_reaches_the_persons_rows_and_no_one_elses(sessionmaker: Maker, crypto: Any) -> None:
    # Three people; the one erased is the middle one by id, so a delete that compared ids instead of
    # matching them would reach someone on either side.
    people = sorted([await person_with_everything(sessionmaker, crypto, 730_000 + n) for n in range(3)])
    erased, others = people[1], {people[0], people[2]}
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Case).where(Case.beneficiary_id == erased).values(stage="closed"))
        case = (await session.execute(select(Case).where(Case.beneficiary_id == erased))).scalar_one()
        closed_at = (
            await session.execute(select(CaseClosure.closed_at).where(CaseClosure.case_id == case.id))
        ).scalar_one()
    theirs = await rows_of(sessionmaker, {erased})
    kept = await rows_of(sessionmaker, others)
    for name in ("person_keys", "beneficiaries", "cases", "form_responses", "case_messages", "case_closures"):
        assert theirs[name] == 1 and kept[name] == 2, name

    async with sessionmaker() as session, session.begin():
        codes = await erase_person(session, crypto, beneficiary_id=erased, reason="request", actor="test")

    assert codes == [case.code]
    assert set((await rows_of(sessionmaker, {erased})).values()) == {0}
    assert await rows_of(sessionmaker, others) == kept
    async with sessionmaker() as session:
        [tombstone] = (await session.execute(select(CaseTombstone))).scalars()
        audit = (await session.execute(select(AuditEntry.action, AuditEntry.object_id))).all()
    assert (tombstone.code, tombstone.reason) == (case.code, "request")
    assert tombstone.opened_at == case.created_at
    assert tombstone.closed_at == closed_at  # the date it closed outlives the case
    assert [tuple(entry) for entry in audit if entry.action == "beneficiary.erased"] == [
        ("beneficiary.erased", case.code)
    ]


# The purge erases without the data keys (it unseals nothing): then no chat's hash is made and the
# tables found by one are left to their own retention, and the rest must go all the same.
@pytest.mark.parametrize("with_keys", [True, False], ids=["with the keys", "without, as the purge"])
async def test_the_exports_made_while_they_were_on_file_are_erased_with_them(
    sessionmaker: Maker, crypto: Any, with_keys: bool
) -> None:
    person = await person_with_everything(sessionmaker, crypto, 731_000)
    async with sessionmaker() as session:
        beneficiary = await session.get(Beneficiary, person)
        assert beneficiary is not None
        came = beneficiary.created_at
    second = dt.timedelta(seconds=1)
    exports = {when: uuid.uuid4() for when in (came - second, came, came + second)}
    async with sessionmaker() as session, session.begin():
        for when, export_id in exports.items():
            await session.execute(
                insert(FullExport).values(
                    id=export_id,
                    reason_enc=b"sealed",
                    file_name="export.zip",
                    created_at=when,
                    expires_at=when + dt.timedelta(days=1),
                )
            )
    async with sessionmaker() as session, session.begin():
        keys = crypto if with_keys else None
        await erase_person(session, keys, beneficiary_id=person, reason="request", actor="test")
    async with sessionmaker() as session:
        assert await session.get(Beneficiary, person) is None
        left = set((await session.execute(select(FullExport.id))).scalars())
        audited = set(
            (
                await session.execute(
                    select(AuditEntry.object_id).where(AuditEntry.action == "full_export.erased")
                )
            ).scalars()
        )
    assert left == {exports[came - second]}  # made before they were on file: it cannot hold them
    assert audited == {str(exports[came]), str(exports[came + second])}


async def test_a_tombstone_or_an_erasure_in_the_audit_log_shows_someone_was_erased(
    sessionmaker: Maker,
) -> None:
    async with sessionmaker() as session:
        assert await has_erased_anyone(session) is False
    async with sessionmaker() as session, session.begin():
        for action in ("appointment.booked", "case.viewed", "beneficiary.exported"):  # around it, by text
            session.add(AuditEntry(actor="t", action=action, object_type="case", object_id="IP-1"))
    async with sessionmaker() as session:
        assert await has_erased_anyone(session) is False
    async with sessionmaker() as session, session.begin():
        session.add(AuditEntry(actor="t", action="beneficiary.erased", object_type="case", object_id="IP-2"))
    async with sessionmaker() as session:
        assert await has_erased_anyone(session) is True
    async with sessionmaker() as session, session.begin():
        await session.execute(AuditEntry.__table__.delete())
        session.add(CaseTombstone(code="IP-3", opened_at=utcnow(), erased_at=utcnow(), reason="request"))
    async with sessionmaker() as session:
        assert await has_erased_anyone(session) is True


async def test_their_chats_queued_updates_and_failed_link_codes_go_found_by_its_keyed_hash(
    sessionmaker: Maker, crypto: Any
) -> None:
    person = await person_with_everything(sessionmaker, crypto, 732_001)
    await person_with_everything(sessionmaker, crypto, 732_002)
    async with sessionmaker() as session, session.begin():
        for update_id, chat in enumerate((732_001, 732_002)):
            session.add(
                InboundUpdate(
                    bot_id=1,
                    update_id=update_id,
                    chat_hash=crypto.blind_index(CHAT_PURPOSE, str(chat)),
                    payload_enc=b"sealed",
                )
            )
            session.add(StaffLinkFailure(chat_hash=crypto.blind_index(STAFF_CHAT_PURPOSE, str(chat))))
    async with sessionmaker() as session, session.begin():
        await erase_person(session, crypto, beneficiary_id=person, reason="request", actor="test")
    async with sessionmaker() as session:
        queued = set((await session.execute(select(InboundUpdate.chat_hash))).scalars())
        failed = set((await session.execute(select(StaffLinkFailure.chat_hash))).scalars())
    assert queued == {crypto.blind_index(CHAT_PURPOSE, "732002")}
    assert failed == {crypto.blind_index(STAFF_CHAT_PURPOSE, "732002")}


async def test_their_rows_the_session_had_loaded_are_detached_from_it(
    sessionmaker: Maker, crypto: Any
) -> None:
    person = await person_with_everything(sessionmaker, crypto, 733_001)
    async with sessionmaker() as session, session.begin():
        beneficiary = await session.get(Beneficiary, person)
        case = (await session.execute(select(Case).where(Case.beneficiary_id == person))).scalar_one()
        audit = AuditEntry(actor="t", action="case.viewed", object_type="case", object_id=case.code)
        session.add(audit)
        await erase_person(session, crypto, beneficiary_id=person, reason="request", actor="test")
        assert beneficiary not in session and case not in session  # never written back
        assert audit in session  # not an erased table's


async def test_a_tombstone_a_restore_kept_stays_and_their_other_cases_get_theirs(
    sessionmaker: Maker, crypto: Any
) -> None:
    person = await person_with_everything(sessionmaker, crypto, 734_001)
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Case).values(stage="closed"))
        beneficiary = await session.get(Beneficiary, person)
        assert beneficiary is not None
        later = await ensure_case(session, beneficiary=beneficiary)
        first = (await session.execute(select(Case).where(Case.id != later.id))).scalar_one()
        # Erased before, then a backup from before that erasure restored: its tombstone was kept.
        session.add(
            CaseTombstone(code=first.code, opened_at=first.created_at, erased_at=utcnow(), reason="old")
        )
    async with sessionmaker() as session, session.begin():
        codes = await erase_person(session, crypto, beneficiary_id=person, reason="request", actor="test")
    async with sessionmaker() as session:
        tombstones = {
            row.code: row.reason for row in (await session.execute(select(CaseTombstone))).scalars()
        }
    assert sorted(codes) == sorted([first.code, later.code])
    assert tombstones == {first.code: "old", later.code: "request"}


async def test_erasing_again_goes_on_past_someone_already_gone(
    sessionmaker: Maker, crypto: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Another process may erase someone between the look-up and the lock: the rest still go."""
    gone, person = uuid.uuid4(), await person_with_everything(sessionmaker, crypto, 735_001)
    ledger = ErasureLedger(tmp_path / "erasure-ledger")
    ledger.create()
    ledger.append(DONE, [(gone, "request"), (person, "request")], at=dt.datetime.now(dt.UTC))

    async def present(maker: Maker, people: Any) -> list[uuid.UUID]:
        return [gone, person]  # as found before the other process erased `gone`

    monkeypatch.setattr(erasure.erasure_ledger, "present", present)
    assert await erasure.reapply(sessionmaker, crypto, ledger) == 1
    async with sessionmaker() as session:
        assert await session.get(Beneficiary, person) is None


async def test_the_database_files_are_cleared_after_a_session_that_erased_someone_only(
    sessionmaker: Maker, crypto: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cleared: list[object] = []

    async def clear_erased(bind: object) -> None:
        cleared.append(bind)

    monkeypatch.setattr(erasure, "clear_erased", clear_erased)
    person = await person_with_everything(sessionmaker, crypto, 736_001)
    async with sessionmaker() as session:
        async with session.begin():
            session.add(AuditEntry(actor="t", action="case.viewed", object_type="case", object_id="IP-1"))
        await erasure.clear_logs_if_erased(session)
    assert cleared == []
    async with sessionmaker() as session:
        async with session.begin():
            await erase_person(session, crypto, beneficiary_id=person, reason="request", actor="test")
        await erasure.clear_logs_if_erased(session)
        await erasure.clear_logs_if_erased(session)  # once per erasure, not per call
    assert len(cleared) == 1


def test_what_finds_the_people_erased_cannot_be_changed_once_made() -> None:
    people = erasure.People([uuid.uuid4()], utcnow(), [], [])
    with pytest.raises(dataclasses.FrozenInstanceError):
        people.ids = []  # type: ignore[misc]
