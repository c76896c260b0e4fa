"""Per-person keys: each person's values sealed under their own key, read by any process that holds
the master key, moved onto it from the master key by rotation, and unreadable everywhere once the
person is erased (crypto-shredding)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections import OrderedDict
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, literal_column, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, aliased

from programme.feedback import Kind
from storage import person_keys, plan
from storage.casework import add_closure
from storage.crypto import PERSON_KEYS, Crypto, DecryptionError, MissingPersonKey, PersonKeys, owner_of
from storage.erasure import clear_logs_if_erased, erase_person
from storage.feedback import add_feedback
from storage.journey import add_case_message, add_data_request, ensure_case, save_form_response
from storage.models import Beneficiary, Case, FormResponse, utcnow
from storage.models_keys import PersonKey
from storage.queries import get_or_create_beneficiary
from storage.retention import place_hold
from storage.rotation import rotate_keys
from storage.schema import ENCRYPTED_MODELS
from storage.sealing import seal, unseal

Maker = async_sessionmaker[AsyncSession]


async def person_with_everything(sessionmaker: Maker, crypto: Crypto, telegram_id: int) -> uuid.UUID:
    """A person with a name, answers, a message, a request, a plan need and a closing."""
    async with sessionmaker() as session, session.begin():
        beneficiary = await get_or_create_beneficiary(session, crypto, telegram_id=telegram_id)
        seal(crypto, beneficiary, "name_enc", "Leyla Mammadova")
        case = await ensure_case(session, beneficiary=beneficiary)
        await save_form_response(
            session, crypto, case=case, form_id="screening", form_version=1, answers={"city": "Baku"}
        )
        await add_case_message(
            session, crypto, case=case, direction="in", kind="text", body={"text": "salam"}
        )
        await add_data_request(
            session, crypto, beneficiary=beneficiary, case=case, kind="correct", details={}
        )
        await plan.add_need(
            session, crypto, case=case, text="a course", staff_id=None, at=utcnow(), via="chat"
        )  # type: ignore[arg-type]
        await add_closure(
            session, crypto, case=case, reason="moved", details="left", staff_id=None, at=utcnow()
        )  # type: ignore[arg-type]
        return beneficiary.id


async def sealed_values(sessionmaker: Maker) -> dict[str, list[bytes]]:
    """Every sealed value in the database, by table."""
    found: dict[str, list[bytes]] = {}
    async with sessionmaker() as session:
        for model in ENCRYPTED_MODELS:
            table = model.__table__
            columns = [table.c[name] for name in model.__encrypted__]
            for row in (await session.execute(select(*columns))).all():
                found.setdefault(table.name, []).extend(value for value in row if value is not None)
    return found


async def as_before_person_keys(sessionmaker: Maker, crypto: Crypto) -> None:
    """As an installation from before per-person keys left it: every value about a person under
    the master key, and no person key."""
    async with sessionmaker() as session, session.begin():
        for model in ENCRYPTED_MODELS:
            if model.__owner__ is None:
                continue
            for row in (await session.execute(select(model))).scalars():
                for column in model.__encrypted__:
                    if (blob := getattr(row, column)) is not None:
                        where = {"table": model.__tablename__, "column": column, "row": str(row.id)}
                        setattr(row, column, crypto.encrypt(crypto.decrypt_bytes(blob, **where), **where))
        for key in (await session.execute(select(PersonKey))).scalars().all():
            await session.delete(key)
            PERSON_KEYS.forget(key.id)


async def test_every_value_about_a_person_is_under_their_own_key_and_only_their_key_under_the_master(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    person = await person_with_everything(sessionmaker, crypto, 700_001)
    values = await sealed_values(sessionmaker)
    for table in (
        "beneficiaries",
        "form_responses",
        "case_messages",
        "data_requests",
        "plan_needs",
        "case_closures",
    ):
        assert values[table], table
        assert {owner_of(blob) for blob in values[table]} == {person}, table
    assert [owner_of(blob) for blob in values["person_keys"]] == [None]  # wrapped by the master key


async def test_a_process_that_holds_no_key_yet_reads_them_through_any_query(
    sessionmaker: Maker, crypto: Crypto, data_key: bytes
) -> None:
    person = await person_with_everything(sessionmaker, crypto, 700_002)
    fresh = Crypto([data_key])
    PERSON_KEYS.forget(person)  # as a process that never read them
    async with sessionmaker() as session:
        # Plain columns (no model instance) are looked at too.
        answers = (await session.execute(select(FormResponse.id, FormResponse.answers_enc))).one()
        assert person in PERSON_KEYS
    assert fresh.decrypt(answers.answers_enc, table="form_responses", column="answers_enc", row=answers.id)
    PERSON_KEYS.forget(person)
    async with sessionmaker() as session:
        beneficiary = await session.get(Beneficiary, person)
        assert beneficiary is not None and unseal(fresh, beneficiary, "name_enc") == "Leyla Mammadova"


async def test_a_master_key_that_did_not_wrap_their_key_reads_nothing(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    person = await person_with_everything(sessionmaker, crypto, 700_003)
    stranger = Crypto([os.urandom(32)])
    async with sessionmaker() as session:
        beneficiary = await session.get(Beneficiary, person)
        assert beneficiary is not None
        with pytest.raises(DecryptionError):
            unseal(stranger, beneficiary, "name_enc")


async def test_after_erasure_a_copy_of_their_values_no_longer_opens_anywhere(
    sessionmaker: Maker, crypto: Crypto, data_key: bytes
) -> None:
    person = await person_with_everything(sessionmaker, crypto, 700_004)
    async with sessionmaker() as session:
        backup = (
            await session.execute(select(Beneficiary.name_enc).where(Beneficiary.id == person))
        ).scalar_one()
    async with sessionmaker() as session, session.begin():
        await erase_person(session, crypto, beneficiary_id=person, reason="request", actor="test")
    async with sessionmaker() as session:
        assert await session.get(PersonKey, person) is None
    assert person not in PERSON_KEYS
    # The copy (a backup, a dead tuple), read back through a session as a restore would: no key.
    for reader in (crypto, Crypto([data_key])):
        with pytest.raises(DecryptionError):
            reader.decrypt(backup, table="beneficiaries", column="name_enc", row=str(person))


async def test_writing_for_a_case_whose_person_key_is_not_held_is_refused_not_sealed_under_the_master(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    from storage.models_plan import PlanNeed

    need = PlanNeed(case_id=uuid.uuid4(), rank=1)
    with pytest.raises(MissingPersonKey):
        seal(crypto, need, "text_enc", "a course")


async def test_rotation_moves_values_from_before_per_person_keys_onto_a_new_key_of_their_own(
    sessionmaker: Maker, crypto: Crypto, data_key: bytes
) -> None:
    person = await person_with_everything(sessionmaker, crypto, 700_005)
    await as_before_person_keys(sessionmaker, crypto)
    assert {owner_of(blob) for values in (await sealed_values(sessionmaker)).values() for blob in values} == {
        None
    }

    report = await rotate_keys(sessionmaker, Crypto([data_key]))
    assert report.rows_rewritten["beneficiaries"] == report.rows_rewritten["form_responses"] == 1
    values = await sealed_values(sessionmaker)
    for table in (
        "beneficiaries",
        "form_responses",
        "case_messages",
        "data_requests",
        "plan_needs",
        "case_closures",
    ):
        assert {owner_of(blob) for blob in values[table]} == {person}, table
    async with sessionmaker() as session:
        assert await session.get(PersonKey, person) is not None
        beneficiary = await session.get(Beneficiary, person)
        assert beneficiary is not None and unseal(crypto, beneficiary, "name_enc") == "Leyla Mammadova"
    again = await rotate_keys(sessionmaker, Crypto([data_key]))
    assert sum(again.rows_rewritten.values()) == 0


async def anonymous_feedback(sessionmaker: Maker, crypto: Crypto, count: int) -> None:
    async with sessionmaker() as session, session.begin():
        for n in range(count):
            await add_feedback(
                session,
                crypto,
                beneficiary=None,
                kind=Kind.THANKS,
                language="en",
                medium="text",
                body={"text": f"thanks {n}"},
                urgent=False,
                answer_due=dt.timedelta(days=7),
            )


async def test_rotation_in_small_batches_reads_each_row_once_and_reports_what_it_rewrote(
    sessionmaker: Maker, crypto: Crypto, data_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = [await person_with_everything(sessionmaker, crypto, 700_010 + n) for n in range(5)]
    await as_before_person_keys(sessionmaker, crypto)
    # Four people since, with their keys (under the old master key) and their values under them.
    people += [await person_with_everything(sessionmaker, crypto, 700_020 + n) for n in range(4)]
    ring = Crypto([os.urandom(32), data_key])
    # Anonymous feedback has no person: under the master key, the old one (rewritten) and the
    # newest (read by every pass, left as it is).
    await anonymous_feedback(sessionmaker, crypto, 2)
    await anonymous_feedback(sessionmaker, ring, 3)
    # A legal hold's reason is under the master key, and read only when under an older one.
    await hold(sessionmaker, crypto, people[:1])
    await hold(sessionmaker, ring, people[1:3])

    # As `intake rotate-keys` starts: a process that has not seen whose these cases are.
    monkeypatch.setattr(PERSON_KEYS, "_case_owners", OrderedDict())
    report = await rotate_keys(sessionmaker, ring, batch_size=3)
    # The five from before are read and moved onto keys of their own (made under the newest key);
    # the four keys made since are rewrapped, their values not even read. Every person's lookup
    # hash is recomputed.
    legacy = ("case_closures", "case_messages", "data_requests", "form_responses")
    tables = ("beneficiaries", *legacy, "feedback", "legal_holds", "person_keys")
    assert {table: report.rows_seen[table] for table in tables} == {
        "beneficiaries": 9,
        **dict.fromkeys(legacy, 5),
        "feedback": 5,
        "legal_holds": 1,
        "person_keys": 4,
    }
    assert {table: report.rows_rewritten[table] for table in tables} == {
        "beneficiaries": 9,
        **dict.fromkeys(legacy, 5),
        "feedback": 2,
        "legal_holds": 1,
        "person_keys": 4,
    }
    values = await sealed_values(sessionmaker)
    for table in ("beneficiaries", *legacy):
        assert {owner_of(blob) for blob in values[table]} == set(people), table
    assert [ring.key_id_of(blob) for blob in values["person_keys"]] == [ring.current_key_id] * 9
    feedback = [ring.key_id_of(blob) for blob in values["feedback"]]
    assert feedback == [ring.current_key_id] * 5

    again = await rotate_keys(sessionmaker, ring, batch_size=3)
    assert sum(again.rows_rewritten.values()) == 0
    assert again.rows_seen["feedback"] == 5  # all under the newest master key now: read again, left
    assert again.rows_seen["form_responses"] == again.rows_seen["case_messages"] == 0
    assert again.rows_seen["legal_holds"] == 0


TABLES = ("beneficiaries", "feedback", "person_keys")


async def test_rotation_with_more_rows_than_its_default_batch_reads_them_all(
    sessionmaker: Maker, crypto: Crypto, data_key: bytes
) -> None:
    async with sessionmaker() as session, session.begin():
        for n in range(501):
            await get_or_create_beneficiary(session, crypto, telegram_id=800_000 + n)
    await anonymous_feedback(sessionmaker, crypto, 501)
    report = await rotate_keys(sessionmaker, Crypto([os.urandom(32), data_key]))
    # Their keys rewrapped, their lookup hashes recomputed, the feedback resealed: every row.
    assert {
        table: (report.rows_seen[table], report.rows_rewritten[table]) for table in TABLES
    } == dict.fromkeys(TABLES, (501, 501))


async def hold(sessionmaker: Maker, crypto: Crypto, people: list[uuid.UUID]) -> None:
    """Each person's case on legal hold, its reason sealed by `crypto`."""
    async with sessionmaker() as session, session.begin():
        for person in people:
            case = (await session.execute(select(Case).where(Case.beneficiary_id == person))).scalar_one()
            await place_hold(
                session,
                crypto,
                case=case,
                reason="a court asked for the file",
                review_on=dt.date(2027, 1, 1),
                staff_id=None,
                actor="test",
                now=utcnow(),
            )


