"""A campaign to the people of a city: the composer takes cities typed by the officer, the draft's
count and preview, and the worker's expansion into the outbox reach exactly those people (with
another filter too); a caseworker's correction of the interview moves a person in or out."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake.demo_data import seed_demo
from outreach.campaigns import Segment, count_by_language
from storage.crypto import Crypto
from storage.journey import ensure_case, save_form_response
from storage.models import Beneficiary, Case, FormResponse, OutboxMessage, StaffUser, utcnow
from storage.models_appointments import Office
from storage.models_outreach import Campaign
from storage.queries import get_or_create_beneficiary
from tests.console.conftest import form_token
from tests.console.test_console_campaigns import FORM
from tests.outreach.conftest import campaign_worker

SignIn = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

# telegram id → (language, the city as they typed it in the bot's interview; None: skipped)
PEOPLE: dict[int, tuple[str, str | None]] = {
    801: ("ru", "Bakı"),
    802: ("ru", "BAKI "),
    803: ("az", "baki"),
    804: ("ru", "Баку"),  # another alphabet: another city
    805: ("ru", "Sumqayıt"),
    806: ("tr", "sumqayit"),
    807: ("ru", None),
}


async def interviewed(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> dict[int, uuid.UUID]:
    ids = {}
    async with sessionmaker() as session, session.begin():
        for telegram_id, (language, city) in PEOPLE.items():
            beneficiary = await get_or_create_beneficiary(session, crypto, telegram_id=telegram_id)
            beneficiary.language = language
            case = await ensure_case(session, beneficiary=beneficiary)
            answers: dict[str, Any] = {"adults": 1} if city is None else {"city": city}
            await save_form_response(
                session, crypto, case=case, form_id="interview", form_version=1, answers=answers
            )
            ids[telegram_id] = beneficiary.id
    return ids


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


def recipients(page: BeautifulSoup) -> str:
    return page.select_one(".campaign-recipients").get_text()


async def segment_counts(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, campaign_id: uuid.UUID
) -> dict[str | None, int]:
    """What the draft's segment holds, by language: the page masks counts under 5 (as the figures
    page does), so the exact numbers are read where the page reads them."""
    async with sessionmaker() as session:
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None
        return await count_by_language(session, Segment.from_data(campaign.segment), utcnow(), crypto=crypto)


async def test_a_city_segment_counts_previews_and_expands_to_exactly_the_people_of_that_city(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    people = await interviewed(sessionmaker, crypto)
    await sign_in_as("olga", role="outreach")
    token = form_token(await client.get("/campaigns/new"))

    # Bad input is refused with a clear note, and what was typed comes back.
    refused = await client.post(
        "/campaigns/new", data={**FORM, "csrf_token": token, "cities": "Baku\n  --- \n"}
    )
    assert refused.status_code == 400
    page = soup(refused)
    assert page.select_one("#cities-error").get_text() == (
        "Write each city with at least one letter or digit, one city per line."
    )
    assert page.select_one("#segment-cities").get_text() == "Baku\n  ---"
    assert page.select_one("#segment-cities")["aria-invalid"] == "true"
    too_long = await client.post("/campaigns/new", data={**FORM, "csrf_token": token, "cities": "B" * 81})
    assert (
        soup(too_long).select_one("#cities-error").get_text() == "A city can be at most 80 characters long."
    )
    many = "\n".join(f"City {n}" for n in range(21))
    too_many = await client.post("/campaigns/new", data={**FORM, "csrf_token": token, "cities": many})
    assert soup(too_many).select_one("#cities-error").get_text() == "Name at most 20 cities."

    created = await client.post(
        "/campaigns/new", data={**FORM, "csrf_token": token, "cities": "  Baki\r\nbakı\r\n"}
    )
    assert created.status_code == 303
    location = created.headers["location"]
    campaign_id = uuid.UUID(location.rsplit("/", 1)[1])
    draft = soup(await client.get(location))
    assert recipients(draft) == "People who would get it now: <5"
    assert await segment_counts(sessionmaker, crypto, campaign_id) == {"ru": 2, "az": 1}
    # The two ways of typing one city are kept once, as typed first.
    assert draft.select_one("#segment-cities").get_text() == "Baki"
    # Nobody's answer is shown: only what the officer typed.
    assert "sumqayıt" not in draft.get_text().casefold()

    # Two cities and one language: the count follows.
    changed = await client.post(
        f"/campaigns/{campaign_id}/edit",
        data={**FORM, "csrf_token": token, "version": "1", "cities": "baku\nSUMQAYIT", "languages": ["ru"]},
    )
    assert changed.status_code == 303
    assert await segment_counts(sessionmaker, crypto, campaign_id) == {"ru": 1}
    changed = await client.post(
        f"/campaigns/{campaign_id}/edit",
        data={**FORM, "csrf_token": token, "version": "2", "cities": "baki\nSUMQAYIT", "languages": ["ru"]},
    )
    assert changed.status_code == 303
    assert await segment_counts(sessionmaker, crypto, campaign_id) == {"ru": 3}

    # A city narrows it to fewer than 10: the officer cannot send it before a supervisor approves it.
    refused = await client.post(
        f"/campaigns/{campaign_id}/schedule", data={"csrf_token": token, "version": "3"}
    )
    assert refused.status_code == 403
    await sign_in_as("sabina", role="supervisor")
    token = form_token(await client.get(location))
    approved = await client.post(
        f"/campaigns/{campaign_id}/approve", data={"csrf_token": token, "version": "3"}
    )
    assert approved.status_code == 303
    scheduled = await client.post(
        f"/campaigns/{campaign_id}/schedule", data={"csrf_token": token, "version": "4"}
    )
    assert scheduled.status_code == 303
    worker = campaign_worker(sessionmaker, crypto)
    assert await worker.run_once() == 3
    async with sessionmaker() as session:
        reached = set(
            (
                await session.execute(
                    select(OutboxMessage.beneficiary_id).where(OutboxMessage.campaign_id == campaign_id)
                )
            ).scalars()
        )
    assert reached == {people[801], people[802], people[805]}


async def city_hash_of(sessionmaker: async_sessionmaker[AsyncSession], case: Case) -> str | None:
    async with sessionmaker() as session:
        return (
            await session.execute(select(Beneficiary.city_hash).where(Beneficiary.id == case.beneficiary_id))
        ).scalar_one()


async def test_a_caseworkers_correction_of_the_interview_changes_the_city_index_and_a_blank_city_clears_it(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("kamran")
    case = await seed_person(assigned_to=me.id, stage="screening")
    async with sessionmaker() as session, session.begin():
        await save_form_response(
            session,
            crypto,
            case=await session.get(Case, case.id),
            form_id="interview",
            form_version=1,
            answers={"city": "Sumqayit"},
        )
    assert await city_hash_of(sessionmaker, case) == crypto.blind_index("city", "sumqayit")
    page = f"/cases/{case.code}/interview"

    async def call(city: str) -> httpx.Response:
        form = soup(await client.get(page)).select_one("form.interview-form")
        hidden = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
        return await client.post(page, data={**hidden, "city": city, "call_outcome": "interested"})

    # A refused form changes nothing.
    form = soup(await client.get(page)).select_one("form.interview-form")
    hidden = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    refused = await client.post(page, data={**hidden, "city": "Baku"})  # no outcome of the call
    assert refused.status_code == 400
    assert await city_hash_of(sessionmaker, case) == crypto.blind_index("city", "sumqayit")

    assert (await call("Gəncə")).status_code == 303
    assert await city_hash_of(sessionmaker, case) == crypto.blind_index("city", "gəncə")
    assert (await call("")).status_code == 303
    assert await city_hash_of(sessionmaker, case) is None


async def test_the_demo_people_have_cities_and_a_segment_finds_each_city_however_it_was_typed(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    async with sessionmaker() as session, session.begin():
        office = Office(name="Demo office", address="Baku", latitude=40.4, longitude=49.9)
        session.add(office)
        await session.flush()
        assert await seed_demo(session, crypto, office=office, staff_id=None)

    async def count(*cities: str) -> int:
        async with sessionmaker() as session:
            found = await count_by_language(session, Segment(cities=cities), utcnow(), crypto=crypto)
        return sum(found.values())

    async with sessionmaker() as session:
        interviews = (
            await session.execute(select(func.count()).where(FormResponse.form_id == "interview"))
        ).scalar_one()
        stopped = (
            await session.execute(
                select(func.count())
                .select_from(Beneficiary)
                .where((Beneficiary.opted_out.is_(True)) | (Beneficiary.unreachable_at.is_not(None)))
            )
        ).scalar_one()
    # "Bakı" and "Baki" as the people typed them are one city; "BAKU" and "Баку" are other spellings.
    baki = await count("baki")
    assert baki == await count("BAKI", "Bakı") > 0
    assert baki + await count("baku") == await count("Baki", "Baku") > baki > 0
    assert await count("Баку") > 0
    every = {"baki", "baku", "sumqayit", "gəncə", "xirdalan", "mingəcevir", "баку"}
    assert await count(*every) == interviews - stopped
