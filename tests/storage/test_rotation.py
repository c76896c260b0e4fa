"""Key rotation: after re-encryption under a new key, with the old key gone, every value reads."""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from outreach.campaigns import Segment, count_by_language
from storage import phone, staff, staff_link
from storage.crypto import PERSON_KEYS, Crypto
from storage.journey import ensure_case, save_form_response
from storage.models import Beneficiary, DialogState, FormResponse, utcnow
from storage.models_keys import PersonKey
from storage.models_staff_link import STAFF_CHAT_PURPOSE, StaffTelegramLink
from storage.queries import find_beneficiary, get_or_create_beneficiary
from storage.rotation import rotate_keys
from storage.sealing import seal, seal_json, unseal, unseal_json


async def seed(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, count: int) -> None:
    async with sessionmaker() as session, session.begin():
        for n in range(count):
            beneficiary = await get_or_create_beneficiary(session, crypto, telegram_id=100_000_000 + n)
            seal(crypto, beneficiary, "name_enc", f"Person {n}")
            state = DialogState(id=beneficiary.id, state="Journey:name")
            seal_json(crypto, state, "data_enc", {"token": "x", "n": n})
            session.add(state)
            case = await ensure_case(session, beneficiary=beneficiary)
            await save_form_response(
                session, crypto, case=case, form_id="screening", form_version=1, answers={"n": n}
            )


