"""Campaign expansion benchmark: a 100,000-recipient campaign put into the outbox by the worker's
batched expansion (segment walk, rendering, sealing, schedule), against a plain INSERT of the same
rows, and the peak memory the expansion adds to the process.

Run: `python -m bench.campaigns [--backend sqlite|postgresql] [--recipients 100000]`; prints JSON.
The plain INSERT copies the expansion's rows (new ids, another campaign) in batches of the same size,
reading each batch untimed: only the INSERT statements are timed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
import zoneinfo
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bench.infra import scratch_database, seed_people, standalone_start
from outreach import campaigns
from outreach.campaigns import CampaignStatus, Segment
from storage.crypto import Crypto, generate_key, parse_keys
from storage.engine import create_engine, create_sessionmaker
from storage.models import OutboxMessage, utcnow
from storage.models_outreach import Campaign

BATCH = 1000
LANGUAGES = ("az", "ru", "en", "fa", "ps", "ur", "tr", None)
TEXTS = {
    "en": "The office is open on Saturday from 10:00 to 14:00.",
    "ru": "Офис открыт в субботу с 10:00 до 14:00.",
    "az": "Ofis şənbə günü 10:00-dan 14:00-dək açıqdır.",
    "fa": "دفتر روز شنبه از ساعت ۱۰ تا ۱۴ باز است.",
}


def _memory_kib() -> tuple[int, int]:
    """Resident memory now and at its peak since the last reset (Linux)."""
    fields = dict(
        line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


async def seed(url: str, count: int) -> None:
    await seed_people(
        url, count, lambda n: {"language": LANGUAGES[n % len(LANGUAGES)], "opted_out": n % 50 == 0}
    )


async def expansion_vs_insert(backend: str, work: Path, count: int) -> dict[str, Any]:
    async with scratch_database(backend, work) as url:
        await seed(url, count)
        engine = create_engine(url)
        crypto = Crypto(parse_keys(generate_key()))
        sessionmaker = create_sessionmaker(engine)
        try:
            campaign = Campaign(
                name="Saturday",
                texts=TEXTS,
                fallback_language="en",
                segment=Segment().as_data(),
                starts_at=utcnow(),
                spread_seconds=3 * 3600,
                status=CampaignStatus.SCHEDULED,
                expanded=0,
                version=1,
            )
            async with sessionmaker() as session, session.begin():
                session.add(campaign)
            zone = zoneinfo.ZoneInfo("Asia/Baku")
            rss_before, _ = _memory_kib()
            _reset_peak()
            started = time.perf_counter()
            made = 0
            while True:
                async with sessionmaker() as session, session.begin():
                    batch = await campaigns.expand_batch(
                        session,
                        crypto,
                        campaign.id,
                        zone=zone,
                        rate=25,
                        bot_username="intake_bot",
                        batch=BATCH,
                    )
                made += batch
                if batch < BATCH:
                    break
            expansion = time.perf_counter() - started
            _, peak = _memory_kib()

            copy_of = uuid.uuid4()
            columns = [c for c in OutboxMessage.__table__.columns]
            inserting = 0.0
            after: uuid.UUID | None = None
            while True:
                async with sessionmaker() as session, session.begin():
                    query = select(*columns).where(OutboxMessage.campaign_id == campaign.id)
                    if after is not None:
                        query = query.where(OutboxMessage.id > after)
                    rows = (
                        (await session.execute(query.order_by(OutboxMessage.id).limit(BATCH)))
                        .mappings()
                        .all()
                    )
                    if not rows:
                        break
                    after = rows[-1]["id"]
                    copies = [{**row, "id": uuid.uuid4(), "campaign_id": copy_of} for row in rows]
                    began = time.perf_counter()
                    await session.execute(insert(OutboxMessage), copies)
                    await session.flush()
                    inserting += time.perf_counter() - began
        finally:
            await engine.dispose()
    return {
        "bench": "campaign_expansion", "backend": backend, "recipients": count, "rows": made,
        "expansion_s": round(expansion, 2), "plain_insert_s": round(inserting, 2),
        "ratio": round(expansion / inserting, 2), "rows_per_s": round(made / expansion),
        "rss_before_mib": round(rss_before / 1024, 1), "peak_rss_mib": round(peak / 1024, 1),
        "peak_added_mib": round((peak - rss_before) / 1024, 1),
    }  # fmt: skip


def rows(results: list[dict[str, Any]]) -> list[list[str]]:
    """The benchmark table's rows (see bench/__main__.py)."""
    return [
        [
            "Campaign expansion into the outbox",
            r["backend"],
            f"{r['recipients']:,} people, {r['rows']:,} reachable",
            f"{r['expansion_s']:.1f} s ({r['rows_per_s']:,} rows/s); plain INSERT of the same rows "
            f"{r['plain_insert_s']:.1f} s: {r['ratio']:.2f}× its time; process peak RSS "
            f"{r['peak_rss_mib']:.0f} MiB, {r['peak_added_mib']:+.1f} MiB by the expansion",
            "",
        ]
        for r in results
        if r.get("bench") == "campaign_expansion"
    ]


async def main(arguments: argparse.Namespace) -> None:
    work, backends, results = await standalone_start(arguments)
    for backend in backends:
        results.append(await expansion_vs_insert(backend, work, arguments.recipients))
        print(json.dumps(results[-1]), flush=True)
    (work / "campaigns.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"])
    parser.add_argument("--recipients", type=int, default=100_000, help="people in the segment (100000)")
    parser.add_argument("--work", default="var/bench", help="scratch directory (var/bench)")
    asyncio.run(main(parser.parse_args()))
