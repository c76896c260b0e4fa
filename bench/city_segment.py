"""City segment benchmark: the draft's recipient count for a segment by city over N people (a lookup
hash each, among a few hundred cities), against the same count by language and for everyone, and the
query plan of the city count.

Run: `python -m bench.city_segment [--backend sqlite|postgresql] [--people 100000]`; prints JSON.
Each count runs in its own transaction, as the console's draft page does; the median of 20 is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.infra import scratch_database, seed_people, standalone_start
from outreach.campaigns import Segment, count_by_language, segment_condition
from storage.city import city_hash
from storage.crypto import Crypto, generate_key, parse_keys
from storage.engine import create_engine, create_sessionmaker
from storage.models import Beneficiary, utcnow

CITIES = 300
LANGUAGES = ("az", "ru", "en", "fa", "ps", "ur", "tr", None)
ROUNDS = 20


async def seed(url: str, crypto: Crypto, count: int) -> None:
    hashes = [city_hash(crypto, f"City {n}") for n in range(CITIES)]
    await seed_people(
        url,
        count,
        # A third skipped the question; the others spread over the cities.
        lambda n: {
            "language": LANGUAGES[n % len(LANGUAGES)],
            "city_hash": None if n % 3 == 0 else hashes[n % CITIES],
        },
    )


async def timed_count(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, segment: Segment
) -> tuple[float, int]:
    times, total = [], 0
    for _ in range(ROUNDS):
        began = time.perf_counter()
        async with sessionmaker() as session, session.begin():
            total = sum((await count_by_language(session, segment, utcnow(), crypto=crypto)).values())
        times.append(time.perf_counter() - began)
    return round(statistics.median(times) * 1000, 2), total


async def city_counts(backend: str, work: Path, count: int) -> dict[str, Any]:
    crypto = Crypto(parse_keys(generate_key()))
    async with scratch_database(backend, work) as url:
        await seed(url, crypto, count)
        engine = create_engine(url)
        sessionmaker = create_sessionmaker(engine)
        try:
            if backend == "postgresql":
                async with engine.begin() as connection:
                    await connection.exec_driver_sql("ANALYZE beneficiaries")
            one_city = Segment(cities=("CITY 7",))
            results: dict[str, Any] = {}
            for name, segment in (
                ("one_city", one_city),
                ("five_cities", Segment(cities=tuple(f"city {n}" for n in range(5)))),
                ("one_city_and_language", Segment(cities=("City 7",), languages=("fa",))),
                ("one_language", Segment(languages=("ru",))),
                ("everyone", Segment()),
            ):
                results[f"{name}_ms"], results[f"{name}_people"] = await timed_count(
                    sessionmaker, crypto, segment
                )
            statement = (
                select(Beneficiary.language, func.count())
                .where(segment_condition(one_city, utcnow(), crypto=crypto))
                .group_by(Beneficiary.language)
                .compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
            )
            prefix = "EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN "
            async with engine.connect() as connection:
                plan = [str(row[-1]) for row in await connection.exec_driver_sql(prefix + str(statement))]
        finally:
            await engine.dispose()
    return {"bench": "city_segment", "backend": backend, "people": count, **results, "plan": plan}


async def main(arguments: argparse.Namespace) -> None:
    work, backends, results = await standalone_start(arguments)
    for backend in backends:
        results.append(await city_counts(backend, work, arguments.people))
        print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    (work / "city_segment.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"])
    parser.add_argument("--people", type=int, default=100_000, help="beneficiaries (100000)")
    parser.add_argument("--work", default="var/bench", help="scratch directory (var/bench)")
    asyncio.run(main(parser.parse_args()))
