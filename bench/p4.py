"""P4: the console's case list over 100,000 seeded cases, in-process, as a signed-in caseworker, with
the query plans of every SELECT a page makes checked for full scans; and finding a case among them by
its code and by phone (through the phone's lookup hash, storage.phone)."""

from __future__ import annotations

import datetime as dt
import random
import re
import secrets
import statistics
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from caseworker_console.app import create_app
from caseworker_console.auth import SESSION_COOKIE, hash_token
from storage import phone, staff
from storage.crypto import Crypto
from storage.models import Beneficiary, Case, CaseCounter, utcnow
from storage.queries import TELEGRAM_PURPOSE

BASE_URL = "http://console.bench"
STAGES = ("new", "new", "new", "screening", "assessment", "active", "closed")
LANGUAGES = ("az", "ru", "en", "fa", "ps", "ur", "tr")
SEED_CHUNK = 5_000
FIRST_TELEGRAM_ID = 700_000_000
SEARCHES = 20  # requests timed for each kind of search


@dataclass
class PageTiming:
    page: int
    requests: int
    p50_ms: float
    p95_ms: float


@dataclass
class SearchTiming:
    by: str  # "code" or "phone"
    requests: int
    p50_ms: float
    p95_ms: float
    max_ms: float


@dataclass
class P4Result:
    backend: str
    cases: int
    seed_seconds: float
    pages: list[PageTiming]
    full_scans: list[str] = field(default_factory=list)
    searches: list[SearchTiming] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def seed(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, count: int) -> float:
    """`count` beneficiaries (real sealed Telegram ids and lookup hashes) each with one case, in bulk."""
    started = time.perf_counter()
    rng = random.Random(20_260_101)  # noqa: S311 - reproducible test data, not security
    now = utcnow()
    year = now.year
    for first in range(0, count, SEED_CHUNK):
        people: list[dict[str, Any]] = []
        cases: list[dict[str, Any]] = []
        for number in range(first, min(first + SEED_CHUNK, count)):
            person_id = uuid.uuid4()
            telegram_id = str(FIRST_TELEGRAM_ID + number)
            created = now - dt.timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
            language = rng.choice(LANGUAGES)
            people.append(
                {
                    "id": person_id,
                    "telegram_hash": crypto.blind_index(TELEGRAM_PURPOSE, telegram_id),
                    "telegram_id_enc": crypto.encrypt(
                        telegram_id, table="beneficiaries", column="telegram_id_enc", row=person_id
                    ),
                    "language": language,
                    # Only the lookup hash: the search reads nothing else of the person.
                    "phone_hash": phone.phone_hash(crypto, phone_number(number)),
                    "created_at": created,
                    "last_active_at": created,
                }
            )
            cases.append(
                {
                    "id": uuid.uuid4(),
                    "code": f"IP-{year}-{number + 1:06d}",
                    "beneficiary_id": person_id,
                    "stage": rng.choice(STAGES),
                    "source": "bot",
                    "language": language,
                    "provisionally_eligible": rng.random() < 0.8,
                    "created_at": created,
                    "updated_at": created,
                    "version": 1,
                }
            )
        async with sessionmaker() as session, session.begin():
            await session.execute(insert(Beneficiary), people)
            await session.execute(insert(Case), cases)
    async with sessionmaker() as session, session.begin():
        # New cases (the memory benchmark's dialogs) continue after the seeded codes.
        session.add(CaseCounter(year=year, last=count))
    return time.perf_counter() - started


def phone_number(number: int) -> str:
    """The seeded person's number: a distinct Azerbaijani mobile number each."""
    return f"+99450{number:07d}"


async def time_searches(client: httpx.AsyncClient, *, cases: int) -> list[SearchTiming]:
    """The case search by code and by phone, each for people spread over the seeded cases."""
    rng = random.Random(7)  # noqa: S311 - which seeded people are looked for
    year = utcnow().year
    queries = {
        "code": lambda n: f"IP-{year}-{n + 1:06d}",
        # Typed as a person says it on the phone: local, with spaces.
        "phone": lambda n: f"050 {n // 10_000 % 1000:03d} {n // 100 % 100:02d} {n % 100:02d}",
    }
    timings = []
    for by, query in queries.items():
        samples = []
        for _ in range(SEARCHES):
            number = rng.randrange(cases)
            started = time.perf_counter()
            answer = await client.get("/cases", params={"q": query(number)})
            samples.append(time.perf_counter() - started)
            if answer.status_code != 200:
                raise RuntimeError(f"a search by {by} answered {answer.status_code}")
        timings.append(
            SearchTiming(
                by,
                SEARCHES,
                round(_percentile(samples, 0.50) * 1000, 2),
                round(_percentile(samples, 0.95) * 1000, 2),
                round(max(samples) * 1000, 2),
            )
        )
    return timings


