"""The case file: overview, audited identity reveal, screening confirmation, Annex 1, cycle and conflicts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from programme.assessment import INITIAL_ASSESSMENT, SCREENING_CONFIRMATION
from storage.crypto import Crypto
from storage.models import AuditEntry, Case, FormResponse, StaffUser, utcnow
from storage.models_casework import CaseClosure
from storage.models_journey import Consent
from storage.sealing import unseal, unseal_json
from tests.console.conftest import form_token

SignIn = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

CODE = "IP-2026-000100"
BOT_ANSWERS = {"resides_for_reason": "yes", "has_permit": "yes", "directions": ["language", "health_social"]}
CONFIRMATION = {
    "resides_for_reason": "yes",
    "has_permit": "yes",
    "directions": ["language"],
    "impairment": "no",
    "eligible": "yes",
    "venue": "office",
}


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


def version_of(page: BeautifulSoup, form_action: str) -> str:
    field = page.select_one(f"form[action='{form_action}'] input[name=version]")
    assert field is not None, form_action
    return str(field["value"])


async def post_form(
    client: httpx.AsyncClient, path: str, answers: dict[str, Any], *, page_path: str
) -> httpx.Response:
    page = await client.get(page_path)
    data: dict[str, Any] = {
        "csrf_token": form_token(page),
        "version": version_of(soup(page), path),
        **answers,
    }
    return await client.post(path, data=data)


async def load(sessionmaker: async_sessionmaker[AsyncSession], model: Any, **where: Any) -> list[Any]:
    async with sessionmaker() as session:
        query = select(model).filter_by(**where)
        return list((await session.execute(query)).scalars().all())


async def audit(sessionmaker: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    async with sessionmaker() as session:
        return list((await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all())


async def test_the_overview_shows_the_case_but_not_who_it_is(
    client: httpx.AsyncClient, sign_in_as: SignIn, seed_person: SeedPerson
) -> None:
    me = await sign_in_as("nigar", display_name="Nigar")
    await seed_person(
        assigned_to=me.id,
        stage="screening",
        language="fa",
        source="bot",
        handoff_at=utcnow() - dt.timedelta(hours=3),
    )
    response = await client.get(f"/cases/{CODE}")
    assert response.status_code == 200
    page = soup(response)
    facts = {
        dt_.get_text(): dd.get_text(" ", strip=True)
        for dt_, dd in zip(page.select(".case-facts dt"), page.select(".case-facts dd"), strict=True)
    }
    assert facts["Stage"] == "Screening"
    assert facts["Language"] == "Persian"
    assert facts["Source channel"] == "Telegram bot"
    assert "3 hours" in facts["Waiting since"]
    assert facts["Caseworker"] == "Nigar"
    assert "Zarina" not in response.text
    assert "+994501234567" not in response.text
    assert (
        page.select_one("form[action='/cases/IP-2026-000100/identity'] button").get_text() == "Show identity"
    )


async def test_showing_the_identity_decrypts_it_audits_it_and_is_never_cached(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    me = await sign_in_as("orkhan")
    await seed_person(assigned_to=me.id, stage="screening")
    page = await client.get(f"/cases/{CODE}")
    response = await client.post(f"/cases/{CODE}/identity", data={"csrf_token": form_token(page)})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    shown = soup(response)
    assert shown.select_one(".identity-name").get_text() == "Zarina Nazarova"
    assert shown.select_one(".identity-phone").get_text() == "+994501234567"
    reveals = [entry for entry in await audit(sessionmaker) if entry.action == "identity.revealed"]
    assert [(entry.actor, entry.object_id, entry.details) for entry in reveals] == [
        (f"staff:{me.id}", CODE, {})
    ]
    # Reloading hides it again: the reveal is one response, not a state.
    assert "Zarina" not in (await client.get(f"/cases/{CODE}")).text
    assert all("Zarina" not in repr(entry.details) for entry in await audit(sessionmaker))


async def test_the_screening_tab_shows_the_bots_answers_and_a_form_built_from_the_definition(
    client: httpx.AsyncClient, sign_in_as: SignIn, seed_person: SeedPerson
) -> None:
    me = await sign_in_as("parvin")
    await seed_person(assigned_to=me.id, stage="screening", screening=BOT_ANSWERS)
    page = soup(await client.get(f"/cases/{CODE}/screening"))
    bot = {
        item.select_one("dt").get_text(): item.select_one("dd").get_text()
        for item in page.select(".bot-answers > div")
    }
    assert bot == {
        "Do you live in Azerbaijan for work, study, family or asylum?": "Yes",
        "Do you have a permit to stay, or the right to get one?": "Yes",
        "What do you need help with? Choose one or more, then tap Done.": (
            "Learning the Azerbaijani language, Health and social services"
        ),
    }
    form = page.select_one(f"form[action='/cases/{CODE}/screening']")
    assert form is not None
    asked = [str(field["data-question"]) for field in form.select("[data-question]")]
    assert asked == [question.id for question in SCREENING_CONFIRMATION.questions]
    # Q4 is there, unanswered; the bot's answers are the starting point for Q1–Q3.
    assert form.select("input[name=impairment]:checked") == []
    assert form.select_one("input[name=has_permit][value=yes]").has_attr("checked")
    for field in form.select("input, select, textarea"):
        if field.get("type") not in ("hidden",):
            assert form.select_one(f"label[for='{field['id']}']") is not None, field


async def test_confirming_screening_is_sealed_audited_and_moves_the_case_to_the_assessment(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("qadir", display_name="Qadir")
    case = await seed_person(assigned_to=me.id, stage="screening", screening=BOT_ANSWERS)
    path, tab = f"/cases/{CODE}/screening", f"/cases/{CODE}/screening"

    missing_q4 = await post_form(client, path, {**CONFIRMATION, "impairment": ""}, page_path=tab)
    assert missing_q4.status_code == 400
    assert (
        soup(missing_q4).select_one("[data-question=impairment] .field-error").get_text()
        == "This answer is needed."
    )

    override = await post_form(client, path, {**CONFIRMATION, "eligible": "no"}, page_path=tab)
    assert override.status_code == 400
    error = soup(override).select_one("[data-question=decision_reason] .field-error")
    assert error.get_text() == "Give a reason: your decision differs from the screening result."

    saved = await post_form(client, path, CONFIRMATION, page_path=tab)
    assert (saved.status_code, saved.headers["location"]) == (303, f"{path}?saved=1")
    (stored,) = await load(sessionmaker, FormResponse, case_id=case.id, form_id="screening_confirmation")
    assert stored.source == "console"
    assert b"office" not in stored.answers_enc
    answers = unseal_json(crypto, stored, "answers_enc")
    assert {key: answers[key] for key in CONFIRMATION} == CONFIRMATION
    assert (answers["_caseworker_id"], answers["_caseworker_name"]) == (me.id, "Qadir")
    (after,) = await load(sessionmaker, Case, id=case.id)
    assert after.stage == "initial_assessment"
    actions = [
        (entry.action, entry.details.get("form"), entry.details.get("to"))
        for entry in await audit(sessionmaker)
    ]
    assert ("form.saved", "screening_confirmation", None) in actions
    assert ("case.stage_changed", None, "initial_assessment") in actions

    page = soup(await client.get(f"{path}?saved=1"))
    assert page.select_one(".success").get_text() == "The screening confirmation is saved."
    assert "Qadir" in page.select_one("#confirmed-heading").find_next("p").get_text()


async def test_the_assessment_is_prefilled_with_its_sources_and_saved_in_parts(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("rena")
    case = await seed_person(assigned_to=me.id, stage="initial_assessment", screening=BOT_ANSWERS)
    path = f"/cases/{CODE}/assessment"
    page = soup(await client.get(path))
    form = page.select_one(f"form[action='{path}']")
    assert [legend.get_text() for legend in form.select("fieldset.form-section > legend")] == [
        "Basic information",
        "Detailed information",
        "Conclusions",
    ]
    asked = [str(field["data-question"]) for field in form.select("[data-question]")]
    assert sorted(asked) == sorted(question.id for question in INITIAL_ASSESSMENT.questions)
    services = form.select_one("[data-question=services_wanted]")
    assert [box["value"] for box in services.select("input:checked")] == ["health_social", "language"]
    assert (
        services.select_one(".field-source").get_text()
        == "From the bot's screening: check it with the person."
    )
    referred = form.select_one("[data-question=referred_by]")
    assert referred.select_one("option[selected]")["value"] == "bot"
    assert referred.select_one(".field-source").get_text() == "From the case record."

    response = await post_form(
        client,
        path,
        {"gender": "woman", "urgent_need": "Housing before winter", "services_wanted": ["language"]},
        page_path=path,
    )
    assert response.status_code == 303
    (stored,) = await load(sessionmaker, FormResponse, case_id=case.id, form_id="initial_assessment")
    answers = unseal_json(crypto, stored, "answers_enc")
    assert {key: answers[key] for key in ("gender", "urgent_need", "services_wanted")} == {
        "gender": "woman",
        "urgent_need": "Housing before winter",
        "services_wanted": ["language"],
    }
    assert "summary" not in answers  # left for later, not stored as ""
    again = soup(await client.get(path)).select_one(f"form[action='{path}']")
    assert again.select_one("#q-urgent_need").get_text() == "Housing before winter"
    assert (
        again.select_one("[data-question=services_wanted] .field-source") is None
    )  # now the caseworker's own


async def test_closing_needs_one_of_the_five_reasons_and_reopening_returns_to_the_stage(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("samir")
    case = await seed_person(assigned_to=me.id, stage="implementation")
    overview = f"/cases/{CODE}"
    reasons = [radio["value"] for radio in soup(await client.get(overview)).select("input[name=reason]")]
    assert reasons == [
        "withdrew",
        "goals_reached",
        "no_longer_eligible",
        "other_institution",
        "non_compliance",
    ]

    refused = await post_form(client, f"{overview}/close", {"reason": ""}, page_path=overview)
    assert refused.status_code == 400
    assert (
        soup(refused).select_one("[role=alert]").get_text()
        == "Choose one of the termination reasons to close the case."
    )
    assert (await load(sessionmaker, Case, id=case.id))[0].stage == "implementation"

    closed = await post_form(
        client,
        f"{overview}/close",
        {"reason": "goals_reached", "details": "All goals met"},
        page_path=overview,
    )
    assert closed.status_code == 303
    (closure,) = await load(sessionmaker, CaseClosure, case_id=case.id)
    assert (closure.reason, closure.stage_before, closure.closed_by) == (
        "goals_reached",
        "implementation",
        me.id,
    )
    assert unseal(crypto, closure, "details_enc") == "All goals met"
    assert (await load(sessionmaker, Case, id=case.id))[0].stage == "closed"
    page = soup(await client.get(overview))
    assert (
        "The plan reached all its goals and both agree to close"
        in page.select_one("#stage-heading").find_next("p").get_text()
    )

    reopened = await post_form(client, f"{overview}/reopen", {}, page_path=overview)
    assert reopened.status_code == 303
    assert (await load(sessionmaker, Case, id=case.id))[0].stage == "implementation"
    (closure,) = await load(sessionmaker, CaseClosure, case_id=case.id)
    assert closure.reopened_by == me.id
    changes = [entry.details for entry in await audit(sessionmaker) if entry.action == "case.stage_changed"]
    assert changes == [{"from": "implementation", "to": "closed"}, {"from": "closed", "to": "implementation"}]
    assert [entry.details for entry in await audit(sessionmaker) if entry.action == "case.closed"] == [
        {"reason": "goals_reached"}
    ]


async def test_planning_waits_for_consent_to_share_data_for_case_work(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    me = await sign_in_as("tahmina")
    case = await seed_person(assigned_to=me.id, stage="initial_assessment")
    overview = f"/cases/{CODE}"
    page = soup(await client.get(overview))
    button = page.select_one(f"form[action='{overview}/advance'] button")
    assert button.has_attr("disabled")
    assert "consent" in page.select_one("#advance-refused").get_text()
    refused = await post_form(
        client, f"{overview}/advance", {"to": "intervention_planning"}, page_path=overview
    )
    assert refused.status_code == 400
    assert (await load(sessionmaker, Case, id=case.id))[0].stage == "initial_assessment"

    async with sessionmaker() as session:
        session.add(
            Consent(
                case_id=case.id,
                text_version="1",
                text_hash="0" * 64,
                language="ru",
                casework=True,
                publicity="none",
                third_party=False,
            )
        )
        await session.commit()
    allowed = await post_form(
        client, f"{overview}/advance", {"to": "intervention_planning"}, page_path=overview
    )
    assert allowed.status_code == 303
    assert (await load(sessionmaker, Case, id=case.id))[0].stage == "intervention_planning"


async def test_a_stale_form_is_refused_and_never_overwrites_a_colleagues_change(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("ulviyya")
    case = await seed_person(assigned_to=me.id, stage="initial_assessment")
    path = f"/cases/{CODE}/assessment"
    # Two tabs open on the same case (or two people): both forms carry the same version.
    first_tab = await client.get(path)
    second_tab = await client.get(path)
    token, version = form_token(first_tab), version_of(soup(first_tab), path)
    assert version == version_of(soup(second_tab), path)

    saved = await client.post(path, data={"csrf_token": token, "version": version, "summary": "First view"})
    assert saved.status_code == 303
    stale = await client.post(path, data={"csrf_token": token, "version": version, "summary": "Second view"})
    assert stale.status_code == 409
    page = soup(stale)
    assert "changed by someone else" in page.select_one("[role=alert]").get_text()
    # What they typed is still in the form, so nothing is lost; the stored answer is unchanged.
    assert page.select_one("#q-summary").get_text() == "Second view"
    responses = await load(sessionmaker, FormResponse, case_id=case.id, form_id="initial_assessment")
    assert [unseal_json(crypto, response, "answers_enc")["summary"] for response in responses] == [
        "First view"
    ]

    close_stale = await client.post(
        f"/cases/{CODE}/close", data={"csrf_token": token, "version": version, "reason": "withdrew"}
    )
    assert close_stale.status_code == 409
    assert (await load(sessionmaker, Case, id=case.id))[0].stage == "initial_assessment"
