"""The beneficiary's journey after screening, end to end through the sandbox with the real bot:
interview, consent, menu, talking to a caseworker, urgent help, and requests about their data."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from pathlib import Path

import aiohttp
import httpx
import pytest
from aiogram.utils.i18n import I18n
from bs4 import BeautifulSoup
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import BotConfig
from caseworker_console.app import create_app
from caseworker_console.auth import SESSION_COOKIE, hash_token
from programme.forms import INTERVIEW
from programme.retention import RetentionPolicy
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage import staff
from storage.appointments import book_appointment, ensure_demo_office
from storage.crypto import Crypto
from storage.models import Beneficiary, Case, DialogState, FormResponse, utcnow
from storage.models_journey import Alert, CaseMessage, Consent, DataRequest
from storage.phone import phone_hash
from storage.sealing import unseal, unseal_json
from tests.bot.test_screening import Translate, answer_screening, choose_language, database_text
from texts.bidi import without_controls

pytestmark = pytest.mark.slow

WITHDRAW_QUESTION = (
    "Withdrawing your consent is the same as stopping taking part (/withdraw): we stop using your "
    "information at once, and a caseworker closes your case.\n\nDo you want to withdraw your consent?"
)

OFFER = (
    "Can you answer {count} more short question? It takes about two minutes and helps the caseworker prepare. You can skip any question.",
    "Can you answer {count} more short questions? It takes about two minutes and helps the caseworker prepare. You can skip any question.",
)


def offer(t: Translate, locale: str = "en") -> str:
    """The start of the offer of the interview's twelve questions."""
    return t(OFFER[0], locale, plural=OFFER[1], n=12, count=12)[:40]


@pytest.fixture
def bot_config(now: dt.datetime) -> BotConfig:
    # The office never opens, so the "closed" note is always shown (its wording is tested below).
    return BotConfig(
        clock=lambda: now,
        data_controller="Bridge Aid Association",
        data_contact="privacy@bridge-aid.example",
        retention=RetentionPolicy(closed_days=1095, unenrolled_days=92),
        # An empty span every day: never open, and "open" again each midnight.
        office_hours={weekday: ((dt.time(0), dt.time(0)),) for weekday in range(7)},
        flood=None,
    )


def step_of(t: Translate, number: int, locale: str = "en") -> str:
    return t("Step {number} of {total}", locale, number=number, total=len(INTERVIEW.bot_questions()))


def prompt(t: Translate, question_id: str, locale: str = "en") -> str:
    return t(INTERVIEW.question(question_id).prompt, locale)


async def screened(phone: SandboxClient, t: Translate, *, locale: str = "en", label: str = "English") -> int:
    user = await phone.create_user(language_code=locale)
    await choose_language(phone, user, label)
    await answer_screening(phone, t, user, locale, "Amina Rahimi")
    await phone.wait_for_bot_message(user, contains="IP-")
    await phone.wait_for_bot_message(user, contains=offer(t, locale))
    return user


async def tap_and_wait(phone: SandboxClient, user: int, label: str, expect: str) -> dict:
    await phone.press(user, label)
    return await phone.wait_for_bot_message(user, contains=expect)


async def type_and_wait(phone: SandboxClient, user: int, text: str, expect: str) -> dict:
    await phone.send_text(user, text)
    return await phone.wait_for_bot_message(user, contains=expect)


