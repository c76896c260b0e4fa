"""Supervisors' erasure requests: only they see them; carrying one out erases the person, tells
them in their language and leaves a tombstone; a refusal needs a reason, which they are told; hostile
or stale forms get a clear message and change nothing."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from aiogram.utils.i18n import I18n
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.crypto import Crypto
from storage.journey import add_data_request
from storage.models import AuditEntry, Beneficiary, Case, OutboxMessage, StaffUser, utcnow
from storage.models_erasure import CaseTombstone
from storage.models_journey import DataRequest
from storage.sealing import open_value, unseal
from tests.conftest import Database
from tests.console.conftest import ConsoleClock, form_token

SignIn = Callable[..., Awaitable[StaffUser]]


SeedPerson = Callable[..., Awaitable[Case]]
CODE = "IP-2026-000140"


async def seed_request(
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    *,
    due_in: dt.timedelta = dt.timedelta(days=30),
    code: str = CODE,
) -> DataRequest:
    case = await seed_person(code=code, stage="initial_assessment", language="ru")
    async with sessionmaker() as session:
        beneficiary = await session.get(Beneficiary, case.beneficiary_id)
        assert beneficiary is not None
        beneficiary.language = "ru"
        request = await add_data_request(
            session,
            crypto,
            beneficiary=beneficiary,
            case=await session.get(Case, case.id),
            kind="deletion",
            details=None,
            due_after=due_in,
        )
        await session.commit()
        return request


async def outbox(sessionmaker: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessionmaker() as session:
        return list(
            (await session.execute(select(OutboxMessage).order_by(OutboxMessage.created_at))).scalars()
        )


def payload(crypto: Crypto, row: OutboxMessage) -> dict[str, object]:
    return json.loads(open_value(crypto, "outbox", "payload_enc", row.id, row.payload_enc) or "null")


async def test_only_supervisors_see_erasure_requests(
    client: httpx.AsyncClient, sign_in_as: SignIn, seed_person: SeedPerson, sessionmaker, crypto: Crypto
) -> None:
    request = await seed_request(seed_person, sessionmaker, crypto)
    await sign_in_as("leyla", role="caseworker")
    assert (await client.get("/erasure")).status_code == 403
    assert (await client.get(f"/erasure/{request.id}")).status_code == 403
    page = BeautifulSoup((await client.get("/")).text, "lxml")
    assert not page.select("a[href='/erasure']")


async def test_the_queue_shows_made_and_due_and_highlights_the_overdue(
    client: httpx.AsyncClient, sign_in_as: SignIn, seed_person: SeedPerson, sessionmaker, crypto: Crypto
) -> None:
    late = await seed_request(seed_person, sessionmaker, crypto, due_in=-dt.timedelta(days=2))
    soon = await seed_request(
        seed_person, sessionmaker, crypto, due_in=dt.timedelta(days=20), code="IP-2026-000141"
    )
    await sign_in_as("sofia", role="supervisor")
    response = await client.get("/erasure")
    assert response.status_code == 200
    page = BeautifulSoup(response.text, "lxml")
    assert page.select_one("nav a[href='/erasure']") is not None
    rows = page.select("tr.erasure-request")
    assert [row["data-request"] for row in rows] == [str(late.id), str(soon.id)]
    assert "erasure-overdue" in rows[0]["class"] and "Overdue" in rows[0].get_text()
    assert "erasure-overdue" not in rows[1]["class"]
    assert rows[0].select_one(".case-code").get_text(strip=True) == CODE


async def test_whether_a_request_is_overdue_is_the_consoles_clocks_decision(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    clock: ConsoleClock,
) -> None:
    await seed_request(seed_person, sessionmaker, crypto, due_in=dt.timedelta(days=20))

    async def overdue() -> bool:
        page = BeautifulSoup((await client.get("/erasure")).text, "lxml")
        (row,) = page.select("tr.erasure-request")
        return "erasure-overdue" in row["class"]

    await sign_in_as("sofia", role="supervisor")
    assert not await overdue()
    clock.at = utcnow() + dt.timedelta(days=21)
    await sign_in_as("samira", role="supervisor")  # the first session ended with the move
    assert await overdue()


async def test_carrying_out_erases_the_person_tells_them_in_their_language_and_leaves_a_tombstone(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    i18n: I18n,
) -> None:
    request = await seed_request(seed_person, sessionmaker, crypto)
    async with sessionmaker() as session:
        beneficiary = (await session.execute(select(Beneficiary))).scalar_one()
        chat = unseal(crypto, beneficiary, "telegram_id_enc")
    await sign_in_as("sofia", role="supervisor")
    page = await client.get(f"/erasure/{request.id}")
    token = form_token(page)
    # Without the confirmation box nothing happens.
    unconfirmed = await client.post(f"/erasure/{request.id}/erase", data={"csrf_token": token})
    assert unconfirmed.status_code == 400
    assert "Tick the box" in BeautifulSoup(unconfirmed.text, "lxml").select_one("[role=alert]").get_text()
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Beneficiary))).scalar_one() == 1

    done = await client.post(f"/erasure/{request.id}/erase", data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 303
    async with sessionmaker() as session:
        for model in (Beneficiary, Case, DataRequest):
            assert (await session.execute(select(func.count()).select_from(model))).scalar_one() == 0
        tombstone = await session.get(CaseTombstone, CODE)
        actions = (await session.execute(select(AuditEntry.action, AuditEntry.object_id))).all()
    assert tombstone is not None and tombstone.reason == "request"
    assert ("erasure.carried_out", CODE) in actions and ("beneficiary.erased", CODE) in actions
    [message] = await outbox(sessionmaker)
    assert message.beneficiary_id is None and message.staff_user_id is None
    assert open_value(crypto, "outbox", "chat_id_enc", message.id, message.chat_id_enc) == chat
    expected = i18n.gettext(
        "Your data has been erased, as you asked. If you write to us again, we will start from the beginning.",
        locale="ru",
    )
    assert payload(crypto, message)["text"] == expected

    # A second submit (another tab, a double click) finds nothing open and changes nothing.
    again = await client.post(f"/erasure/{request.id}/erase", data={"csrf_token": token, "confirm": "yes"})
    assert again.status_code == 409
    assert "no longer open" in BeautifulSoup(again.text, "lxml").select_one("[role=alert]").get_text()
    assert len(await outbox(sessionmaker)) == 1

    # The erased case's address says what happened to it, instead of "not found".
    gone = await client.get(f"/cases/{CODE}")
    assert gone.status_code == 410
    text = BeautifulSoup(gone.text, "lxml").select_one("main").get_text(" ", strip=True)
    assert f"Case {CODE} was erased" in text and "at the person's request" in text


async def test_a_refusal_needs_a_reason_and_tells_the_person_what_the_supervisor_wrote(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    i18n: I18n,
) -> None:
    request = await seed_request(seed_person, sessionmaker, crypto)
    await sign_in_as("sofia", role="supervisor")
    token = form_token(await client.get(f"/erasure/{request.id}"))
    url = f"/erasure/{request.id}/refuse"

    empty = await client.post(url, data={"csrf_token": token, "reason": "   \n "})
    assert empty.status_code == 400
    assert "Write the reason" in BeautifulSoup(empty.text, "lxml").select_one("[role=alert]").get_text()

    long = "The court ordered us to keep the file. " * 130  # over 5,000 characters
    too_long = await client.post(url, data={"csrf_token": token, "reason": long})
    assert too_long.status_code == 400
    page = BeautifulSoup(too_long.text, "lxml")
    assert "at most 2000" in page.select_one("[role=alert]").get_text().replace(",", "")
    # Nothing typed is lost: the whole text comes back in the form to be shortened.
    assert page.select_one("textarea[name=reason]").get_text() == long

    forged = await client.post(f"/erasure/{uuid.uuid4()}/refuse", data={"csrf_token": token, "reason": "x"})
    assert forged.status_code == 409
    nonsense = await client.post("/erasure/not-an-id/refuse", data={"csrf_token": token, "reason": "x"})
    assert nonsense.status_code == 409
    assert await outbox(sessionmaker) == []

    reason = "A court case about your residence needs the file <until March>."
    refused = await client.post(url, data={"csrf_token": token, "reason": reason})
    assert refused.status_code == 303
    twice = await client.post(url, data={"csrf_token": token, "reason": reason})
    assert twice.status_code == 409
    async with sessionmaker() as session:
        stored = (await session.execute(select(DataRequest))).scalar_one()
        actions = (await session.execute(select(AuditEntry.action, AuditEntry.details))).all()
    assert stored.status == "refused" and unseal(crypto, stored, "answer_enc") == reason
    assert ("erasure.refused", {}) in [(action, details) for action, details in actions]
    [message] = await outbox(sessionmaker)
    assert message.beneficiary_id == stored.beneficiary_id
    text = str(payload(crypto, message)["text"])
    frame = i18n.gettext(
        "We cannot erase your data yet. The supervisor who looked at your request wrote:\n\n"
        "{reason}\n\nYou can write to us here with any question about it.",
        locale="ru",
    )
    assert text == frame.format(
        reason="A court case about your residence needs the file &lt;until March&gt;."
    )
    # The queue no longer lists it; it is under "Recently refused".
    queue = BeautifulSoup((await client.get("/erasure")).text, "lxml")
    assert queue.select("tr.erasure-request") == []
    assert CODE in queue.select_one(".erasure-refused").get_text()


async def test_on_the_cases_requests_tab_an_erasure_request_is_left_to_supervisors(
    client: httpx.AsyncClient, sign_in_as: SignIn, seed_person: SeedPerson, sessionmaker, crypto: Crypto
) -> None:
    request = await seed_request(seed_person, sessionmaker, crypto)
    await sign_in_as("sofia", role="supervisor")
    tab = await client.get(f"/cases/{CODE}/requests")
    page = BeautifulSoup(tab.text, "lxml")
    item = page.select_one(f"li[data-request='{request.id}']")
    assert "An erasure request, due by" in item.select_one(".request-due").get_text()
    assert item.select_one(f"a[href='/erasure/{request.id}']") is not None
    assert item.select("form[action$='/requests/done']") == []
    token = form_token(tab)
    forced = await client.post(
        f"/cases/{CODE}/requests/done", data={"csrf_token": token, "request_id": str(request.id)}
    )
    assert forced.status_code == 400
    async with sessionmaker() as session:
        assert (await session.execute(select(DataRequest.status))).scalar_one() == "open"

    reason = "The court keeps the file until its hearing."
    await client.post(f"/erasure/{request.id}/refuse", data={"csrf_token": token, "reason": reason})
    revealed = await client.post(f"/cases/{CODE}/requests/texts", data={"csrf_token": token})
    page = BeautifulSoup(revealed.text, "lxml")
    assert page.select_one(".request-answer").get_text() == reason
    assert "(Refused)" in page.select_one(f"li[data-request='{request.id}'] h3").get_text()


async def test_after_carrying_out_sqlites_log_holds_nothing_of_the_erased_person(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    database: Database,
) -> None:
    if database.backend != "sqlite":
        pytest.skip("PostgreSQL's write-ahead log is the server's")
    request = await seed_request(seed_person, sessionmaker, crypto)
    await sign_in_as("sofia", role="supervisor")
    token = form_token(await client.get(f"/erasure/{request.id}"))
    done = await client.post(f"/erasure/{request.id}/erase", data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 303
    # The erasure's pages were written back into the file (overwritten there) and the log emptied.
    assert log_size(Path(make_url(database.url).database + "-wal")) == 0


def log_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0
