"""The city's lookup hash: normalisation, the index kept with the interview, and the fill after the
upgrade that added it (the migration marks, the worker computes)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import uuid
import zoneinfo
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from outreach.campaign_worker import CampaignWorker
from storage import city
from storage.city import PENDING, city_hash, lookup_hashes, normalise_city
from storage.crypto import Crypto
from storage.engine import create_engine, create_sessionmaker
from storage.journey import ensure_case, save_form_response
from storage.migrate import upgrade
from storage.models import Beneficiary, Case, FormResponse, utcnow
from storage.queries import get_or_create_beneficiary
from tests.conftest import BACKENDS, Database

# ── normalisation ───────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("Bakı", "baki"),
        ("BAKI ", "baki"),
        ("baki", "baki"),
        ("  Baki\t", "baki"),
        ("Sumqayıt", "sumqayit"),
        ("GƏNCƏ", "gəncə"),  # ə is a letter of its own, not an e with a mark
        ("İstanbul", "istanbul"),
        ("Kraków", "krakow"),
        ("Straße", "strasse"),
        ("Ｂａｋｕ", "baku"),  # full-width forms (NFKC)
        ("Ёлки", "елки"),
        ("Baku-City", "baku city"),
        ("baku,   city!", "baku city"),
        ("St. Petersburg", "st petersburg"),
        ("Baku 2", "baku 2"),
    ],
)
def test_the_same_city_typed_differently_is_normalised_alike(typed: str, normalised: str) -> None:
    assert normalise_city(typed) == normalised


def test_right_to_left_names_keep_their_letters_and_lose_only_marks_spaces_and_punctuation() -> None:
    kabul = "کابل"
    assert normalise_city(kabul) == kabul
    assert normalise_city(f"  {kabul}،  ") == kabul
    # A short vowel mark (kasra) is a diacritic: with or without it, the same name.
    assert normalise_city("مزارِ شریف") == normalise_city("مزار  شریف") == "مزار شریف"
    assert normalise_city("لاہور") == "لاہور"
    # Invisible format characters (a zero-width non-joiner, a bidi override) are dropped, as the bot
    # drops them from every answer.
    assert normalise_city("خانه\u200cها") == normalise_city("خانهها")
    assert normalise_city("\u202eBaku\u202c") == "baku"


def test_other_spellings_and_alphabets_are_other_cities() -> None:
    assert normalise_city("Baku") != normalise_city("Баку")
    assert normalise_city("Baku") != normalise_city("Bakou")


def test_arabic_and_persian_keyboards_letters_and_digits_of_any_script_match() -> None:
    # Kaf and yeh as an Arabic keyboard types them, as a Persian one does, with a tatweel.
    assert normalise_city("كابل") == normalise_city("کابل") == normalise_city("کـابل") == "کابل"
    assert normalise_city("هرات ولايت") == normalise_city("هرات ولایت")
    assert normalise_city("مشهد مقدسى") == normalise_city("مشهد مقدسی")
    assert (
        normalise_city("ناحیه ۱۲") == normalise_city("ناحيه ١٢") == normalise_city("ناحیه 12") == "ناحیه 12"
    )
    # Letters that only look alike stay apart: heh goal (Urdu) is not heh.
    assert normalise_city("لاہور") != normalise_city("لاهور")


@pytest.mark.parametrize("typed", ["", "   ", "---", "!?", "\u200c"])
def test_nothing_of_a_name_normalises_to_empty_and_has_no_hash(typed: str, crypto: Crypto) -> None:
    assert normalise_city(typed) == ""
    assert city_hash(crypto, typed) is None
    assert lookup_hashes(crypto, [typed]) == []


def test_the_hash_is_keyed_and_a_lookup_covers_every_configured_key(data_key: bytes) -> None:
    old, new = Crypto([data_key]), Crypto([secrets.token_bytes(32)])
    ring = Crypto([secrets.token_bytes(32), data_key])
    assert city_hash(old, "Bakı") == city_hash(old, "BAKI ") != city_hash(new, "baki")
    assert city_hash(old, None) is None and city_hash(old, 5) is None
    assert city_hash(old, "baki") in lookup_hashes(ring, ["Baki"])
    assert city_hash(ring, "baki") in lookup_hashes(ring, ["Baki"])
    assert len(lookup_hashes(ring, ["Baki", "BAKI", "Sumqayit"])) == 4


# ── kept with the interview ─────────────────────────────────────────────────────────────────────


async def answer(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, telegram_id: int, answers: dict
) -> uuid.UUID:
    async with sessionmaker() as session, session.begin():
        beneficiary = await get_or_create_beneficiary(session, crypto, telegram_id=telegram_id)
        case = await ensure_case(session, beneficiary=beneficiary)
        await save_form_response(
            session, crypto, case=case, form_id="interview", form_version=1, answers=answers
        )
        return beneficiary.id


async def stored_hash(
    sessionmaker: async_sessionmaker[AsyncSession], beneficiary_id: uuid.UUID
) -> str | None:
    async with sessionmaker() as session:
        return (
            await session.execute(select(Beneficiary.city_hash).where(Beneficiary.id == beneficiary_id))
        ).scalar_one()


async def test_a_saved_interview_sets_the_index_a_later_one_changes_or_clears_it_and_other_forms_do_not(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    person = await answer(sessionmaker, crypto, 501, {"city": "  BAKI ", "adults": 2})
    assert await stored_hash(sessionmaker, person) == crypto.blind_index("city", "baki")
    async with sessionmaker() as session, session.begin():
        case = (await session.execute(select(Case))).scalar_one()
        await save_form_response(
            session, crypto, case=case, form_id="screening", form_version=1, answers={"city": "Ganja"}
        )
    assert await stored_hash(sessionmaker, person) == crypto.blind_index("city", "baki")
    await answer(sessionmaker, crypto, 501, {"city": "Sumqayıt"})
    assert await stored_hash(sessionmaker, person) == crypto.blind_index("city", "sumqayit")
    await answer(sessionmaker, crypto, 501, {"adults": 3})  # the city skipped this time
    assert await stored_hash(sessionmaker, person) is None
    await answer(sessionmaker, crypto, 501, {"city": "--"})
    assert await stored_hash(sessionmaker, person) is None


# ── the fill after the upgrade ──────────────────────────────────────────────────────────────────


async def test_pending_people_get_the_city_of_their_newest_interview_and_a_fresher_index_is_kept(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    moved = await answer(sessionmaker, crypto, 601, {"city": "Baku"})
    await answer(sessionmaker, crypto, 601, {"city": "Gəncə"})
    skipped = await answer(sessionmaker, crypto, 602, {"adults": 1})
    fresh = await answer(sessionmaker, crypto, 603, {"city": "Şəki"})
    async with sessionmaker() as session, session.begin():
        for person in (moved, skipped):
            (await session.get(Beneficiary, person)).city_hash = PENDING  # type: ignore[union-attr]
    await city.fill_pending(sessionmaker, crypto)
    assert await stored_hash(sessionmaker, moved) == city_hash(crypto, "GƏNCƏ")
    assert await stored_hash(sessionmaker, skipped) is None
    assert await stored_hash(sessionmaker, fresh) == city_hash(crypto, "ŞƏKİ")
    again = await city.reindex(sessionmaker, crypto, only_pending=True)
    assert (again.seen, again.rewritten) == (0, 0)


async def test_an_interview_that_does_not_decrypt_stays_pending_and_does_not_stop_the_fill(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    lost = await answer(sessionmaker, Crypto([secrets.token_bytes(32)]), 611, {"city": "Baku"})
    readable = await answer(sessionmaker, crypto, 612, {"city": "Baku"})
    async with sessionmaker() as session, session.begin():
        for person in (lost, readable):
            (await session.get(Beneficiary, person)).city_hash = PENDING  # type: ignore[union-attr]
    report = await city.reindex(sessionmaker, crypto, only_pending=True)
    assert (report.seen, report.rewritten, report.unreadable) == (2, 1, 1)
    assert await stored_hash(sessionmaker, lost) == PENDING
    assert await stored_hash(sessionmaker, readable) == city_hash(crypto, "baku")


@contextlib.asynccontextmanager
async def database_at(backend: str, tmp_path: Path, revision: str) -> AsyncIterator[AsyncEngine]:
    """A fresh database of `backend` migrated up to `revision`, removed afterwards."""
    database = Database(backend, tmp_path)
    if database.schema:
        admin = create_engine(database.url)
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{database.schema}"'))
        await admin.dispose()
    engine = database.engine()
    try:
        await upgrade(engine, revision)
        yield engine
    finally:
        await engine.dispose()
        await database.drop()


async def seed_person(
    engine: AsyncEngine, crypto: Crypto, n: int, *, form: str, answers: dict, stored_index: str | None = None
) -> uuid.UUID:
    """A person with a case and one response, written as rows (the models may be newer than the schema)."""
    now = utcnow()
    person, case_id, response_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    beneficiary = {"id": person, "telegram_hash": secrets.token_hex(32), "telegram_id_enc": b"x"}
    if stored_index is not None:
        beneficiary["city_hash"] = stored_index
    sealed = crypto.encrypt(
        json.dumps(answers), table="form_responses", column="answers_enc", row=str(response_id)
    )
    async with engine.begin() as connection:
        await connection.execute(
            insert(Beneficiary.__table__).values(**beneficiary, created_at=now, last_active_at=now)
        )
        await connection.execute(
            insert(Case.__table__).values(
                id=case_id,
                code=f"IP-2026-00000{n}",
                beneficiary_id=person,
                stage="new",
                source="bot",
                created_at=now,
                updated_at=now,
                version=1,
            )
        )
        await connection.execute(
            insert(FormResponse.__table__).values(
                id=response_id,
                case_id=case_id,
                form_id=form,
                form_version=1,
                answers_enc=sealed,
                source="bot",
                created_at=now,
            )
        )
    return person


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_upgrade_marks_who_answered_the_interview_and_the_worker_fills_them_in_at_its_start(
    backend: str, tmp_path: Path, data_key: bytes
) -> None:
    """A database at the revision before the index, with people in it, upgraded."""
    crypto = Crypto([data_key])
    async with database_at(backend, tmp_path, "0006_join") as engine:
        people = {
            "answered": await seed_person(engine, crypto, 0, form="interview", answers={"city": "Bakı"}),
            "skipped": await seed_person(engine, crypto, 1, form="interview", answers={}),
            "screened_only": await seed_person(engine, crypto, 2, form="screening", answers={}),
        }
        await upgrade(engine)
        sessionmaker = create_sessionmaker(engine)
        marked = {name: await stored_hash(sessionmaker, person) for name, person in people.items()}
        assert marked == {"answered": PENDING, "skipped": PENDING, "screened_only": None}
        # The worker fills them in when it starts, before it looks at any campaign.
        stop = asyncio.Event()
        stop.set()
        worker = CampaignWorker(
            sessionmaker,
            crypto,
            zone=zoneinfo.ZoneInfo("UTC"),
            rate=25,
            bot_username=lambda: asyncio.sleep(0),
        )
        await worker.run(stop)
        filled = {name: await stored_hash(sessionmaker, person) for name, person in people.items()}
        assert filled == {"answered": city_hash(crypto, "baki"), "skipped": None, "screened_only": None}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_indexes_made_before_the_letters_were_folded_are_recomputed_after_the_upgrade(
    backend: str, tmp_path: Path, data_key: bytes
) -> None:
    crypto = Crypto([data_key])
    async with database_at(backend, tmp_path, "0008_reminder_outbox_index") as engine:
        # Indexed as the older normalisation did: the Arabic keyboard's kaf kept as it was typed.
        arabic_keyboard = await seed_person(
            engine,
            crypto,
            0,
            form="interview",
            answers={"city": "كابل"},
            stored_index=crypto.blind_index("city", "كابل"),
        )
        never_indexed = await seed_person(engine, crypto, 1, form="screening", answers={})
        await upgrade(engine)
        sessionmaker = create_sessionmaker(engine)
        assert await stored_hash(sessionmaker, arabic_keyboard) == PENDING
        assert await stored_hash(sessionmaker, never_indexed) is None
        await city.fill_pending(sessionmaker, crypto)
        # Found now by the name as a Persian keyboard types it.
        assert await stored_hash(sessionmaker, arabic_keyboard) in lookup_hashes(crypto, ["کابل"])
        assert await stored_hash(sessionmaker, never_indexed) is None


async def test_a_reindex_writes_each_batch_in_one_statement_and_counts_what_it_rewrote(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    people = [await answer(sessionmaker, crypto, 610 + n, {"city": "Baku"}) for n in range(3)]
    async with sessionmaker() as session, session.begin():
        for person in people:
            (await session.get(Beneficiary, person)).city_hash = "0" * 64  # type: ignore[union-attr]
    updates: list[bool] = []

    def seen(
        connection: object, cursor: object, statement: str, parameters: object, context: object, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("UPDATE BENEFICIARIES"):
            updates.append(many)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        report = await city.reindex(sessionmaker, crypto)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert updates == [True]  # one executemany for the batch, not one statement a person
    assert (report.seen, report.rewritten) == (3, 3)
    assert {await stored_hash(sessionmaker, person) for person in people} == {city_hash(crypto, "Baku")}
