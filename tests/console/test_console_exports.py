"""Exports: figures and pseudonymised cases as CSV and XLSX (read back with openpyxl), no names
unless a full export was authorised with a reason, which comes as an AES-encrypted archive with an
expiry; formula payloads never become formulas."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Awaitable, Callable

import httpx
import pytest
import pyzipper
from bs4 import BeautifulSoup
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake.demo_data import Story, add_story
from storage.crypto import Crypto
from storage.models import AuditEntry, Beneficiary, Case, StaffUser, utcnow
from storage.models_figures import FullExport
from storage.models_journey import DataRequest
from storage.sealing import unseal
from tests.console.conftest import form_token

SignIn = Callable[..., Awaitable[StaffUser]]

NAME = "Zarina Nazarova"
PHONE = "+994501234567"
# What a person could make the data say: a channel from a deep link, a name they typed.
PAYLOADS = ('=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1")
REASON = "Funder audit of the 2026 cohort, requested in writing by the programme manager"


@pytest.fixture
async def cases(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> None:
    async with sessionmaker() as session:
        await add_story(
            session,
            crypto,
            Story(code="IP-2026-000001", name=NAME, phone=PHONE, source="bot"),
            telegram_id=11,
        )
        for index, payload in enumerate(PAYLOADS, start=2):
            await add_story(
                session,
                crypto,
                Story(code=f"IP-2026-{index:06d}", name=payload, phone=PHONE, source=payload, language="az"),
                telegram_id=10 + index,
            )
        await session.commit()


def csv_rows(response: httpx.Response) -> list[list[str]]:
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(content: bytes) -> list[list[object]]:
    """The cells' values; every one must be a plain value, and any text that starts like a
    formula must carry Excel's quote prefix (it stays text even when edited)."""
    book = load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.value
            if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@", "\t", "\r")):
                assert cell.data_type == "s" and cell.quotePrefix, cell.value
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