async def complete_interview(phone: SandboxClient, t: Translate, user: int, locale: str = "en") -> dict:
    """Every kind of step, with Back, Skip, a wrong answer, a shared contact and an edit."""
    await tap_and_wait(phone, user, t("Start", locale), prompt(t, "phone", locale))
    await type_and_wait(
        phone,
        user,
        "12",
        t(
            "That does not look like a phone number. Please write it with the country code, for example +994 50 123 45 67.",
            locale,
        )[:20],
    )
    await phone.share_contact(user, "+994 50 123 45 67")
    await phone.wait_for_bot_message(user, contains=prompt(t, "interpreter", locale))
    await tap_and_wait(phone, user, t("Yes", locale), prompt(t, "city", locale))
    await tap_and_wait(phone, user, t("⬅️ Back", locale), prompt(t, "interpreter", locale))
    await tap_and_wait(phone, user, t("No", locale), prompt(t, "city", locale))
    await tap_and_wait(phone, user, t("Skip ➡️", locale), prompt(t, "country", locale))
    await type_and_wait(phone, user, "Afghanistan", prompt(t, "status", locale))
    await tap_and_wait(phone, user, t("Refugee", locale), prompt(t, "adults", locale))
    await type_and_wait(
        phone,
        user,
        "two",
        t("Please write a number from {minimum} to {maximum}.", locale, minimum=0, maximum=30),
    )
    await type_and_wait(phone, user, "2", prompt(t, "children", locale))
    await type_and_wait(phone, user, "1", prompt(t, "unaccompanied_child", locale))
    await tap_and_wait(phone, user, t("No", locale), prompt(t, "heard_from", locale))
    await tap_and_wait(phone, user, t("A flyer or poster", locale), prompt(t, "urgent_need", locale))
    await tap_and_wait(phone, user, t("Housing", locale), prompt(t, "contact_times", locale))
    await phone.press(user, "▫️ " + t("Evenings", locale))
    await phone.wait_idle(user)
    await tap_and_wait(phone, user, t("Done", locale), prompt(t, "safe_contact", locale))
    summary = await tap_and_wait(phone, user, t("Messages only", locale), "Afghanistan")
    assert "+994501234567" in summary["text"]
    await phone.press(user, "✏️ " + t("Change an answer", locale))
    await phone.wait_idle(user)
    await tap_and_wait(phone, user, t("Country of origin", locale), prompt(t, "country", locale))
    summary = await type_and_wait(phone, user, "Iran", "Iran")
    await tap_and_wait(phone, user, "✅ " + t("Send", locale), t("Are you 18 years old or older?", locale))
    return summary


@pytest.mark.parametrize(("locale", "label"), [("en", "English"), ("fa", "فارسی / دری")])
async def test_a_typed_phone_number_is_confirmed_and_takes_the_share_button_away(
    phone: SandboxClient, t: Translate, locale: str, label: str
) -> None:
    user = await screened(phone, t, locale=locale, label=label)
    await tap_and_wait(phone, user, t("Start", locale), prompt(t, "phone", locale))
    assert (await phone.transcript(user))["reply_keyboard"] is not None
    await type_and_wait(phone, user, "+994 50 123 45 67", prompt(t, "interpreter", locale))
    saved = next(m for m in await phone.bot_messages(user) if "+994501234567" in m["text"])
    assert without_controls(saved["text"]) == without_controls(
        t("Phone number saved: {phone}", locale, phone="+994501234567")
    )
    assert (await phone.transcript(user))["reply_keyboard"] is None


async def test_done_with_nothing_ticked_says_so(phone: SandboxClient, t: Translate) -> None:
    user = await screened(phone, t)
    await tap_and_wait(phone, user, t("Start"), prompt(t, "phone"))
    following = ("interpreter", "city", "country", "status", "adults", "children")
    for question_id in (*following, "unaccompanied_child", "heard_from", "urgent_need", "contact_times"):
        await tap_and_wait(phone, user, t("Skip ➡️"), prompt(t, question_id))
    await tap_and_wait(phone, user, t("Done"), prompt(t, "safe_contact"))
    asked = next(m for m in await phone.bot_messages(user) if prompt(t, "contact_times") in m["text"])
    assert asked["text"].endswith("➡️ " + t("None of these"))