async def signed_in_client(sessionmaker: async_sessionmaker[AsyncSession], app: Any) -> httpx.AsyncClient:
    """A caseworker's browser, signed in without the (deliberately slow) password form."""
    token = secrets.token_urlsafe(32)
    async with sessionmaker() as session:
        user = await staff.add_user(
            session,
            username=f"bench{secrets.token_hex(3)}",
            password_hash="not-a-hash: this account never signs in with a password",  # noqa: S106
            role="caseworker",
            display_name="Bench",
            language="en",
            at=utcnow(),
        )
        await staff.create_session(
            session,
            session_id=hash_token(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            at=utcnow(),
        )
        await session.commit()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
    client.cookies.set(SESSION_COOKIE, token, domain=httpx.URL(BASE_URL).host)
    return client


def _percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


async def time_pages(client: httpx.AsyncClient, pages: dict[int, int]) -> list[PageTiming]:
    timings = []
    for page, requests in pages.items():
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            answer = await client.get("/cases", params={"page": str(page)})
            samples.append(time.perf_counter() - started)
            if answer.status_code != 200:
                raise RuntimeError(f"/cases?page={page} answered {answer.status_code}")
        timings.append(
            PageTiming(
                page,
                requests,
                round(_percentile(samples, 0.50) * 1000, 2),
                round(_percentile(samples, 0.95) * 1000, 2),
            )
        )
    return timings


SMALL_TABLE_ROWS = 1_000
_PG_SEQ_SCAN = re.compile(r"Seq Scan on (\w+) .*rows=(\d+)")
_SQLITE_SCAN = re.compile(r"^SCAN (\w+)$")
_FROM = re.compile(r"\bFROM\s+(\w+)")


async def full_scans(engine: AsyncEngine, statements: list[tuple[str, Any]]) -> list[str]:
    """What a page's SELECTs read or sort whole, from EXPLAIN QUERY PLAN (SQLite) or EXPLAIN.

    PostgreSQL rightly reads tables of a few rows (staff accounts, sessions) whole; those are left out.
    On SQLite a sort (TEMP B-TREE) counts when the statement reads some table without an index: a
    sort of what index searches found (one caseworker's due activities) is as small as they are.
    """
    found = set()
    sqlite = engine.dialect.name == "sqlite"
    async with engine.connect() as connection:
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            source = _FROM.search(statement)
            table = source[1] if source else "?"
            prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            rows = (await connection.exec_driver_sql(prefix + statement, parameters)).all()
            steps = [str(row[-1]).strip() for row in rows]
            searched_only = all(not step.startswith("SCAN ") for step in steps)
            for step in steps:
                if sqlite and (scan := _SQLITE_SCAN.match(step)):
                    found.add(f"{scan[1]}: every row read")
                elif sqlite and "TEMP B-TREE" in step and not searched_only:
                    found.add(f"{table}: every row sorted ({step.removeprefix('USE ')})")
                elif not sqlite and (seq := _PG_SEQ_SCAN.search(step)) and int(seq[2]) >= SMALL_TABLE_ROWS:
                    found.add(f"{seq[1]}: Seq Scan of ~{int(seq[2]):,} rows")
    return sorted(found)


async def run_p4(
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    *,
    cases: int,
    pages: dict[int, int],
    searching: bool = True,
) -> P4Result:
    seed_seconds = await seed(sessionmaker, crypto, cases)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.exec_driver_sql("ANALYZE")  # a real server's autovacuum would have by now
    app = create_app(sessionmaker=sessionmaker, crypto=crypto)
    async with await signed_in_client(sessionmaker, app) as client:
        await time_pages(client, {1: 3})  # templates compiled, pools warm
        captured: list[tuple[str, Any]] = []

        def capture(
            conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
        ) -> None:
            captured.append((statement, parameters))

        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        try:
            for page in pages:
                await client.get("/cases", params={"page": str(page)})
            await client.get("/cases", params={"q": phone_number(cases // 2)})
            await client.get("/cases", params={"q": f"IP-{utcnow().year}-{cases // 2:06d}"})
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", capture)
        timings = await time_pages(client, pages)
        searches = await time_searches(client, cases=cases) if searching else []
    scans = await full_scans(engine, captured)
    return P4Result(engine.dialect.name, cases, round(seed_seconds, 1), timings, scans, searches)