async def test_after_rotation_every_value_reads_with_only_the_new_key(
    sessionmaker: async_sessionmaker[AsyncSession], data_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = Crypto([data_key])
    await seed(sessionmaker, old, 7)
    new_key = os.urandom(32)
    ring = Crypto([new_key, data_key])

    report = await rotate_keys(sessionmaker, ring, batch_size=3)
    # Each person's key is rewrapped and their lookup hash recomputed; their values, sealed under
    # their own key, are not touched.
    assert report.rows_rewritten["person_keys"] == report.rows_rewritten["beneficiaries"] == 7
    assert report.rows_rewritten["form_responses"] == report.rows_rewritten["dialog_states"] == 0

    only_new = Crypto([new_key])
    # Read as another process would: each person's key unwrapped from the database, not held.
    monkeypatch.setattr(PERSON_KEYS, "_keys", OrderedDict())
    async with sessionmaker() as session:
        beneficiaries = (await session.execute(select(Beneficiary))).scalars().all()
        names = sorted(unseal(only_new, b, "name_enc") or "" for b in beneficiaries)
        assert names == sorted(f"Person {n}" for n in range(7))
        found = await find_beneficiary(session, only_new, telegram_id=100_000_003)
        assert found is not None and unseal(only_new, found, "name_enc") == "Person 3"
        answers = [
            unseal_json(only_new, r, "answers_enc")
            for r in (await session.execute(select(FormResponse))).scalars()
        ]
        assert sorted(a["n"] for a in answers) == list(range(7))
        states = [
            unseal_json(only_new, s, "data_enc")
            for s in (await session.execute(select(DialogState))).scalars()
        ]
        assert sorted(s["n"] for s in states) == list(range(7))


class Interrupted(Exception):
    """The rotation's process died."""


def dying_once(
    sessionmaker: async_sessionmaker[AsyncSession], ring: Crypto, *, after_rewrapped: int
) -> Callable[[], AsyncSession]:
    """A sessionmaker that fails (as a killed process would stop) the first time a batch is about
    to begin when `after_rewrapped` person keys are already under the newest master key."""

    async def rewrapped() -> int:
        async with sessionmaker() as session:
            wrapped = (await session.execute(select(PersonKey.wrapped))).scalars()
            return sum(ring.key_id_of(blob) == ring.current_key_id for blob in wrapped)

    class Dying(AsyncSession):
        async def __aenter__(self) -> AsyncSession:
            if await rewrapped() >= after_rewrapped:
                raise Interrupted
            return await super().__aenter__()

    return async_sessionmaker(sessionmaker.kw["bind"], class_=Dying, expire_on_commit=False)


async def test_an_interrupted_rotation_is_finished_by_running_it_again(
    sessionmaker: async_sessionmaker[AsyncSession], data_key: bytes
) -> None:
    await seed(sessionmaker, Crypto([data_key]), 4)
    new_key = os.urandom(32)
    ring = Crypto([new_key, data_key])
    with pytest.raises(Interrupted):
        await rotate_keys(dying_once(sessionmaker, ring, after_rewrapped=2), ring, batch_size=2)
    report = await rotate_keys(sessionmaker, ring, batch_size=2)
    assert report.rows_rewritten["person_keys"] == 2  # the batch that committed before it stopped stays
    again = await rotate_keys(sessionmaker, ring)
    assert sum(again.rows_rewritten.values()) == 0
    only_new = Crypto([new_key])
    async with sessionmaker() as session:
        names = [
            unseal(only_new, b, "name_enc") for b in (await session.execute(select(Beneficiary))).scalars()
        ]
    assert sorted(names) == [f"Person {n}" for n in range(4)]


async def test_rotation_recomputes_the_city_index_so_segments_find_people_with_only_the_new_key(
    sessionmaker: async_sessionmaker[AsyncSession], data_key: bytes
) -> None:
    old = Crypto([data_key])
    cities = {700: "Bakı", 701: "SUMQAYIT", 702: None}
    async with sessionmaker() as session, session.begin():
        for telegram_id, city_name in cities.items():
            beneficiary = await get_or_create_beneficiary(session, old, telegram_id=telegram_id)
            case = await ensure_case(session, beneficiary=beneficiary)
            answers = {"adults": 1} if city_name is None else {"city": city_name}
            await save_form_response(
                session, old, case=case, form_id="interview", form_version=1, answers=answers
            )
    new_key = os.urandom(32)
    ring = Crypto([new_key, data_key])

    async def found(crypto: Crypto, *names: str) -> int:
        segment = Segment(cities=names)
        async with sessionmaker() as session:
            return sum((await count_by_language(session, segment, utcnow(), crypto=crypto)).values())

    # While the rotation runs, both keys' hashes match.
    assert await found(ring, "baki") == 1
    report = await rotate_keys(sessionmaker, ring, batch_size=2)
    assert (report.city_index.seen, report.city_index.rewritten) == (2, 2)
    only_new = Crypto([new_key])
    assert await found(only_new, "baki") == 1
    assert await found(only_new, "Sumqayıt", "BAKI") == 2
    assert await found(Crypto([data_key]), "baki") == 0  # nothing is left under the old key
    again = await rotate_keys(sessionmaker, ring)
    assert again.city_index.rewritten == 0


async def test_rotation_reseals_a_staff_members_linked_chat_and_its_lookup_hash(
    sessionmaker: async_sessionmaker[AsyncSession], data_key: bytes
) -> None:
    old = Crypto([data_key])
    async with sessionmaker() as session, session.begin():
        user = await staff.add_user(
            session,
            username="olga",
            password_hash="x",
            role="outreach",
            display_name="",
            language="en",
            at=utcnow(),
        )
        code = await staff_link.new_code(session, old, staff_user_id=user.id, now=utcnow())
        assert await staff_link.redeem(session, old, code=code, chat_id=555_000_111, now=utcnow()) is not None
    new_key = os.urandom(32)
    report = await rotate_keys(sessionmaker, Crypto([new_key, data_key]), batch_size=3)
    assert report.rows_rewritten["staff_telegram_links"] == 1

    only_new = Crypto([new_key])
    async with sessionmaker() as session:
        assert await staff_link.chat_ids(session, only_new, staff_user_ids=[user.id]) == {
            user.id: 555_000_111
        }
        link = (await session.execute(select(StaffTelegramLink))).scalar_one()
    assert link.chat_hash == only_new.blind_index(STAFF_CHAT_PURPOSE, "555000111")


class Interleaved(AsyncSession):
    """A session that lets `meanwhile` run right after its first read of beneficiaries, as the bot
    or a caseworker would between the rotation's read and its write; it waits for `meanwhile` only
    while that is not held up by a lock (a held-up change lands after the batch commits)."""

    meanwhile: ClassVar[Callable[[], Awaitable[None]] | None] = None
    started: ClassVar[list[asyncio.Task[None]]] = []

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        result = await super().execute(statement, *args, **kwargs)
        entities = [each.get("entity") for each in getattr(statement, "column_descriptions", [])]
        meanwhile = type(self).meanwhile  # read off the class: a plain function, not a method
        if meanwhile is not None and not self.started and entities == [Beneficiary]:
            task = asyncio.create_task(meanwhile())
            self.started.append(task)
            await asyncio.wait({task}, timeout=0.5)
        return result


async def test_a_change_committed_while_a_batch_is_rotated_is_not_overwritten(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], data_key: bytes
) -> None:
    old = Crypto([data_key])
    async with sessionmaker() as session, session.begin():
        beneficiary = await get_or_create_beneficiary(session, old, telegram_id=100_000_001)
        seal(old, beneficiary, "phone_enc", "+994 50 000 00 01")
    ring = Crypto([os.urandom(32), data_key])

    async def caseworker_corrects_the_phone() -> None:
        async with sessionmaker() as session, session.begin():
            person = await session.get(Beneficiary, beneficiary.id)
            assert person is not None
            seal(ring, person, "phone_enc", "+994 50 999 99 99")

    Interleaved.meanwhile, Interleaved.started = caseworker_corrects_the_phone, []
    await rotate_keys(async_sessionmaker(engine, class_=Interleaved, expire_on_commit=False), ring)
    [change] = Interleaved.started
    await change
    async with sessionmaker() as session:
        person = await session.get(Beneficiary, beneficiary.id)
        assert person is not None
        assert unseal(ring, person, "phone_enc") == "+994 50 999 99 99"


async def test_rotation_computes_a_phone_index_the_upgrade_left_pending_as_the_fill_would(
    sessionmaker: async_sessionmaker[AsyncSession], data_key: bytes
) -> None:
    """A number too short to index gets none, not the pending mark kept."""
    old = Crypto([data_key])
    async with sessionmaker() as session, session.begin():
        for telegram_id, number in ((100_000_001, "+994 50 123 45 67"), (100_000_002, "12")):
            beneficiary = await get_or_create_beneficiary(session, old, telegram_id=telegram_id)
            seal(old, beneficiary, "phone_enc", number)
            beneficiary.phone_hash = phone.PENDING
    ring = Crypto([os.urandom(32), data_key])
    await rotate_keys(sessionmaker, ring)
    async with sessionmaker() as session:
        rows = (await session.execute(select(Beneficiary))).scalars().all()
        hashes = {unseal(ring, row, "phone_enc"): row.phone_hash for row in rows}
    assert hashes == {"+994 50 123 45 67": phone.phone_hash(ring, "+994 50 123 45 67"), "12": None}