EXPECTED_INTERVIEW = {
    "phone": "+994501234567",
    "interpreter": "no",
    "country": "Iran",
    "status": "refugee",
    "adults": 2,
    "children": 1,
    "unaccompanied_child": "no",
    "heard_from": "flyer",
    "urgent_need": "housing",
    "contact_times": ["evening"],
    "safe_contact": "write_only",
}


@pytest.mark.parametrize(("locale", "label"), [("en", "English"), ("ur", "اردو")])
async def test_the_interview_with_back_skip_and_edit_is_saved_as_the_form_defines_it(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    locale: str,
    label: str,
) -> None:
    user = await screened(phone, t, locale=locale, label=label)
    summary = await complete_interview(phone, t, user, locale)
    assert "—" in summary["text"]  # the skipped city
    async with sessionmaker() as session:
        response = (
            await session.execute(select(FormResponse).where(FormResponse.form_id == "interview"))
        ).scalar_one()
        assert unseal_json(crypto, response, "answers_enc") == EXPECTED_INTERVIEW
        beneficiary = (await session.execute(select(Beneficiary))).scalar_one()
        assert unseal(crypto, beneficiary, "phone_enc") == "+994501234567"
        # Indexed with it, so the console finds the case by phone (storage.phone).
        assert beneficiary.phone_hash == phone_hash(crypto, "050 123 45 67")
        assert "Afghanistan" not in await database_text(session)


CASEWORK_QUESTION = (
    "<b>1 of 3.</b> May we use your information for your case, and share it with state bodies and "
    "partner organisations when that helps to solve your problem?"
)
PUBLICITY_QUESTION = "<b>2 of 3.</b> May we use your story to help others learn about the programme?"
THIRD_PARTY_QUESTION = (
    "<b>3 of 3.</b> May another person, for example an interpreter, a lawyer or a psychologist, "
    "take part in your meetings?"
)


def plain(html_text: str) -> str:
    """What the person reads of a text sent with HTML markup."""
    return re.sub(r"<[^>]+>", "", html_text)


async def record_paper_consent(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    bot_config: BotConfig,
    *,
    case_id: uuid.UUID,
    locale: str,
) -> Consent:
    """A caseworker records a paper consent in `locale` through the console of the same organisation."""
    app = create_app(
        sessionmaker=sessionmaker,
        crypto=crypto,
        data_controller=bot_config.data_controller,
        data_contact=bot_config.data_contact,
        retention=bot_config.retention,
    )
    token = secrets.token_urlsafe(32)
    async with sessionmaker() as session:
        worker = await staff.add_user(
            session,
            username="paper-consent",
            password_hash="-",  # never signs in through the form
            role="caseworker",
            display_name="Aysel",
            language="en",
            at=utcnow(),
        )
        await staff.create_session(
            session, session_id=hash_token(token), user_id=worker.id, csrf_token="csrf", at=utcnow()
        )
        case = await session.get(Case, case_id)
        assert case is not None
        case.assigned_to = worker.id
        await session.commit()
        code = case.code
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as console:
        console.cookies.set(SESSION_COOKIE, token, domain="console.test")
        page = BeautifulSoup((await console.get(f"/cases/{code}/consent")).text, "lxml")
        form = page.select_one("form.paper-consent-form")
        assert form is not None
        fields = {field["name"]: field["value"] for field in form.select("input[type=hidden]")}
        choices = {"language": locale, "casework": "yes", "publicity": "none", "third_party": "no"}
        saved = await console.post(str(form["action"]), data={**fields, **choices})
        assert saved.status_code == 303
    async with sessionmaker() as session:
        statement = select(Consent).where(Consent.case_id == case_id, Consent.channel == "paper")
        return (await session.execute(statement)).scalar_one()


