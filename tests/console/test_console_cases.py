"""The case list: what each row shows, that nothing names a person, paging, languages, the audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import httpx
from bs4 import BeautifulSoup, Tag
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseworker_console.i18n import translations
from storage import person_keys
from storage.crypto import Crypto
from storage.models import AuditEntry, Beneficiary, Case, StaffUser, utcnow
from storage.sealing import seal

SignIn = Callable[..., Awaitable[StaffUser]]
SeedCases = Callable[..., Awaitable[list[Case]]]


def soup(response: httpx.Response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.text, "lxml")


def rows(page: BeautifulSoup) -> dict[str, dict[str, str]]:
    """Each row of the case table as {case code: {column class: visible text}}."""
    table: dict[str, dict[str, str]] = {}
    for row in page.select("table.cases tbody tr"):
        cells: dict[str, str] = {}
        for cell in row.find_all(["th", "td"]):
            assert isinstance(cell, Tag)
            hidden = [span.get_text() for span in cell.select(".visually-hidden")]
            cells[cell["class"][0]] = " ".join(hidden) or " ".join(cell.get_text().split())
        table[cells["case-code"]] = cells
    return table


def column_headers(page: BeautifulSoup) -> list[str]:
    return [header.get_text(strip=True) for header in page.select("table.cases thead th")]


async def test_the_list_shows_code_stage_language_result_time_and_urgency(
    client: httpx.AsyncClient, sign_in_as: SignIn, seed_cases: SeedCases
) -> None:
    await sign_in_as("wafa")
    created = dt.datetime(2026, 3, 5, 9, 7, tzinfo=dt.UTC)
    await seed_cases(
        {
            "code": "IP-2026-000001",
            "stage": "new",
            "language": "ru",
            "provisionally_eligible": True,
            "created_at": created,
        },
        {
            "code": "IP-2026-000002",
            "stage": "initial_assessment",
            "language": "fa",
            "provisionally_eligible": False,
            "urgent": True,
            "created_at": created + dt.timedelta(hours=1),
        },
        {
            "code": "IP-2026-000003",
            "stage": "screening",
            "language": None,
            "provisionally_eligible": None,
            "created_at": created + dt.timedelta(hours=2),
        },
    )
    page = soup(await client.get("/cases"))

    assert page.select_one("table.cases caption") is not None
    assert column_headers(page) == [
        "Case code",
        "Stage",
        "Language",
        "Provisional screening result",
        "Created",
        "Urgent",
    ]
    table = rows(page)
    assert list(table) == ["IP-2026-000003", "IP-2026-000002", "IP-2026-000001"]  # newest first
    assert table["IP-2026-000001"] == {
        "case-code": "IP-2026-000001",
        "case-stage": "New",
        "case-language": "Russian",
        "case-provisional": "Eligible",
        "case-created": "Mar 5, 2026, 1:07 PM",  # 09:07 UTC is 13:07 in Baku
        "case-urgent-cell": "",
    }
    assert table["IP-2026-000002"]["case-stage"] == "Initial needs assessment"
    assert table["IP-2026-000002"]["case-provisional"] == "Not eligible"
    assert table["IP-2026-000002"]["case-urgent-cell"] == "Urgent"
    assert table["IP-2026-000002"]["case-language"] == "Persian"
    assert table["IP-2026-000003"]["case-provisional"] == "Not screened"
    assert table["IP-2026-000003"]["case-language"] == "Not known"
    time = page.select_one("tr[data-case=IP-2026-000001] time")
    assert time is not None
    assert dt.datetime.fromisoformat(str(time["datetime"])) == created


async def test_the_list_shows_no_personal_data(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await sign_in_as("xena")
    telegram_id = "5550001234"
    async with sessionmaker() as session:
        beneficiary = Beneficiary(telegram_hash=crypto.blind_index("telegram", telegram_id))
        person_keys.add_new(session, crypto, beneficiary.id)
        seal(crypto, beneficiary, "telegram_id_enc", telegram_id)
        seal(crypto, beneficiary, "name_enc", "Zarina Nazarova")
        seal(crypto, beneficiary, "phone_enc", "+994501234567")
        case = Case(
            code="IP-2026-000042", beneficiary=beneficiary, language="az", provisionally_eligible=True
        )
        session.add(case)
        await session.commit()

    response = await client.get("/cases")
    page = soup(response)
    assert list(rows(page)) == ["IP-2026-000042"]
    for secret in (
        "Zarina",
        "Nazarova",
        "+994501234567",
        telegram_id,
        str(beneficiary.id),
        str(case.id),
        beneficiary.telegram_hash,
    ):
        assert secret not in response.text
    assert not {"Name", "Phone", "Telegram"} & set(column_headers(page))


async def test_a_caseworker_lists_their_own_cases_and_the_queue_never_a_colleagues(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    make_user: Callable[..., Awaitable[StaffUser]],
    seed_cases: SeedCases,
) -> None:
    colleague = await make_user("yusif")
    me = await sign_in_as("zaur")
    await seed_cases(
        {"code": "IP-2026-000001", "assigned_to": me.id},
        {"code": "IP-2026-000002"},  # in the queue
        {"code": "IP-2026-000003", "assigned_to": colleague.id},
        {"code": "IP-2026-000004", "stage": "closed"},  # closed unassigned: nobody's queue
        {"code": "IP-2026-000005", "assigned_to": me.id, "stage": "closed"},
    )
    page = soup(await client.get("/cases"))
    assert sorted(rows(page)) == ["IP-2026-000001", "IP-2026-000002", "IP-2026-000005"]

    client.cookies.clear()
    await sign_in_as("sevda", role="supervisor")
    every = soup(await client.get("/cases"))
    assert sorted(rows(every)) == [f"IP-2026-00000{n}" for n in range(1, 6)]


async def test_the_list_pages_by_fifty(
    client: httpx.AsyncClient, sign_in_as: SignIn, seed_cases: SeedCases
) -> None:
    await sign_in_as("yusif")
    start = utcnow() - dt.timedelta(days=1)
    await seed_cases(
        *(
            {"code": f"IP-2026-{number:06d}", "created_at": start + dt.timedelta(minutes=number)}
            for number in range(1, 52)
        )
    )

    first = soup(await client.get("/cases"))
    assert len(rows(first)) == 50
    assert "IP-2026-000051" in rows(first)
    assert first.select_one("a[rel=prev]") is None
    next_link = first.select_one("a[rel=next]")
    assert next_link is not None
    assert next_link["href"] == "/cases?page=2"

    second = soup(await client.get("/cases?page=2"))
    assert list(rows(second)) == ["IP-2026-000001"]
    assert second.select_one("a[rel=next]") is None
    assert second.select_one("a[rel=prev]")["href"] == "/cases?page=1"

    beyond = soup(await client.get("/cases?page=9"))
    assert rows(beyond) == {}
    assert soup(await client.get("/cases?page=abc")).select_one("a[rel=next]") is not None


async def test_each_view_of_the_list_is_audited(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_cases: SeedCases,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    user = await sign_in_as("zaur")
    await seed_cases({"code": "IP-2026-000007"})
    await client.get("/cases")
    await client.get("/cases?page=2")
    async with sessionmaker() as session:
        entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
    assert [(entry.actor, entry.action, entry.details) for entry in entries] == [
        (f"staff:{user.id}", "cases.list", {"page": 1, "shown": 1}),
        (f"staff:{user.id}", "cases.list", {"page": 2, "shown": 0}),
    ]


async def test_the_list_is_in_russian_for_a_russian_speaking_caseworker(
    client: httpx.AsyncClient, sign_in_as: SignIn, seed_cases: SeedCases
) -> None:
    await sign_in_as("alla", language="ru", display_name="Алла")
    created = dt.datetime(2026, 3, 5, 9, 7, tzinfo=dt.UTC)
    await seed_cases(
        {
            "code": "IP-2026-000010",
            "stage": "intervention_planning",
            "language": "az",
            "provisionally_eligible": False,
            "urgent": True,
            "created_at": created,
        },
    )
    russian = translations("ru")
    page = soup(await client.get("/cases", headers={"Accept-Language": "en"}))

    html = page.select_one("html")
    assert html is not None
    assert (html["lang"], html["dir"]) == ("ru", "ltr")
    assert page.select_one("h1").get_text() == "Дела"
    assert column_headers(page)[:2] == ["Код дела", "Этап"]
    assert page.select_one("caption").get_text() == "Дела, страница 1"
    assert page.select_one(".account-name").get_text() == "Вы вошли как Алла"
    assert page.select_one("form[action='/logout'] button").get_text() == "Выйти"
    row = rows(page)["IP-2026-000010"]
    assert row["case-stage"] == russian.gettext("Intervention planning") == "Планирование вмешательства"
    assert row["case-provisional"] == "Не подходит"
    assert row["case-language"] == "Азербайджанский"
    assert row["case-urgent-cell"] == "Срочно"
    assert row["case-created"] == "5 мар. 2026 г., 13:07"


async def test_an_empty_list_says_so(client: httpx.AsyncClient, sign_in_as: SignIn) -> None:
    await sign_in_as("bahar", language="az")
    page = soup(await client.get("/cases"))
    assert page.select_one("table") is None
    assert page.select_one("main p:not(.note)").get_text() == "Hələ heç bir iş yoxdur."


async def test_display_names_are_escaped(client: httpx.AsyncClient, sign_in_as: SignIn) -> None:
    await sign_in_as("cavid", display_name='<script>alert("x")</script>')
    response = await client.get("/cases")
    page = soup(response)
    assert [script["src"] for script in page.select("script")] == ["/static/badge.js"]
    assert page.select_one(".account-name").get_text() == 'Signed in as <script>alert("x")</script>'
