"""PDF downloads: Annex 1, the consent form in the beneficiary's language, the plan. Each parses,
holds the expected text (right to left and shaped in Persian and Urdu), never the person's name,
is audited and never cached."""

from __future__ import annotations

import collections
import io
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from babel.support import Translations
from bs4 import BeautifulSoup
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from caseworker_console.app import create_app
from caseworker_console.pdf import plain
from programme import consent
from storage.crypto import Crypto
from storage.models import AuditEntry, Case, StaffUser
from tests.console.test_console_plan import add_need, with_consent
from wording.languages import DOMAIN as BOT_DOMAIN
from wording.languages import LOCALES_DIR as BOT_LOCALES_DIR

SignIn = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

CODE = "IP-2026-000100"
NAME = "Zarina Nazarova"
PHONE = "+994501234567"
CONTROLLER = "Bridge Aid Association"


@pytest.fixture
def app(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> Starlette:
    return create_app(sessionmaker=sessionmaker, crypto=crypto, data_controller=CONTROLLER)


def pdf_text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert CODE in response.headers["content-disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    extracted = "\n".join(page.extract_text() for page in reader.pages)
    # fpdf2 maps a few shaped Arabic-script glyphs to control characters in the text layer: drop them.
    text = "".join(char for char in extracted if char == "\n" or unicodedata.category(char) != "Cc")
    # Nothing that identifies the person, in the text or in the document's properties.
    assert NAME not in text and "Zarina" not in text and PHONE not in text
    assert "Zarina" not in str(reader.metadata)
    return text


def forms_per_letter(response: httpx.Response, font_name: str) -> collections.Counter[str]:
    """For each character, how many glyphs of the embedded font stand for it: shaped Arabic
    script uses a letter's initial, medial, final and isolated forms, unshaped text one glyph."""
    reader = PdfReader(io.BytesIO(response.content))
    counts: collections.Counter[str] = collections.Counter()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            if font_name not in str(font["/BaseFont"]):
                continue
            cmap = font["/ToUnicode"].get_object().get_data().decode()
            for target in re.findall(r"<[0-9A-Fa-f]+>\s*<([0-9A-Fa-f]+)>", cmap):
                counts[bytes.fromhex(target).decode("utf-16-be")] += 1
    return counts


async def audited_parts(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessionmaker() as session:
        entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
    return [str((entry.details or {}).get("part")) for entry in entries if entry.action == "case.viewed"]


def bot_words(language: str) -> Translations:
    return Translations.load(BOT_LOCALES_DIR, [language], BOT_DOMAIN)


async def test_annex_1_downloads_with_the_saved_answers_and_lines_for_the_rest(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    me = await sign_in_as("aysel", display_name="Aysel Mammadova")
    await seed_person(assigned_to=me.id, stage="initial_assessment")
    page = f"/cases/{CODE}/assessment"
    tab = await client.get(page)
    assert f'href="/cases/{CODE}/assessment.pdf"' in tab.text
    saved = await post_form(client, page, {"urgent_need": "A warm room before winter", "gender": "woman"})
    assert saved.status_code == 303

    text = pdf_text(await client.get(f"/cases/{CODE}/assessment.pdf"))
    assert "Initial assessment (Annex 1)" in text
    assert f"Case {CODE}" in text
    assert "Filled in by Aysel Mammadova" in text  # the caseworker's name belongs on the form
    assert "Urgent need\nA warm room before winter" in text
    assert "Gender\nWoman" in text
    assert "Education" in text  # unanswered, left with a line to fill in
    assert "Caseworker's signature" in text
    parts = await audited_parts(sessionmaker)
    assert parts[-1] == "initial_assessment_pdf" and parts.count("initial_assessment_pdf") == 1


async def test_annex_1_comes_in_the_readers_language(
    client: httpx.AsyncClient, sign_in_as: SignIn, seed_person: SeedPerson
) -> None:
    me = await sign_in_as("aysel", language="ru")
    await seed_person(assigned_to=me.id, stage="initial_assessment")
    text = pdf_text(await client.get(f"/cases/{CODE}/assessment.pdf"))
    assert "(Annex 1)" not in text
    assert "Приложение 1" in text


async def post_form(client: httpx.AsyncClient, page: str, data: dict[str, Any]) -> httpx.Response:
    form = BeautifulSoup((await client.get(page)).text, "lxml").select_one("form.case-form")
    assert form is not None
    fields = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
    return await client.post(str(form["action"]), data={**fields, **data})


async def test_the_consent_form_is_the_bots_text_for_signature_in_english(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    me = await sign_in_as("aysel")
    await seed_person(assigned_to=me.id, stage="initial_assessment", language="en")
    tab = await client.get(f"/cases/{CODE}/consent")
    assert f'href="/cases/{CODE}/consent.pdf"' in tab.text
    text = pdf_text(await client.get(f"/cases/{CODE}/consent.pdf"))
    lines = text.splitlines()
    assert lines[0] == "Consent to use your information"
    assert f"Case number: {CODE}" in lines
    assert f"{CONTROLLER} runs the Integration Programme" in text
    assert "May another person, for example an interpreter" in text
    assert "Yes, with my real name and photos" in text
    assert "Name" in lines and "Signature: ____" in text
    assert f"Text version {consent.TEXT_VERSION}" in text
    assert (await audited_parts(sessionmaker))[-1] == "consent_pdf"


@pytest.mark.parametrize("language", ["fa", "ur"])
async def test_the_consent_form_in_an_arabic_script_language_is_shaped_and_right_to_left(
    client: httpx.AsyncClient, sign_in_as: SignIn, seed_person: SeedPerson, language: str
) -> None:
    me = await sign_in_as("aysel")
    await seed_person(assigned_to=me.id, stage="initial_assessment", language=language)
    response = await client.get(f"/cases/{CODE}/consent.pdf")
    text = pdf_text(response)
    assert response.headers["content-disposition"].endswith(f'-{language}.pdf"')
    words = bot_words(language)
    title = plain(consent.rendered(words.gettext, words.ngettext, controller=CONTROLLER, contact="")).split(
        "\n"
    )[0]
    assert title != "Consent to use your information"
    # Laid out right to left: read left to right, the title's words come last word first.
    first = text.splitlines()[0].split()
    assert first == list(reversed(title.split())), (first, title)
    assert CONTROLLER in text
    # Left-to-right pieces keep their order inside the right-to-left lines (isolated, texts.bidi).
    assert consent.TEXT_VERSION in text, text[-200:]
    assert CODE in text
    # Shaped: the letters of the Persian/Urdu text are drawn with several contextual forms.
    forms = forms_per_letter(response, "NotoSansArabic")
    assert forms["م"] >= 3 and forms["ل"] >= 3, forms


async def test_the_caseworker_may_print_the_consent_form_in_another_language(
    client: httpx.AsyncClient, sign_in_as: SignIn, seed_person: SeedPerson
) -> None:
    me = await sign_in_as("aysel")
    await seed_person(assigned_to=me.id, stage="initial_assessment", language="en")
    russian = pdf_text(await client.get(f"/cases/{CODE}/consent.pdf?language=ru"))
    assert russian.startswith("Согласие на использование ваших данных")
    # A language the bot does not speak falls back to the case's.
    english = pdf_text(await client.get(f"/cases/{CODE}/consent.pdf?language=xx"))
    assert english.startswith("Consent to use your information")


async def test_a_childs_consent_form_has_a_line_for_the_guardian(
    client: httpx.AsyncClient, sign_in_as: SignIn, seed_person: SeedPerson
) -> None:
    me = await sign_in_as("aysel")
    await seed_person(
        assigned_to=me.id, stage="initial_assessment", language="en", guardian_consent_needed=True
    )
    text = pdf_text(await client.get(f"/cases/{CODE}/consent.pdf"))
    assert "Parent or legal guardian signing for a child" in text


async def test_the_plan_downloads_with_its_agreements_and_signature_lines(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    me = await sign_in_as("aysel", display_name="Aysel")
    case = await seed_person(assigned_to=me.id, stage="intervention_planning")
    await with_consent(sessionmaker, case)
    assert (await add_need(client, "Find a flat near the school")).status_code == 303
    assert (await add_need(client, "مسکن نزدیک مدرسه")).status_code == 303  # typed in Persian
    tab = await client.get(f"/cases/{CODE}/plan")
    assert f'href="/cases/{CODE}/plan.pdf"' in tab.text
    response = await client.get(f"/cases/{CODE}/plan.pdf")
    text = pdf_text(response)
    assert "Integration plan" in text
    assert "1. Find a flat near the school" in text
    assert "Agreed with the beneficiary (In person); recorded by Aysel" in text
    assert "No progress review has been recorded yet." in text
    assert "Beneficiary's signature" in text and "Caseworker's signature" in text
    assert "مدرسه" in text
    assert forms_per_letter(response, "NotoSansArabic")["س"] >= 2
    parts = await audited_parts(sessionmaker)
    assert parts[-1] == "plan_pdf"


async def test_no_plan_pdf_before_intervention_planning(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    me = await sign_in_as("aysel")
    await seed_person(assigned_to=me.id, stage="initial_assessment")
    locked = await client.get(f"/cases/{CODE}/plan.pdf")
    assert locked.status_code == 409
    assert locked.headers["content-type"].startswith("text/html")
    assert await audited_parts(sessionmaker) == []


async def test_characters_the_fonts_lack_do_not_break_the_pdf_and_are_never_logged(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    me = await sign_in_as("aysel")
    case = await seed_person(assigned_to=me.id, stage="intervention_planning")
    await with_consent(sessionmaker, case)
    assert (await add_need(client, "Visit 北京 with 🙂 " + "x" * 900)).status_code == 303
    with caplog.at_level(logging.DEBUG):
        text = pdf_text(await client.get(f"/cases/{CODE}/plan.pdf"))
    assert "Visit" in text
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "北" not in logged and "🙂" not in logged and "\\U0001f642" not in logged