@pytest.mark.parametrize(("locale", "label"), [("en", "English"), ("fa", "فارسی / دری")])
async def test_consent_is_recorded_with_its_version_hash_and_language_and_can_be_withdrawn(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    bot_config: BotConfig,
    i18n: I18n,
    locale: str,
    label: str,
) -> None:
    user = await screened(phone, t, locale=locale, label=label)
    await complete_interview(phone, t, user, locale)
    text = await tap_and_wait(phone, user, t("Yes", locale), "Bridge Aid Association")
    await tap_and_wait(phone, user, t("I have read it", locale), plain(t(CASEWORK_QUESTION, locale)))
    await tap_and_wait(phone, user, t("Yes", locale), plain(t(PUBLICITY_QUESTION, locale)))
    # A short button; the question above it spells the choice out, and so does the summary.
    asked = plain(t(PUBLICITY_QUESTION, locale))
    publicity = next(m for m in reversed(await phone.bot_messages(user)) if asked in m["text"])
    anonymised = t("Yes, without my name, address or photo", locale)
    assert plain(anonymised) in publicity["text"]
    await tap_and_wait(phone, user, t("Yes, anonymously", locale), plain(t(THIRD_PARTY_QUESTION, locale)))
    # Each choice stays in the chat under its question once made, the buttons gone.
    messages = {m["message_id"]: m for m in await phone.bot_messages(user)}
    casework = next(m for m in messages.values() if plain(t(CASEWORK_QUESTION, locale)) in m["text"])
    assert without_controls(casework["text"]).endswith(t("Yes", locale)) and not casework.get("reply_markup")
    story = messages[publicity["message_id"]]
    assert without_controls(story["text"]).endswith(
        without_controls(t("Yes, without my name, address or photo", locale))
    )
    saved = "Thank you. Your choices are saved. You can see or change them at any time with /consent."
    await tap_and_wait(phone, user, t("No", locale), t(saved, locale))
    menu = await phone.wait_for_bot_message(
        user, contains=t("What would you like to do? Choose from the menu below.", locale)
    )
    assert menu["reply_markup"]["keyboard"][0][0]["text"] == t("📅 Appointments", locale)
    # A right-to-left reader reads a row from the right.
    assert menu["reply_markup"]["keyboard"][1][-1 if locale == "fa" else 0]["text"] == t(
        "💬 Ask a caseworker", locale
    )
    async with sessionmaker() as session:
        consent = (await session.execute(select(Consent))).scalar_one()
    assert (consent.casework, consent.publicity, consent.third_party) == (True, "anonymised", False)
    defaults = bot_config.organisation_defaults()
    version = defaults.consent_version(bot_config.retention, defaults=defaults)
    assert version.startswith("2026-12-")  # retention periods other than the shipped ones
    assert (consent.language, consent.text_version, consent.channel) == (locale, version, "bot")
    # The words shown, without the direction marks around their left-to-right pieces (texts.bidi).
    assert consent.text_hash == hashlib.sha256(without_controls(text["html"]).encode()).hexdigest()
    # The organisation's contact and retention periods, in words a person reads.
    assert "privacy@bridge-aid.example" in text["text"]
    years = i18n.gettext("{count} year", "{count} years", 3, locale=locale).format(count=3)
    months = i18n.gettext("{count} month", "{count} months", 3, locale=locale).format(count=3)
    assert years in text["text"] and months in text["text"]

    await type_and_wait(phone, user, "/consent", t("Your story: {answer}", locale, answer=anonymised))
    question = t(WITHDRAW_QUESTION, locale).split("\n\n")[-1]
    sure = await tap_and_wait(phone, user, t("Withdraw my consent", locale), question)
    assert [row[0]["text"] for row in sure["reply_markup"]["inline_keyboard"]] == [
        t("Yes, withdraw my consent", locale),
        t("No, keep my consent", locale),
    ]
    await tap_and_wait(phone, user, t("Yes, withdraw my consent", locale), "/delete")
    async with sessionmaker() as session:
        records = (await session.execute(select(Consent).order_by(Consent.recorded_at))).scalars().all()
        person = (await session.execute(select(Beneficiary))).scalar_one()
    assert [(r.casework, r.superseded_at is None) for r in records] == [(True, False), (False, True)]
    assert person.withdrawn_at is not None

    # The same text signed on paper and recorded in the console of the same organisation: same hash.
    paper = await record_paper_consent(
        sessionmaker, crypto, bot_config, case_id=consent.case_id, locale=locale
    )
    assert (paper.channel, paper.language) == ("paper", locale)
    assert (paper.text_hash, paper.text_version) == (consent.text_hash, consent.text_version)