async def test_a_person_from_before_per_person_keys_is_given_one_when_first_written_for(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    async with sessionmaker() as session, session.begin():
        beneficiary = Beneficiary(telegram_hash="legacy", telegram_id_enc=b"")
        session.add(beneficiary)
        await session.flush()
        await person_keys.load(session, crypto, [beneficiary.id])
        seal(crypto, beneficiary, "name_enc", "Ahmad")
    async with sessionmaker() as session:
        assert await session.get(PersonKey, beneficiary.id) is not None


async def test_on_postgresql_the_erased_key_leaves_no_dead_tuple_in_the_tables_files(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    person = await person_with_everything(sessionmaker, crypto, 700_006)
    async with sessionmaker() as session:
        if session.bind.dialect.name != "postgresql":
            pytest.skip("SQLite overwrites deleted rows in place (secure_delete)")
        before = (await session.execute(text("SELECT pg_relation_filenode('person_keys')"))).scalar_one()
    async with sessionmaker() as session:
        async with session.begin():
            await erase_person(session, crypto, beneficiary_id=person, reason="request", actor="test")
        await clear_logs_if_erased(session)
    async with sessionmaker() as session:
        after = (await session.execute(text("SELECT pg_relation_filenode('person_keys')"))).scalar_one()
    assert after != before  # rewritten: the old file, with the deleted key's tuple, is gone


def test_a_held_key_is_dropped_after_its_time_so_another_processs_erasure_reaches_this_one() -> None:
    now = [1000.0]
    keys = PersonKeys(max_age=600, clock=lambda: now[0])
    person, wrapped_by = uuid.uuid4(), b"k" * 4
    keys.remember(person, os.urandom(32), wrapped_by=wrapped_by)
    now[0] += 599
    held = keys.get(person)
    assert held is not None and held[1] == wrapped_by
    aead, nonce = AESGCM(held[0]), os.urandom(12)
    assert aead.decrypt(nonce, aead.encrypt(nonce, b"Leyla", b""), b"") == b"Leyla"
    # Used or not, it is read again from person_keys after its time, where an erased one is gone.
    now[0] += 2
    assert person not in keys and keys.get(person) is None


@pytest.mark.parametrize(
    ("statement", "looked_at"),
    [
        (lambda: select(Case.id, Case.stage), False),
        (lambda: select(Case), False),  # an entity with no sealed column
        (lambda: select(func.count()).select_from(Beneficiary), False),
        (lambda: select(Beneficiary.id, Beneficiary.created_at), False),
        (lambda: select(Beneficiary), True),
        (lambda: select(aliased(Beneficiary)), True),
        (lambda: select(Case.code, FormResponse.answers_enc).join(Case), True),
        (lambda: select(func.max(FormResponse.answers_enc)), True),
        (lambda: select(FormResponse.__table__), True),
        (lambda: select(literal_column("x")), True),  # untyped: may be anything
        (lambda: union_all(select(Case.id), select(Case.id)), True),  # another shape: assumed to
    ],
)
def test_a_select_is_looked_at_only_when_it_can_bring_back_a_sealed_value(
    statement: Any, looked_at: bool
) -> None:
    assert person_keys.reads_sealed(statement()) is looked_at
    assert person_keys.reads_sealed(statement()) is looked_at  # decided again from what it kept


def test_every_sealed_column_about_a_person_is_looked_at_and_none_under_the_master_key() -> None:
    for model in ENCRYPTED_MODELS:
        about_a_person = model.__owner__ is not None
        assert person_keys.reads_sealed(select(model)) is about_a_person, model.__tablename__
        for column in model.__encrypted__:
            looked_at = person_keys.reads_sealed(select(getattr(model, column)))
            assert looked_at is about_a_person, (model.__tablename__, column)
    assert not person_keys.reads_sealed(select(PersonKey.id, PersonKey.wrapped))  # the rotation's read


async def test_a_select_of_nothing_sealed_runs_untouched_and_one_of_sealed_values_loads_keys(
    sessionmaker: Maker, crypto: Crypto, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = await person_with_everything(sessionmaker, crypto, 700_007)
    invoked = []
    invoke = ORMExecuteState.invoke_statement

    def counted(state: ORMExecuteState, *args: Any, **kwargs: Any) -> Any:
        invoked.append(state.statement)
        return invoke(state, *args, **kwargs)

    monkeypatch.setattr(ORMExecuteState, "invoke_statement", counted)
    PERSON_KEYS.forget(person)
    async with sessionmaker() as session:
        case = (await session.execute(select(Case).where(Case.beneficiary_id == person))).scalar_one()
        assert (await session.execute(select(Case.code).where(Case.id == case.id))).scalar_one() == case.code
        assert invoked == [] and person not in PERSON_KEYS
        beneficiary = await session.get(Beneficiary, person)
        assert len(invoked) == 1 and person in PERSON_KEYS
        assert beneficiary is not None and unseal(crypto, beneficiary, "name_enc") == "Leyla Mammadova"
