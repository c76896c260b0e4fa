"""The telephone interview tab: the bot's Annex 5 form for a call, prefilled, saved with its outcome."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import person_keys
from storage.crypto import Crypto
from storage.models import Case, FormResponse, StaffUser
from storage.sealing import seal_json, unseal_json

SignIn = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

CODE = "IP-2026-000100"
PAGE = f"/cases/{CODE}/interview"
BOT = {"city": "Sumqayit", "adults": 2, "contact_times": ["evening"], "status": "refugee"}


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


async def seed(
    seed_person: SeedPerson, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, owner: int
) -> Case:
    case = await seed_person(assigned_to=owner, stage="screening")
    async with sessionmaker() as session:
        await person_keys.load_for_case(session, crypto, case.id)
        response = FormResponse(case_id=case.id, form_id="interview", form_version=1, source="bot")
        seal_json(crypto, response, "answers_enc", BOT)
        session.add(response)
        await session.commit()
    return case


async def post(client: httpx.AsyncClient, data: dict[str, Any]) -> httpx.Response:
    form = soup(await client.get(PAGE)).select_one("form.interview-form")
    hidden = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    return await client.post(PAGE, data={**hidden, **data})


async def test_the_call_form_is_prefilled_from_the_bot_with_number_phone_and_multi_widgets(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("kamran")
    await seed(seed_person, sessionmaker, crypto, me.id)
    page = soup(await client.get(PAGE))
    assert page.select_one("#q-city")["value"] == "Sumqayit"
    adults = page.select_one("#q-adults")
    assert (adults["type"], adults["value"], adults["min"], adults["max"]) == ("number", "2", "0", "30")
    assert page.select_one("#q-phone")["type"] == "tel"
    assert page.select_one("#q-contact_times-evening").has_attr("checked")
    assert page.select_one("#q-status option[selected]")["value"] == "refugee"
    assert page.select_one("label[for=q-phone]").get_text(strip=True) == "Phone"  # not the bot's prompt
    outcomes = [field["value"] for field in page.select("input[name=call_outcome]")]
    assert outcomes == ["interested", "not_interested", "call_back", "unreachable", "referred"]


async def test_a_call_is_saved_as_a_new_sealed_console_response_validated_by_the_form(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("kamran")
    await seed(seed_person, sessionmaker, crypto, me.id)
    refused = await post(client, {"adults": "forty", "phone": "not a phone", "city": "Baku"})
    assert refused.status_code == 400
    errors = {
        e.find_parent(attrs={"data-question": True})["data-question"]
        for e in soup(refused).select(".field-error")
    }
    assert errors == {"adults", "phone", "call_outcome"}
    assert soup(refused).select_one("#q-city")["value"] == "Baku"  # what was typed comes back

    saved = await post(
        client,
        {
            "adults": "3",
            "phone": "050 123 45 67",
            "contact_times": ["weekend", "evening"],
            "call_outcome": "call_back",
        },
    )
    assert saved.status_code == 303
    async with sessionmaker() as session:
        rows = (await session.execute(select(FormResponse).order_by(FormResponse.created_at))).scalars().all()
    assert [(row.form_id, row.source) for row in rows] == [("interview", "bot"), ("interview", "console")]
    answers = unseal_json(crypto, rows[1], "answers_enc")
    assert answers["adults"] == 3 and answers["phone"] == "+994501234567"
    assert answers["contact_times"] == ["evening", "weekend"]
    assert answers["call_outcome"] == "call_back" and answers["_caseworker_id"] == me.id
    # The next call starts from these answers, but not from this call's outcome.
    again = soup(await client.get(PAGE))
    assert again.select_one("#q-adults")["value"] == "3"
    assert not again.select("input[name=call_outcome][checked]")