async def test_someone_under_18_is_told_a_guardian_must_consent_and_the_case_is_marked(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await screened(phone, t)
    await complete_interview(phone, t, user)
    await tap_and_wait(phone, user, t("No"), "parent or legal guardian")
    await phone.wait_for_bot_message(
        user, contains=t("What would you like to do? Choose from the menu below.")
    )
    async with sessionmaker() as session:
        case = (await session.execute(select(Case))).scalar_one()
        assert case.guardian_consent_needed
        assert case.priority  # a child: ahead in the queue of those who waited as long
        assert (await session.execute(select(func.count()).select_from(Consent))).scalar_one() == 0


async def test_urgent_help_mid_interview_alerts_caseworkers_and_returns_to_the_same_step(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await screened(phone, t)
    await tap_and_wait(phone, user, t("Start"), prompt(t, "phone"))
    await tap_and_wait(phone, user, t("Skip ➡️"), prompt(t, "interpreter"))
    await tap_and_wait(phone, user, t("Yes"), step_of(t, 3))
    help_message = await type_and_wait(phone, user, "/urgent", "112")
    assert "102" in help_message["text"] and "103" in help_message["text"]
    again = await phone.wait_for_bot_message(user, contains=step_of(t, 3))
    assert prompt(t, "city") in again["text"]
    await type_and_wait(phone, user, "Ganja", prompt(t, "country"))
    async with sessionmaker() as session:
        case = (await session.execute(select(Case))).scalar_one()
        alerts = (await session.execute(select(Alert.kind))).scalars().all()
    assert case.urgent
    assert alerts == ["urgent"]


async def test_crisis_words_take_the_urgent_path_gently_once_without_leaving_the_step(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await screened(phone, t)
    await tap_and_wait(phone, user, t("Start"), prompt(t, "phone"))
    await tap_and_wait(phone, user, t("Skip ➡️"), prompt(t, "interpreter"))
    await tap_and_wait(phone, user, t("No"), prompt(t, "city"))
    note = await type_and_wait(phone, user, "my husband beats me", "You are not alone")
    assert "112" in note["text"]
    await phone.wait_for_bot_message(user, contains=prompt(t, "country"))  # the answer still counted
    await type_and_wait(phone, user, "violence everywhere", prompt(t, "status"))
    transcript = await phone.bot_messages(user)
    assert sum("You are not alone" in message["text"] for message in transcript) == 1
    async with sessionmaker() as session:
        assert (await session.execute(select(Alert.kind))).scalars().all() == ["crisis_words"]


@pytest.mark.parametrize(("locale", "label"), [("en", "English"), ("ps", "پښتو")])
async def test_a_person_can_talk_to_a_caseworker_and_every_message_is_kept_sealed(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    locale: str,
    label: str,
) -> None:
    user = await screened(phone, t, locale=locale, label=label)
    await tap_and_wait(
        phone, user, t("Later", locale), t("What would you like to do? Choose from the menu below.", locale)
    )
    await tap_and_wait(
        phone, user, t("💬 Ask a caseworker", locale), t("What would you like to talk about?", locale)
    )
    prompt_message = await tap_and_wait(
        phone,
        user,
        t("Housing", locale),
        t("Write your message below. A caseworker will answer you here.", locale),
    )
    assert (
        t("Our office is closed now. A caseworker will answer from {when}.", locale, when="")[:25]
        in prompt_message["text"]
    )
    received = t("Received. A caseworker will answer you here.", locale)
    await type_and_wait(phone, user, "My landlord wants me out by Friday", received)
    await phone.send(user, photo=True)
    await phone.wait_for_bot_message(user, contains=received)
    await phone.send(user, location={"latitude": 40.4093, "longitude": 49.8671})
    await phone.wait_for_bot_message(user, contains=received)
    await phone.send(user, sticker=True)
    await phone.wait_for_bot_message(
        user, contains=t("Please send text, a photo, a document, a voice message or a location.", locale)
    )
    # Later, from the menu state, a person waiting for a caseworker is still heard.
    await type_and_wait(
        phone, user, "/menu", t("What would you like to do? Choose from the menu below.", locale)
    )
    await type_and_wait(phone, user, "Are you there?", received)
    async with sessionmaker() as session:
        case = (await session.execute(select(Case))).scalar_one()
        messages = (
            (await session.execute(select(CaseMessage).order_by(CaseMessage.created_at))).scalars().all()
        )
        assert case.handoff_at is not None and case.handoff_reason == "housing"
        assert [m.kind for m in messages] == ["text", "photo", "location", "text"]
        assert unseal_json(crypto, messages[0], "body_enc") == {"text": "My landlord wants me out by Friday"}
        assert "landlord" not in await database_text(session)


async def fetch_document(sandbox_url: str, message: dict) -> str:
    async with aiohttp.ClientSession() as http, http.get(sandbox_url + message["document"]["url"]) as answer:
        return (await answer.read()).decode("utf-8")


async def test_mydata_sends_every_answer_given(
    phone: SandboxClient,
    t: Translate,
    sandbox: SandboxServer,
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
) -> None:
    user = await screened(phone, t)
    await complete_interview(phone, t, user)
    await tap_and_wait(phone, user, t("No"), "guardian")
    async with sessionmaker() as session, session.begin():
        case = (await session.execute(select(Case))).scalar_one()
        office = await ensure_demo_office(session)
        today = now.date()  # the bot's, set
        monday_ten = dt.datetime.combine(
            today + dt.timedelta(days=7 - today.weekday()), dt.time(6), tzinfo=dt.UTC
        )
        await book_appointment(
            session, case=case, office=office, appointment_type="first", starts_at=monday_ten, now=now
        )
    await type_and_wait(phone, user, "/mydata", t("Send the file now?")[:10])
    await tap_and_wait(
        phone, user, t("Yes, send the file"), t("Here is a copy of everything we hold about you.")
    )
    document = [m for m in await phone.bot_messages(user) if m["kind"] == "document"][-1]
    text = await fetch_document(sandbox.url, document)
    for expected in [
        "Amina Rahimi",
        "+994501234567",
        "Iran",
        t("Refugee"),
        t("Housing"),
        t("Evenings"),
        t("Learning the Azerbaijani language"),
        t("Work and education"),
        "IP-",
        t("Appointments to come"),
        "Integration Centre Baku",
    ]:
        assert expected in text, expected


async def test_correction_and_withdrawal_requests_are_recorded_for_caseworkers(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    user = await screened(phone, t)
    await tap_and_wait(phone, user, t("Later"), t("What would you like to do? Choose from the menu below."))
    await type_and_wait(phone, user, "/correct", t("What is wrong, and what should it be? Write it below."))
    await type_and_wait(
        phone, user, "My name is Amina Rahimova", t("Thank you. A caseworker will correct it and tell you.")
    )
    await type_and_wait(
        phone,
        user,
        "/withdraw",
        "why you want to stop",
    )
    told = await type_and_wait(phone, user, "I found a job in another city", "/delete")
    # What happens to their data now, and how to have it erased sooner.
    assert "3 years" in told["text"] and "/mydata" in told["text"]
    async with sessionmaker() as session:
        requests = (
            (await session.execute(select(DataRequest).order_by(DataRequest.created_at))).scalars().all()
        )
        consents = (await session.execute(select(Consent))).scalars().all()
        person = (await session.execute(select(Beneficiary))).scalar_one()
    assert [(r.kind, r.status) for r in requests] == [("correction", "open"), ("withdrawal", "open")]
    assert unseal_json(crypto, requests[1], "details_enc") == {"text": "I found a job in another city"}
    # /withdraw withdraws the consent too: the same stop as "Withdraw my consent".
    assert [(c.casework, c.publicity, c.third_party) for c in consents] == [(False, "none", False)]
    assert person.withdrawn_at is not None


async def test_delete_confirmed_twice_leaves_no_plaintext_or_ciphertext_of_the_answers(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await screened(phone, t)
    async with sessionmaker() as session:
        sealed = (await session.execute(select(FormResponse.answers_enc))).scalar_one()
        bind = session.get_bind()
    await type_and_wait(phone, user, "/delete", t("Do you want us to delete all your data?"))
    await tap_and_wait(phone, user, t("Yes, delete"), t("Are you sure?")[:10])
    await tap_and_wait(phone, user, t("Yes, delete everything"), t("Your data is deleted.")[:15])
    async with sessionmaker() as session:
        for model in (Beneficiary, Case, FormResponse, DialogState):
            assert (await session.execute(select(func.count()).select_from(model))).scalar_one() == 0
        assert sealed.hex() not in await database_text(session)
    if bind.dialect.name == "sqlite":
        database = bind.url.database
        for path in (Path(database), Path(database + "-wal")):
            assert sealed[-24:] not in path.read_bytes()
    # Writing again starts from the beginning.
    await type_and_wait(phone, user, "hello", "🌐")


async def test_delete_can_be_cancelled(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await screened(phone, t)
    await type_and_wait(phone, user, "/delete", t("Do you want us to delete all your data?"))
    await tap_and_wait(phone, user, t("No, keep my data"), t("Nothing was deleted."))
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Beneficiary))).scalar_one() == 1


async def test_stop_opts_out_of_news_and_start_opts_back_in(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await screened(phone, t)
    await type_and_wait(
        phone, user, "/stop", t("You will get no more news from us. Send /start to get them again.")
    )
    async with sessionmaker() as session:
        assert (await session.execute(select(Beneficiary.opted_out))).scalar_one() is True
    await type_and_wait(phone, user, "/start", t("Welcome back! You will get our news again."))
    async with sessionmaker() as session:
        assert (await session.execute(select(Beneficiary.opted_out))).scalar_one() is False


async def test_the_my_data_menu_offers_every_request(phone: SandboxClient, t: Translate) -> None:
    user = await screened(phone, t)
    await tap_and_wait(phone, user, t("Later"), t("What would you like to do? Choose from the menu below."))
    options = await tap_and_wait(phone, user, t("🔒 My data"), t("What would you like to do with your data?"))
    labels = [row[0]["text"] for row in options["reply_markup"]["inline_keyboard"]]
    assert len(labels) == 5
    await tap_and_wait(
        phone, user, "✏️ " + t("Correct my data"), t("What is wrong, and what should it be? Write it below.")
    )


async def test_urgent_asked_again_and_again_raises_one_alert_but_answers_every_time(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await screened(phone, t)
    for _ in range(3):
        answer = await type_and_wait(phone, user, "/urgent", "112")
        assert "102" in answer["text"]
    async with sessionmaker() as session:
        assert (await session.execute(select(Alert.kind))).scalars().all() == ["urgent"]
        # Once staff have seen it, a new /urgent is a new alert.
        await session.execute(update(Alert).values(acknowledged_at=utcnow()))
        await session.commit()
    await type_and_wait(phone, user, "/urgent", "112")
    async with sessionmaker() as session:
        assert sorted((await session.execute(select(Alert.kind))).scalars().all()) == ["urgent", "urgent"]
