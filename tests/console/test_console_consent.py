"""The consent tab: the current consent and its history, a paper signature, and the planning guard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseworker_console.routes.consent import consent_text
from programme import consent
from programme.assessment import CONSENT_LANGUAGES
from storage.journey import record_consent
from storage.models import Case, StaffUser
from storage.models_journey import Consent
from tests.console.conftest import form_token
from wording.languages import LANGUAGES as BOT_LANGUAGES

SignIn = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

CODE = "IP-2026-000100"
PAGE = f"/cases/{CODE}/consent"
PAPER = {"language": "az", "casework": "yes", "publicity": "anonymised", "third_party": "no"}


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


async def post(client: httpx.AsyncClient, path: str, data: dict[str, Any], *, page: str) -> httpx.Response:
    form = soup(await client.get(page)).select_one(f"form[action='{path}']")
    assert form is not None, path
    fields = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    return await client.post(path, data={**fields, **data})


async def consents(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Consent]:
    async with sessionmaker() as session:
        return list((await session.execute(select(Consent).order_by(Consent.recorded_at))).scalars().all())


def test_the_paper_form_offers_every_bot_language() -> None:
    assert {option.value: option.label for option in CONSENT_LANGUAGES} == BOT_LANGUAGES


async def test_a_paper_consent_supersedes_the_bots_and_both_stay_in_the_history(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    me = await sign_in_as("aysel", display_name="Aysel")
    case = await seed_person(assigned_to=me.id, stage="initial_assessment", language="az")
    async with sessionmaker() as session:
        stored = await session.get(Case, case.id)
        assert stored is not None
        await record_consent(
            session,
            case=stored,
            casework=False,
            publicity="none",
            third_party=False,
            language="ru",
            text_version="2026-01",
            text_hash="0" * 64,
        )
        await session.commit()
    before = soup(await client.get(PAGE))
    assert before.select_one(".consent-casework").get_text() == "No"
    # The form starts in the case's language.
    assert before.select_one("#q-language option[selected]")["value"] == "az"

    saved = await post(client, PAGE, PAPER, page=PAGE)
    assert saved.status_code == 303
    old, new = await consents(sessionmaker)
    assert old.superseded_at is not None and new.superseded_at is None
    assert (new.channel, new.recorded_by, new.language, new.text_version) == (
        "paper",
        me.id,
        "az",
        consent.TEXT_VERSION,  # nothing set: the environment's (none), the shipped periods
    )
    assert (new.casework, new.publicity, new.third_party) == (True, "anonymised", False)
    assert new.text_hash == consent.text_hash(consent_text("az", ""))
    # The Azerbaijani wording, not the English source, naming the organisation in Azerbaijani.
    assert consent_text("az", "") != consent.TEXT and "{controller}" not in consent_text("az", "")
    page = soup(await client.get(PAGE))
    assert page.select_one(".consent-casework").get_text() == "Yes"
    assert page.select_one(".consent-channel").get_text().startswith("Signed on paper")
    rows = page.select("table.consent-history tbody tr")
    assert len(rows) == 2 and "consent-current" in rows[0]["class"]
    assert [cell.get_text() for cell in rows[1].select("td")][1:4] == ["In the bot", "2026-01", "Русский"]


async def test_an_incomplete_or_stale_paper_consent_records_nothing(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    me = await sign_in_as("aysel")
    await seed_person(assigned_to=me.id, stage="initial_assessment")
    missing = await post(client, PAGE, {**PAPER, "casework": ""}, page=PAGE)
    assert missing.status_code == 400
    assert soup(missing).select_one("[data-question=casework] .field-error") is not None
    wrong = await post(client, PAGE, {**PAPER, "language": "xx"}, page=PAGE)
    assert wrong.status_code == 400
    token = form_token(await client.get(PAGE))
    stale = await client.post(PAGE, data={"csrf_token": token, "version": "0", **PAPER})
    assert stale.status_code == 409
    assert await consents(sessionmaker) == []


async def test_recording_a_paper_consent_lets_intervention_planning_start(
    client: httpx.AsyncClient, sign_in_as: SignIn, seed_person: SeedPerson
) -> None:
    me = await sign_in_as("aysel")
    await seed_person(assigned_to=me.id, stage="initial_assessment")
    overview = f"/cases/{CODE}"
    advance = f"/cases/{CODE}/advance"
    refused = await post(client, advance, {}, page=overview)
    assert refused.status_code == 400
    assert "consent" in soup(refused).select_one("p.error").get_text()

    assert (await post(client, PAGE, PAPER, page=PAGE)).status_code == 303
    moved = await post(client, advance, {}, page=overview)
    assert moved.status_code == 303
    assert soup(await client.get(overview)).select_one(".case-stage").get_text() == "Intervention planning"


async def test_a_paper_consent_refusing_case_work_keeps_planning_closed(
    client: httpx.AsyncClient, sign_in_as: SignIn, seed_person: SeedPerson
) -> None:
    me = await sign_in_as("aysel")
    await seed_person(assigned_to=me.id, stage="initial_assessment")
    assert (await post(client, PAGE, {**PAPER, "casework": "no"}, page=PAGE)).status_code == 303
    refused = await post(client, f"/cases/{CODE}/advance", {}, page=f"/cases/{CODE}")
    assert refused.status_code == 400
