"""Issue 15 §5: finding a case by its code or by phone (exact, through the phone's blind index: no
number is decrypted), within what the reader may see; the index kept in step with the sealed number."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import Select, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseworker_console.app import create_app
from caseworker_console.audit_labels import ACTION_LABELS
from storage import casework, journey, person_keys, phone
from storage.crypto import Crypto
from storage.models import AuditEntry, Beneficiary, Case, StaffUser, utcnow
from storage.rotation import rotate_keys
from storage.sealing import seal, unseal
from tests.conftest import Database
from tests.console.conftest import BASE_URL, form_token
from tests.console.test_console_pseudonymised import CountingCrypto

SignIn = Callable[..., Awaitable[StaffUser]]
MakeUser = Callable[..., Awaitable[StaffUser]]
NUMBER = "+994501234567"


@pytest.fixture
def person(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> Callable[..., Awaitable[Case]]:
    async def make(code: str, number: str | None, *, name: str = "Zarina Nazarova", **fields: object) -> Case:
        async with sessionmaker() as session:
            telegram_id = str(secrets.randbelow(10**10))
            beneficiary = Beneficiary(telegram_hash=crypto.blind_index("telegram", telegram_id))
            person_keys.add_new(session, crypto, beneficiary.id)
            seal(crypto, beneficiary, "telegram_id_enc", telegram_id)
            seal(crypto, beneficiary, "name_enc", name)
            phone.set_phone(crypto, beneficiary, number)
            case = Case(beneficiary=beneficiary, code=code, **{"stage": "new", "language": "ru", **fields})
            session.add(case)
            await session.commit()
            return case

    return make


def found_codes(response: httpx.Response) -> set[str]:
    page = BeautifulSoup(response.text, "lxml")
    return {row.select_one("th").get_text(strip=True) for row in page.select("table.cases tbody tr")}


@pytest.mark.parametrize(
    "typed",
    ["+994501234567", "+994 50 123 45 67", "050-123-45-67", "994501234567", " (050) 1234567 ", "۰۵۰۱۲۳۴۵۶۷"],
)
async def test_a_supervisor_finds_a_case_by_the_phone_however_it_is_typed(
    client: httpx.AsyncClient, sign_in_as: SignIn, person: Callable[..., Awaitable[Case]], typed: str
) -> None:
    await person("IP-2026-000101", NUMBER)
    await person("IP-2026-000102", "+994551112233")
    await sign_in_as("boss", role="supervisor")
    answer = await client.get("/cases", params={"q": typed})
    assert answer.status_code == 200
    assert found_codes(answer) == {"IP-2026-000101"}
    assert "Zarina" not in answer.text and "1234567" not in answer.text.replace(typed, "")


async def test_a_case_is_found_by_its_code_in_any_case_of_letters(
    client: httpx.AsyncClient, sign_in_as: SignIn, person: Callable[..., Awaitable[Case]]
) -> None:
    await person("IP-2026-000101", NUMBER)
    await person("IP-2026-000102", None)
    await sign_in_as("boss", role="supervisor")
    assert found_codes(await client.get("/cases", params={"q": " ip-2026-000102 "})) == {"IP-2026-000102"}
    none = await client.get("/cases", params={"q": "IP-2026-000999"})
    assert found_codes(none) == set()
    assert "0 cases found" in BeautifulSoup(none.text, "lxml").select_one("#search-result").get_text()


async def test_a_caseworker_finds_only_their_own_and_queued_cases_and_a_queued_one_pseudonymised(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    make_user: MakeUser,
    person: Callable[..., Awaitable[Case]],
) -> None:
    other = await make_user("other")
    await person("IP-2026-000201", NUMBER, name="Queued Person")
    await person("IP-2026-000202", NUMBER, name="Someone Elses", assigned_to=other.id, stage="screening")
    me = await sign_in_as("leyla")
    await person("IP-2026-000203", NUMBER, name="My Own", assigned_to=me.id, stage="screening")
    answer = await client.get("/cases", params={"q": "050 123 45 67"})
    assert found_codes(answer) == {"IP-2026-000201", "IP-2026-000203"}
    assert found_codes(await client.get("/cases", params={"q": "IP-2026-000202"})) == set()
    # Opening the queued case found by phone shows it pseudonymised: no name, no number.
    queued = await client.get("/cases/IP-2026-000201")
    assert queued.status_code == 200
    assert "Queued Person" not in queued.text and "1234567" not in queued.text


async def test_roles_without_case_data_cannot_search(
    client: httpx.AsyncClient, sign_in_as: SignIn, person: Callable[..., Awaitable[Case]]
) -> None:
    await person("IP-2026-000101", NUMBER)
    for role in ("outreach", "admin"):
        await sign_in_as(f"{role}1", role=role)
        assert (await client.get("/cases", params={"q": NUMBER})).status_code == 403


@pytest.mark.parametrize(
    ("typed", "advice"),
    [
        ("@zarina_n", "does not keep Telegram usernames"),
        ("<script>alert(1)</script>", "at least 6 digits"),
        ("12345", "at least 6 digits"),
        ("Zarina", "at least 6 digits"),
        ("' OR 1=1 --", "at least 6 digits"),
        ("\u202e\u200b", "at least 6 digits"),
    ],
)
async def test_a_search_that_is_not_a_code_or_number_says_what_to_type(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    person: Callable[..., Awaitable[Case]],
    typed: str,
    advice: str,
) -> None:
    await person("IP-2026-000101", NUMBER)
    await sign_in_as("boss", role="supervisor")
    answer = await client.get("/cases", params={"q": typed})
    assert answer.status_code == 400
    page = BeautifulSoup(answer.text, "lxml")
    assert advice in page.select_one("#search-advice").get_text()
    assert page.select_one("#case-search")["value"] == typed
    assert page.select("script:not([src])") == []
    assert found_codes(answer) == set()


async def test_a_long_search_is_cut_and_an_empty_one_is_the_list(
    client: httpx.AsyncClient, sign_in_as: SignIn, person: Callable[..., Awaitable[Case]]
) -> None:
    await person("IP-2026-000101", NUMBER)
    await sign_in_as("boss", role="supervisor")
    long = await client.get("/cases", params={"q": "9" * 10_000})
    assert long.status_code == 200 and found_codes(long) == set()
    assert found_codes(await client.get("/cases", params={"q": "  "})) == {"IP-2026-000101"}


async def test_the_audit_records_how_a_case_was_searched_never_the_number(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    person: Callable[..., Awaitable[Case]],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await person("IP-2026-000101", NUMBER)
    await sign_in_as("boss", role="supervisor")
    await client.get("/cases", params={"q": NUMBER})
    async with sessionmaker() as session:
        entry = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "cases.searched"))
        ).scalar_one()
    assert entry.details == {"by": "phone", "found": 1}
    assert "cases.searched" in ACTION_LABELS


async def test_the_consoles_interview_correction_seals_and_indexes_the_new_number(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    person: Callable[..., Awaitable[Case]],
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("leyla")
    case = await person("IP-2026-000301", NUMBER, assigned_to=me.id, stage="screening")
    page = await client.get(f"/cases/{case.code}/interview")
    form = BeautifulSoup(page.text, "lxml").select_one("form[method=post][action$='/interview']")
    data = {"csrf_token": form_token(page), "phone": "055 111 22 33", "call_outcome": "interested"}
    version = form.select_one("input[name=version]")
    if version is not None:
        data["version"] = version["value"]
    saved = await client.post(f"/cases/{case.code}/interview", data=data)
    assert saved.status_code == 303, saved.text[:2000]
    async with sessionmaker() as session:
        beneficiary = await session.get(Beneficiary, case.beneficiary_id)
        assert unseal(crypto, beneficiary, "phone_enc") == "+994551112233"
        assert beneficiary.phone_hash == phone.phone_hash(crypto, "+994551112233")
    assert found_codes(await client.get("/cases", params={"q": "+994551112233"})) == {case.code}
    assert found_codes(await client.get("/cases", params={"q": NUMBER})) == set()


async def test_the_migrations_pending_marks_are_filled_by_the_worker_and_rotation_follows_the_key(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    data_key: bytes,
    person: Callable[..., Awaitable[Case]],
) -> None:
    first = await person("IP-2026-000401", NUMBER)
    second = await person("IP-2026-000402", "+994551112233")
    await person("IP-2026-000403", None)
    async with sessionmaker() as session:
        # What 0012_phone_index leaves: every number marked, none hashed (it has no keys).
        await session.execute(
            update(Beneficiary).where(Beneficiary.phone_enc.is_not(None)).values(phone_hash=phone.PENDING)
        )
        await session.commit()
    report = await phone.fill_pending(sessionmaker, crypto, batch_size=1)
    assert (report.seen, report.rewritten, report.unreadable) == (2, 2, 0)
    async with sessionmaker() as session:
        hashes = dict((await session.execute(select(Beneficiary.id, Beneficiary.phone_hash))).all())
    assert hashes[first.beneficiary_id] == phone.phone_hash(crypto, NUMBER)
    assert hashes[second.beneficiary_id] == phone.phone_hash(crypto, "+994551112233")
    assert None in hashes.values()  # no number, no hash

    new_key = os.urandom(32)
    await rotate_keys(sessionmaker, Crypto([new_key, data_key]))
    only_new = Crypto([new_key])
    async with sessionmaker() as session:
        stored = (
            await session.execute(
                select(Beneficiary.phone_hash).where(Beneficiary.id == first.beneficiary_id)
            )
        ).scalar_one()
    assert stored == phone.phone_hash(only_new, "050 123 45 67")
    assert stored in phone.lookup_hashes(only_new, NUMBER)


SEEDED = 3_000  # enough that reading a table whole costs PostgreSQL's planner more than its index


async def plan_of(session: AsyncSession, backend: str, statement: Select[tuple[Case]]) -> str:
    sql = str(statement.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN "
    return "\n".join(str(row[-1]) for row in (await session.execute(text(prefix + sql))).all())


async def test_a_search_reads_the_code_and_phone_indexes_not_every_case(
    database: Database, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    """The plans the database itself chooses, over a few thousand cases with fresh statistics (as
    autovacuum keeps them): found through an index each time, never a scan of the cases or people."""
    people, cases = [], []
    for number in range(SEEDED):
        person_id = uuid.uuid4()
        created = utcnow() - dt.timedelta(minutes=number)
        people.append(
            {
                "id": person_id,
                "telegram_hash": secrets.token_hex(32),
                "telegram_id_enc": b"not read by a search",
                "phone_hash": phone.phone_hash(crypto, f"+99450{number:07d}"),
                "created_at": created,
                "last_active_at": created,
            }
        )
        cases.append(
            {
                "id": uuid.uuid4(),
                "code": f"IP-2026-{number + 1:06d}",
                "beneficiary_id": person_id,
                "stage": ("new", "screening", "closed")[number % 3],
                "source": "bot",
                "language": "ru",
                "created_at": created,
                "updated_at": created,
                "version": 1,
            }
        )
    async with sessionmaker() as session, session.begin():
        await session.execute(insert(Beneficiary), people)
        await session.execute(insert(Case), cases)
        if database.backend == "postgresql":
            await session.execute(text("ANALYZE beneficiaries"))
            await session.execute(text("ANALYZE cases"))
        else:
            await session.execute(text("ANALYZE"))
    looked_for = phone.lookup_hashes(crypto, "050 000 12 34")
    for caseworker_id in (None, 7):  # a supervisor's search and a caseworker's (their own and the queue)
        by_code = casework.search_statement(code="IP-2026-001235", caseworker_id=caseworker_id, limit=20)
        by_phone = casework.search_statement(phone_hashes=looked_for, caseworker_id=caseworker_id, limit=20)
        assert by_code is not None and by_phone is not None
        async with sessionmaker() as session:
            code_plan = await plan_of(session, database.backend, by_code)
            phone_plan = await plan_of(session, database.backend, by_phone)
            found = await casework.search_cases(
                session, phone_hashes=looked_for, caseworker_id=None, limit=20
            )
        assert [case.code for case in found] == ["IP-2026-001235"]
        if database.backend == "postgresql":
            assert "Index Scan using cases_code_key on cases" in code_plan, code_plan
            assert "Index Scan using ix_beneficiaries_phone_hash on beneficiaries" in phone_plan, phone_plan
            assert "ix_cases_beneficiary_id" in phone_plan, phone_plan
            assert "Seq Scan" not in code_plan + phone_plan, (code_plan, phone_plan)
        else:
            # The unique constraint's own index (SQLite numbers it among the table's constraints).
            assert re.search(r"SEARCH cases USING INDEX sqlite_autoindex_cases_\d+ \(code=\?\)", code_plan), (
                code_plan
            )
            assert "ix_beneficiaries_phone_hash" in phone_plan and "ix_cases_beneficiary_id" in phone_plan
            assert "SCAN " not in code_plan + phone_plan, (code_plan, phone_plan)


async def test_the_case_lists_withdrawn_check_reads_the_withdrawn_index_not_every_person(
    database: Database, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Every page of the case list asks which of its people withdrew: the partial index of the few
    who did answers it, on both databases, not a read of every person."""
    people = [
        {
            "id": uuid.uuid4(),
            "telegram_hash": secrets.token_hex(32),
            "telegram_id_enc": b"not read",
            "created_at": utcnow(),
            "last_active_at": utcnow(),
            "withdrawn_at": utcnow() if number % 500 == 0 else None,
        }
        for number in range(SEEDED)
    ]
    cases = [
        {
            "id": uuid.uuid4(),
            "code": f"IP-2026-{number + 1:06d}",
            "beneficiary_id": person["id"],
            "stage": "screening",
            "source": "bot",
            "language": "ru",
            "created_at": utcnow(),
            "updated_at": utcnow(),
            "version": 1,
        }
        for number, person in enumerate(people)
    ]
    async with sessionmaker() as session, session.begin():
        await session.execute(insert(Beneficiary), people)
        await session.execute(insert(Case), cases)
        for statement in (
            ("ANALYZE beneficiaries", "ANALYZE cases") if database.backend == "postgresql" else ("ANALYZE",)
        ):
            await session.execute(text(statement))
    page = [case["id"] for case in cases[:50]]
    async with sessionmaker() as session:
        plan = await plan_of(session, database.backend, journey.withdrawn_cases_statement(page))
        withdrawn = await journey.withdrawn_cases(session, case_ids=page)
    assert withdrawn == {cases[0]["id"]}
    if database.backend == "postgresql":
        assert "Seq Scan on beneficiaries" not in plan, plan
    else:  # SQLite reads the partial index (the withdrawn alone), not the people's table
        people_steps = [step for step in plan.splitlines() if "beneficiaries" in step]
        assert people_steps and all("INDEX ix_beneficiaries_withdrawn" in step for step in people_steps), plan


async def test_a_search_by_phone_decrypts_no_one(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    person: Callable[..., Awaitable[Case]],
    sessionmaker: async_sessionmaker[AsyncSession],
    data_key: bytes,
) -> None:
    # The same search through an app whose keys note every value they open.
    await person("IP-2026-000101", NUMBER)
    await person("IP-2026-000102", "+994551112233")
    await sign_in_as("boss", role="supervisor")
    counting = CountingCrypto([data_key])
    app = create_app(sessionmaker=sessionmaker, crypto=counting)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, cookies=client.cookies) as reader:
        answer = await reader.get("/cases", params={"q": "050 123 45 67"})
    assert found_codes(answer) == {"IP-2026-000101"}
    assert counting.opened == set()
