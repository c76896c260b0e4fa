"""The requests tab: the bot's requests listed, their texts behind an audited reveal, worked to done."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.crypto import Crypto
from storage.journey import add_data_request
from storage.models import AuditEntry, Beneficiary, Case, StaffUser
from storage.models_casework import CaseClosure
from storage.models_journey import DataRequest
from tests.console.conftest import form_token

SignIn = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

CODE = "IP-2026-000100"
PAGE = f"/cases/{CODE}/requests"
SECRET = "Please fix my name: it is Zarina, not Zareena"


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


async def add_requests(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, case: Case, *specs: tuple[str, Any]
) -> None:
    async with sessionmaker() as session:
        stored = await session.get(Case, case.id)
        beneficiary = await session.get(Beneficiary, case.beneficiary_id)
        assert stored is not None and beneficiary is not None
        for kind, details in specs:
            await add_data_request(
                session, crypto, beneficiary=beneficiary, case=stored, kind=kind, details=details
            )
        await session.commit()


async def rows(sessionmaker: async_sessionmaker[AsyncSession], model: Any) -> list[Any]:
    async with sessionmaker() as session:
        return list((await session.execute(select(model))).scalars().all())


async def test_requests_are_listed_without_their_text_until_an_audited_reveal(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("rauf")
    case = await seed_person(assigned_to=me.id, stage="initial_assessment")
    await add_requests(sessionmaker, crypto, case, ("correction", {"text": SECRET}), ("deletion", None))
    page = await client.get(PAGE)
    assert [h.get_text(" ", strip=True) for h in soup(page).select("li.request h3")] == [
        "Correction of their data (Open)",
        "Deletion of their data (Open)",
    ]
    assert SECRET not in page.text
    revealed = await client.post(f"{PAGE}/texts", data={"csrf_token": form_token(page)})
    assert revealed.status_code == 200
    assert revealed.headers["cache-control"] == "no-store"
    assert [q.get_text() for q in soup(revealed).select(".request-text")] == [SECRET, "Not given"]
    entries = [e for e in await rows(sessionmaker, AuditEntry) if e.action == "requests.revealed"]
    assert [(e.object_id, e.actor, e.details) for e in entries] == [(CODE, f"staff:{me.id}", {})]
    assert SECRET not in (await client.get(PAGE)).text  # not kept


async def test_marking_a_request_done_records_who_and_when_and_only_for_this_case(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("rauf")
    case = await seed_person(assigned_to=me.id, stage="initial_assessment")
    someone_else = await seed_person(code="IP-2026-000200", phone="+994507654321")
    await add_requests(sessionmaker, crypto, case, ("correction", {"text": SECRET}))
    await add_requests(sessionmaker, crypto, someone_else, ("deletion", None))
    theirs = next(r for r in await rows(sessionmaker, DataRequest) if r.case_id == someone_else.id)
    mine = next(r for r in await rows(sessionmaker, DataRequest) if r.case_id == case.id)
    token = form_token(await client.get(PAGE))

    for wrong in (str(theirs.id), "not-an-id", ""):
        refused = await client.post(f"{PAGE}/done", data={"csrf_token": token, "request_id": wrong})
        assert refused.status_code == 400
    done = await client.post(f"{PAGE}/done", data={"csrf_token": token, "request_id": str(mine.id)})
    assert done.status_code == 303
    by_id = {r.id: r for r in await rows(sessionmaker, DataRequest)}
    assert by_id[mine.id].status == "done" and by_id[mine.id].done_by == me.id
    assert by_id[mine.id].done_at is not None
    assert by_id[theirs.id].status == "open"
    page = soup(await client.get(PAGE))
    assert page.select_one("li.request .request-status").get_text() == "(Done)"
    assert page.select("form[action$='/requests/done']") == []
    assert "request.done" in {e.action for e in await rows(sessionmaker, AuditEntry)}


async def test_a_withdrawal_request_offers_closing_with_reason_one_then_is_marked_done(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("rauf")
    case = await seed_person(assigned_to=me.id, stage="implementation")
    await add_requests(sessionmaker, crypto, case, ("withdrawal", {"text": "I moved to another city"}))
    page = soup(await client.get(PAGE))
    close = page.select_one("form.withdraw-close-form")
    assert close is not None and close["action"] == f"/cases/{CODE}/close"
    data = {field["name"]: field.get("value", "") for field in close.select("input")}
    assert data["reason"] == "withdrew"
    closed = await client.post(close["action"], data={**data, "details": "By written request"})
    assert closed.status_code == 303
    [closure] = await rows(sessionmaker, CaseClosure)
    assert closure.reason == "withdrew"
    [stored] = await rows(sessionmaker, Case)
    assert stored.stage == "closed"
    # On the closed case the request is still there to be marked done.
    after = soup(await client.get(PAGE))
    assert after.select("form.withdraw-close-form") == []
    done_form = after.select_one("form[action$='/requests/done']")
    assert done_form is not None
    fields = {field["name"]: field["value"] for field in done_form.select("input")}
    assert (await client.post(done_form["action"], data=fields)).status_code == 303
    [request] = await rows(sessionmaker, DataRequest)
    assert request.status == "done"