async def test_pseudonymised_case_exports_carry_codes_and_no_names(
    client: httpx.AsyncClient, sign_in_as: SignIn, cases: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("sofia", role="supervisor")
    as_csv = await client.get("/figures/cases-export", params={"format": "csv"})
    as_xlsx = await client.get("/figures/cases-export", params={"format": "xlsx"})
    assert as_xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in as_csv.headers["content-disposition"]
    for rows in (csv_rows(as_csv), xlsx_rows(as_xlsx.content)):
        assert rows[0][:4] == ["Case", "Stage", "Language", "Channel"]
        assert [row[0] for row in rows[1:]] == [f"IP-2026-{number:06d}" for number in range(1, 8)]
        flat = " ".join(str(value) for row in rows for value in row)
        assert NAME not in flat and PHONE not in flat
    async with sessionmaker() as session:
        actions = (await session.execute(select(AuditEntry.action, AuditEntry.details))).all()
    assert [(action, details["rows"], details["full"]) for action, details in actions] == [
        ("cases.exported", 7, False),
        ("cases.exported", 7, False),
    ]


async def test_formula_payloads_are_neutralised_in_csv_and_xlsx(
    client: httpx.AsyncClient, sign_in_as: SignIn, cases: None
) -> None:
    await sign_in_as("sofia", role="supervisor")
    rows = csv_rows(await client.get("/figures/cases-export", params={"format": "csv"}))
    assert [row[3] for row in rows[2:]] == ["'" + payload for payload in PAYLOADS]
    # XLSX keeps the value as it is, as a string cell with the quote prefix (checked in xlsx_rows).
    sheet = xlsx_rows((await client.get("/figures/cases-export", params={"format": "xlsx"})).content)
    assert [row[3] for row in sheet[2:]] == list(PAYLOADS)
    # The figures export too: a channel shows up in no figure, but the partner names do; here
    # the masked counts stay text ("<5") and nothing starts a formula.
    figures = xlsx_rows((await client.get("/figures/export", params={"format": "xlsx"})).content)
    assert ["Funnel", "Screened", "7"] in figures
    assert ["Funnel", "Closed", "<5"] in figures


async def test_a_caseworker_gets_no_case_export(client: httpx.AsyncClient, sign_in_as: SignIn) -> None:
    await sign_in_as("leyla", role="caseworker")
    assert (await client.get("/figures/cases-export", params={"format": "csv"})).status_code == 403
    assert (await client.get("/figures/full-export")).status_code == 403


async def test_an_unknown_format_is_refused(client: httpx.AsyncClient, sign_in_as: SignIn) -> None:
    await sign_in_as("sofia", role="supervisor")
    assert (await client.get("/figures/cases-export", params={"format": "pdf"})).status_code == 400


async def full_export(client: httpx.AsyncClient, **data: str) -> httpx.Response:
    page = await client.get("/figures/full-export")
    return await client.post("/figures/full-export", data={"csrf_token": form_token(page), **data})


async def test_a_full_export_needs_a_reason_and_comes_encrypted_with_names(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    cases: None,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await sign_in_as("sofia", role="supervisor")
    refused = await full_export(client, reason="because", format="xlsx")
    assert refused.status_code == 400
    assert "Write why the full export is needed" in refused.text
    async with sessionmaker() as session:
        assert (await session.execute(select(FullExport))).first() is None

    ready = await full_export(client, reason=REASON, format="xlsx")
    assert ready.status_code == 200
    page = BeautifulSoup(ready.text, "lxml")
    passphrase = page.select_one("#passphrase").get_text()
    link = page.select_one("#download-link")["href"]
    archive = await client.get(link)
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    assert NAME.encode() not in archive.content

    with pyzipper.AESZipFile(io.BytesIO(archive.content)) as opened:
        (inner,) = opened.namelist()
        with pytest.raises(RuntimeError):
            opened.read(inner, pwd=b"wrong passphrase")
        content = opened.read(inner, pwd=passphrase.encode())
    rows = xlsx_rows(content)
    assert rows[0][:3] == ["Case", "Name", "Phone"]
    assert rows[1][:3] == ["IP-2026-000001", NAME, PHONE]
    assert [row[1] for row in rows[2:]] == list(PAYLOADS)

    async with sessionmaker() as session:
        record = (await session.execute(select(FullExport))).scalar_one()
        entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
        assert unseal(crypto, record, "reason_enc") == REASON
        assert record.expires_at - record.created_at == dt.timedelta(hours=24)
    assert passphrase not in str([entry.details for entry in entries])
    assert [(entry.action, entry.object_type) for entry in entries] == [
        ("cases.exported", "full_export"),
        ("full_export.downloaded", "full_export"),
    ]
    assert entries[0].details["full"] is True and REASON not in str(entries[0].details)

    # Another supervisor cannot fetch it; once expired, nobody can.
    client.cookies.clear()
    await sign_in_as("ramin", role="supervisor")
    assert (await client.get(link)).status_code == 404
    async with sessionmaker() as session:
        await session.execute(update(FullExport).values(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
        await session.commit()
    # The next full export removes the expired archive.
    assert (await full_export(client, reason=REASON, format="csv")).status_code == 200
    async with sessionmaker() as session:
        remaining = (await session.execute(select(FullExport.file_name))).scalars().all()
    assert len(remaining) == 1 and remaining[0].startswith("cases-full-")


async def test_an_expired_export_is_gone(
    client: httpx.AsyncClient, sign_in_as: SignIn, cases: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("sofia", role="supervisor")
    ready = await full_export(client, reason=REASON, format="csv")
    link = BeautifulSoup(ready.text, "lxml").select_one("#download-link")["href"]
    async with sessionmaker() as session:
        await session.execute(update(FullExport).values(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
        await session.commit()
    assert (await client.get(link)).status_code == 404


async def test_a_full_export_leaves_out_people_who_withdrew_or_asked_to_be_erased(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    cases: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        people = {case.code: case.beneficiary_id for case in (await session.execute(select(Case))).scalars()}
        withdrawn, erasing = people["IP-2026-000001"], people["IP-2026-000002"]
        await session.execute(
            update(Beneficiary).where(Beneficiary.id == withdrawn).values(withdrawn_at=utcnow())
        )
        session.add(DataRequest(beneficiary_id=erasing, kind="deletion", status="open"))
        await session.commit()
    await sign_in_as("sofia", role="supervisor")
    ready = await full_export(client, reason=REASON, format="csv")
    page = BeautifulSoup(ready.text, "lxml")
    archive = await client.get(page.select_one("#download-link")["href"])
    with pyzipper.AESZipFile(io.BytesIO(archive.content)) as opened:
        (inner,) = opened.namelist()
        content = opened.read(inner, pwd=page.select_one("#passphrase").get_text().encode())
    codes = [row[0] for row in csv.reader(io.StringIO(content.decode("utf-8-sig")))][1:]
    assert "IP-2026-000001" not in codes and "IP-2026-000002" not in codes
    assert sorted(codes) == sorted(
        code for code in people if code not in ("IP-2026-000001", "IP-2026-000002")
    )
    assert NAME not in content.decode("utf-8-sig")
