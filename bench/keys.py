"""Per-person keys, side by side with values under the master key (as before them), in one run:

- `intake rotate-keys` over N people: with per-person keys it rewraps one key a person and
  recomputes the Telegram lookup hash; with values under the master key it re-encrypts every value
  (which is also what the one-time move onto per-person keys costs).
- CPU per update of the sealed work an update does (find the person by their Telegram id's hash,
  open their id, name and dialog, seal the dialog and an answer): values under the master key;
  under per-person keys with the key already held (every update after a person's first in a
  process); and with the key not held yet (the first, which loads and unwraps it once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.infra import scratch_database, standalone_start
from storage import person_keys
from storage.crypto import PERSON_KEYS, Crypto, generate_key, parse_keys
from storage.engine import create_engine, create_sessionmaker
from storage.models import Beneficiary, Case, DialogState, FormResponse, utcnow
from storage.models_keys import PersonKey
from storage.queries import TELEGRAM_PURPOSE
from storage.rotation import rotate_keys
from storage.sealing import unseal, unseal_json

CHUNK = 2000
UPDATES = 2000
TELEGRAM_BASE = 500_000_000


def _rows(crypto: Crypto, n: int, *, per_person: bool) -> dict[str, dict[str, Any]]:
    """Person n's rows: their key (per-person only), them, their case, a screening answer, a dialog."""
    person, case, answer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    owner = person if per_person else None
    now = utcnow()
    rows: dict[str, dict[str, Any]] = {}
    if per_person:
        rows["key"] = {"id": person, "wrapped": crypto.new_person_key(person), "created_at": now}

    def sealed(table: str, column: str, row: uuid.UUID, value: str) -> bytes:
        return crypto.encrypt(value, table=table, column=column, row=row, owner=owner)

    telegram = str(TELEGRAM_BASE + n)
    rows["person"] = {
        "id": person,
        "telegram_hash": crypto.blind_index(TELEGRAM_PURPOSE, telegram),
        "telegram_id_enc": sealed("beneficiaries", "telegram_id_enc", person, telegram),
        "name_enc": sealed("beneficiaries", "name_enc", person, f"Person {n}"),
        "phone_enc": sealed("beneficiaries", "phone_enc", person, f"+99450{n:07d}"),
        "created_at": now,
        "last_active_at": now,
    }
    rows["case"] = {
        "id": case,
        "code": f"IP-2026-{n + 1:06d}",
        "beneficiary_id": person,
        "stage": "screening",
        "source": "bot",
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    rows["answer"] = {
        "id": answer,
        "case_id": case,
        "form_id": "screening",
        "form_version": 1,
        "source": "bot",
        "created_at": now,
        "answers_enc": sealed("form_responses", "answers_enc", answer, '{"resides_for_reason": "yes"}'),
    }
    rows["dialog"] = {
        "id": person,
        "state": "Journey:menu",
        "updated_at": now,
        "data_enc": sealed("dialog_states", "data_enc", person, '{"token": "abcdefgh", "step": 3}'),
    }
    return rows


async def seed(url: str, crypto: Crypto, people: int, *, per_person: bool) -> None:
    engine = create_engine(url)
    try:
        for start in range(0, people, CHUNK):
            batch = [
                _rows(crypto, n, per_person=per_person) for n in range(start, min(people, start + CHUNK))
            ]
            async with engine.begin() as connection:
                for model, name in (
                    (Beneficiary, "person"),
                    (PersonKey, "key"),
                    (Case, "case"),
                    (FormResponse, "answer"),
                    (DialogState, "dialog"),
                ):
                    if name in batch[0]:
                        await connection.execute(insert(model), [rows[name] for rows in batch])
    finally:
        await engine.dispose()


async def one_update(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, telegram_id: int, *, per_person: bool
) -> None:
    """The sealed work of one update as the bot does it: find the person (and hold their key),
    open what a dialog step reads, seal what it writes (the dialog, an answer), in one transaction.
    Without `per_person`, written under the master key as before per-person keys."""
    async with sessionmaker() as session, session.begin():
        hashes = crypto.blind_indexes(TELEGRAM_PURPOSE, str(telegram_id))
        statement = select(Beneficiary).where(Beneficiary.telegram_hash.in_(hashes))
        person = (await session.execute(statement)).scalar_one()
        if per_person:
            await person_keys.load(session, crypto, [person.id])
        unseal(crypto, person, "telegram_id_enc")
        unseal(crypto, person, "name_enc")
        dialog = await session.get(DialogState, person.id)
        assert dialog is not None
        data = unseal_json(crypto, dialog, "data_enc")
        answer = (
            await session.execute(select(FormResponse).join(Case).where(Case.beneficiary_id == person.id))
        ).scalar_one()
        owner = person.id if per_person else None
        for row, column, value in (
            (dialog, "data_enc", {**data, "step": data["step"] + 1}),
            (answer, "answers_enc", {"resides_for_reason": "yes", "step": data["step"]}),
        ):
            where = {"table": row.__tablename__, "column": column, "row": str(row.id)}
            setattr(row, column, crypto.encrypt(json.dumps(value), **where, owner=owner))


async def cpu_per_update(url: str, crypto: Crypto, people: int, *, per_person: bool, cold: bool) -> float:
    """Process CPU ms per update over `UPDATES` updates spread over the people (held keys dropped
    before each update when `cold`)."""
    engine = create_engine(url)
    try:
        sessionmaker = create_sessionmaker(engine)
        updates = min(UPDATES, people)
        owners = (await _owners(sessionmaker, crypto, updates)) if cold else []
        started = time.process_time()
        for n in range(updates):
            if cold:
                PERSON_KEYS.forget(owners[n])
            await one_update(sessionmaker, crypto, TELEGRAM_BASE + n, per_person=per_person)
        return (time.process_time() - started) * 1000 / updates
    finally:
        await engine.dispose()


async def _owners(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, count: int
) -> list[uuid.UUID]:
    """The ids of the first `count` people, in the order the updates come from them."""
    async with sessionmaker() as session:
        by_hash = {
            telegram_hash: person
            for person, telegram_hash in await session.execute(
                select(Beneficiary.id, Beneficiary.telegram_hash)
            )
        }
    return [by_hash[crypto.blind_index(TELEGRAM_PURPOSE, str(TELEGRAM_BASE + n))] for n in range(count)]


async def measure(url: str, people: int, *, per_person: bool) -> dict[str, Any]:
    """Seed, then CPU per update (held and, per-person, not held), then rotation to a new key."""
    old_key, new_key = parse_keys(generate_key()) + parse_keys(generate_key())
    old = Crypto([old_key])
    started = time.monotonic()
    await seed(url, old, people, per_person=per_person)
    seeded = time.monotonic() - started
    result: dict[str, Any] = {"seed_s": round(seeded, 1)}
    measured = await cpu_per_update(url, old, people, per_person=per_person, cold=False)
    result["cpu_ms_per_update"] = round(measured, 3)
    if per_person:
        first = await cpu_per_update(url, old, people, per_person=True, cold=True)
        result["cpu_ms_per_first_update"] = round(first, 3)
    ring = Crypto([new_key, old_key])
    engine = create_engine(url)
    try:
        started = time.monotonic()
        report = await rotate_keys(create_sessionmaker(engine), ring)
        result["rotation_s"] = round(time.monotonic() - started, 2)
        result["rows_rewritten"] = sum(report.rows_rewritten.values())
    finally:
        await engine.dispose()
    return result


async def run(backend: str, work: Path, people: int) -> dict[str, Any]:
    result: dict[str, Any] = {"bench": "keys", "backend": backend, "people": people}
    for per_person in (False, True):
        async with scratch_database(backend, work) as url:
            result["person" if per_person else "master"] = await measure(url, people, per_person=per_person)
    return result


def rows(results: list[dict[str, Any]]) -> list[list[str]]:
    """The benchmark table's rows (see bench/__main__.py)."""
    table = []
    for r in results:
        if r.get("bench") != "keys":
            continue
        master, person = r["master"], r["person"]
        ratio = master["rotation_s"] / person["rotation_s"] if person["rotation_s"] else 0.0
        table.append(
            [
                "Keys: intake rotate-keys",
                r["backend"],
                f"{r['people']:,} people, 4 sealed values each",
                f"per-person keys {person['rotation_s']:.1f} s (rewrap); under the master key"
                f" {master['rotation_s']:.1f} s (every value re-encrypted): {ratio:.1f}× faster",
                "seconds, not minutes",
            ]
        )
        table.append(
            [
                "Keys: sealed work of one update, CPU",
                r["backend"],
                f"{min(UPDATES, r['people']):,} updates",
                f"under the master key {master['cpu_ms_per_update']:.2f} ms; per-person key held"
                f" {person['cpu_ms_per_update']:.2f} ms; not yet held (first update in a process)"
                f" {person['cpu_ms_per_first_update']:.2f} ms",
                "one unwrap per person and process, not per value",
            ]
        )
    return table


async def main(arguments: argparse.Namespace) -> None:
    work, backends, results = await standalone_start(arguments)
    for backend in backends:
        results.append(await run(backend, work, arguments.people))
        print(json.dumps(results[-1]), flush=True)
    (work / "keys.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"])
    parser.add_argument("--people", type=int, default=100_000, help="people seeded (100000)")
    parser.add_argument("--work", default="var/bench", help="scratch directory (var/bench)")
    asyncio.run(main(parser.parse_args()))
