"""Staff alerts on their own phones, end to end: a person writes to the real bot through the sandbox,
the worker (the sender and the staff alerts beside it, as `intake worker` runs them) tells the
linked chat of the case's caseworker, or of the supervisors, and the alert holds no personal data.
Feedback left without a first answer past its due time is told once to those who may read it,
never by its reference number, and a complaint about staff never to the case's caseworker."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import zoneinfo
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot
from caseworker_console.i18n import translations
from intake.runtime import feedback_readers, staff_alert_texts
from intake.settings import Settings
from outreach.sender import Sender
from outreach.staff_alerts import StaffAlerts
from programme import feedback as feedback_rules
from programme.staff_alerts import AlertPolicy, Kind
from programme.staff_alerts import render as staff_alert_text
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage import person_keys, phone, staff
from storage.crypto import Crypto
from storage.models import Beneficiary, Case, StaffUser, utcnow
from storage.models_feedback import Feedback
from storage.models_journey import Alert, CaseMessage
from storage.sealing import unseal_json
from tests.bot.conftest import TOKEN, BotProcess
from tests.bot.test_feedback import give
from tests.bot.test_journey import type_and_wait
from tests.bot.test_screening import answer_screening, choose_language
from tests.bot.test_staff_link import code_for

pytestmark = pytest.mark.slow

Translate = Callable[..., str]
CONSOLE = "https://console.example.org"
NAME, PHONE = "Amina Rahimi", "+994 50 123 45 67"


@contextlib.asynccontextmanager
async def running_worker(
    sandbox_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    policy: AlertPolicy | None = None,
) -> AsyncIterator[None]:
    """The sender and the staff alerts, against the sandbox, as `intake worker` runs them."""
    settings = Settings(INTAKE_CONSOLE_URL=CONSOLE)  # type: ignore[call-arg]
    texts = staff_alert_texts(settings)  # as intake.runtime wires it
    if policy is not None:  # a policy no setting can give (seconds)
        texts = functools.partial(render, base_url=CONSOLE, policy=policy)
    bot = create_bot(TOKEN, sandbox_url)
    sender = Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.1)
    alerts = StaffAlerts(
        sessionmaker,
        crypto,
        texts,
        policy=policy or settings.alert_policy(),
        zone=zoneinfo.ZoneInfo("Asia/Baku"),
        reads=feedback_readers(),
        interval=0.1,
        sweep_every=0.2,
    )
    stop = asyncio.Event()
    tasks = [asyncio.create_task(sender.run(stop)), asyncio.create_task(alerts.run(stop))]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await bot.session.close()


def render(kind: Kind, code: str, language: str, *, base_url: str, policy: AlertPolicy) -> str:
    """What intake.runtime.staff_alert_texts gives the worker, for any policy."""
    return staff_alert_text(
        kind, code=code, base_url=base_url, translate=translations(language), policy=policy
    )


@pytest.fixture
async def worker(
    sandbox: SandboxServer,
    bot_process: BotProcess,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> AsyncIterator[None]:
    async with running_worker(sandbox.url, sessionmaker, crypto):
        yield


async def account(
    sessionmaker: async_sessionmaker[AsyncSession],
    username: str,
    role: str,
    language: str = "en",
    *,
    focal_point: bool = False,
) -> StaffUser:
    async with sessionmaker() as session:
        user = await staff.add_user(
            session,
            username=username,
            password_hash="x",
            role=role,
            display_name=username.title(),
            language=language,
            at=utcnow(),
        )
        user.focal_point = focal_point
        await session.commit()
        return user


async def linked_phone(
    phone_: SandboxClient, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, user: StaffUser
) -> int:
    """A staff member's own chat in the sandbox, linked to their account through the bot."""
    chat = await phone_.create_user(first_name=user.username, language_code="en")
    await phone_.send_text(chat, f"/link {await code_for(sessionmaker, crypto, user)}")
    await phone_.wait_for_bot_message(chat, contains=user.display_name)
    return chat


async def screened_person(
    phone_: SandboxClient, t: Translate, sessionmaker, crypto: Crypto
) -> tuple[int, Case]:
    """Someone who answered the screening (their name given), with a phone number on file."""
    person = await phone_.create_user(language_code="en")
    await choose_language(phone_, person, "English")
    await answer_screening(phone_, t, person, "en", NAME)
    await phone_.wait_for_bot_message(person, contains="IP-")
    await phone_.wait_idle(person)
    async with sessionmaker() as session, session.begin():
        case = (await session.execute(select(Case))).scalar_one()
        beneficiary = await session.get(Beneficiary, case.beneficiary_id)
        await person_keys.load(session, crypto, [beneficiary.id])
        phone.set_phone(crypto, beneficiary, PHONE)
    return person, case


async def assign(sessionmaker: async_sessionmaker[AsyncSession], case: Case, user: StaffUser) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Case).where(Case.id == case.id).values(assigned_to=user.id))


def holds_nothing_personal(text: str, *said: str) -> None:
    digits = "".join(ch for ch in text if ch.isdigit())
    for value in (*NAME.split(), *said):
        assert value.casefold() not in text.casefold()
    assert "501234567" not in digits


async def test_urgent_goes_to_the_linked_caseworkers_chat_within_seconds_with_no_personal_data(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    worker: None,
) -> None:
    cara = await account(sessionmaker, "cara", "caseworker")
    sam = await account(sessionmaker, "sam", "supervisor")
    cara_chat = await linked_phone(phone, sessionmaker, crypto, cara)
    sam_chat = await linked_phone(phone, sessionmaker, crypto, sam)
    person, case = await screened_person(phone, t, sessionmaker, crypto)
    await assign(sessionmaker, case, cara)

    written = "Farid hits me, I hide at Nizami street"
    await phone.send_text(person, f"/urgent {written}")
    alert = await phone.wait_for_bot_message(cara_chat, contains=case.code)

    assert alert["text"] == (
        f"🚨 Urgent help asked for, case {case.code}.\n"
        f"Open it in the console: {CONSOLE}/cases/{case.code}/adverse#alerts"
    )
    holds_nothing_personal(
        alert["text"], *(word for word in written.replace(",", "").split() if len(word) > 3)
    )
    # The case has a caseworker who gets it: the supervisors' chats stay quiet.
    await phone.wait_idle(sam_chat)
    assert len(await phone.bot_messages(sam_chat)) == 1  # the link's confirmation only
    async with sessionmaker() as session:
        stored = (await session.execute(select(Alert))).scalar_one()
        message = await session.get(CaseMessage, stored.message_id)
        assert message is not None and message.direction == "in"
        # What was written with /urgent is kept, with the crisis words in it (programme.urgent).
        assert unseal_json(crypto, message, "body_enc") == {
            "text": written,
            "alert": "urgent",
            "crisis_words": ["hits me"],
        }


async def test_crisis_words_on_an_unassigned_case_go_to_the_supervisors_in_their_language(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    worker: None,
) -> None:
    sam = await account(sessionmaker, "sam", "supervisor", language="ru")
    sam_chat = await linked_phone(phone, sessionmaker, crypto, sam)
    person, case = await screened_person(phone, t, sessionmaker, crypto)

    await phone.send_text(person, "My husband beats me every night")
    alert = await phone.wait_for_bot_message(sam_chat, contains=case.code)

    assert alert["text"].startswith(f"🚨 Слова о кризисе, дело {case.code}.")
    assert f"{CONSOLE}/cases/{case.code}/adverse#alerts" in alert["text"]
    holds_nothing_personal(alert["text"], "husband", "beats", "night")
    async with sessionmaker() as session:
        stored = (await session.execute(select(Alert))).scalar_one()
        message = await session.get(CaseMessage, stored.message_id)
        assert unseal_json(crypto, message, "body_enc") == {
            "text": "My husband beats me every night",
            "alert": "crisis_words",
            "crisis_words": ["beats me"],
        }


async def test_a_new_handoff_message_is_told_once_until_it_is_read(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    worker: None,
) -> None:
    cara = await account(sessionmaker, "cara", "caseworker")
    cara_chat = await linked_phone(phone, sessionmaker, crypto, cara)
    person, case = await screened_person(phone, t, sessionmaker, crypto)
    await assign(sessionmaker, case, cara)

    await phone.send_text(person, "/caseworker")
    await phone.wait_for_bot_message(person, contains=t("What would you like to talk about?"))
    await phone.press(person, t("Documents"))
    await phone.wait_for_bot_message(
        person, contains=t("Write your message below. A caseworker will answer you here.")
    )
    await phone.send_text(person, "My residence card expires on Friday")
    await phone.wait_for_bot_message(person, contains="✓")
    await phone.send_text(person, "Also my son's papers")
    await phone.wait_for_bot_message(person, contains="✓")
    told = await phone.wait_for_bot_message(cara_chat, contains=case.code)

    assert told["text"] == (
        f"✉️ A new message, case {case.code}.\nOpen it in the console: {CONSOLE}/cases/{case.code}/conversation"
    )
    await phone.wait_idle(cara_chat, quiet=1.0)
    assert len(await phone.bot_messages(cara_chat)) == 2  # the link's confirmation, one alert


async def test_an_urgent_alert_nobody_opens_goes_to_every_supervisor(
    phone: SandboxClient,
    t: Translate,
    sandbox: SandboxServer,
    bot_process: BotProcess,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    cara = await account(sessionmaker, "cara", "caseworker")
    sam = await account(sessionmaker, "sam", "supervisor", language="az")
    cara_chat = await linked_phone(phone, sessionmaker, crypto, cara)
    sam_chat = await linked_phone(phone, sessionmaker, crypto, sam)
    person, case = await screened_person(phone, t, sessionmaker, crypto)
    await assign(sessionmaker, case, cara)
    policy = AlertPolicy(escalate_after=dt.timedelta(seconds=2))

    async with running_worker(sandbox.url, sessionmaker, crypto, policy):
        await phone.send_text(person, "/urgent")
        await phone.wait_for_bot_message(cara_chat, contains=case.code)
        escalated = await phone.wait_for_bot_message(sam_chat, contains=case.code)

    assert escalated["text"] == (
        f"🚨 0 dəqiqə ərzində heç kimin açmadığı təcili siqnal, iş {case.code}.\n"
        f"Konsolda açın: {CONSOLE}/cases/{case.code}/adverse#alerts"
    )
    holds_nothing_personal(escalated["text"])
    async with sessionmaker() as session:
        alert = (await session.execute(select(Alert))).scalar_one()
    assert alert.escalated_at is not None and alert.opened_at is None


async def overdue_now(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    """The feedback's first answer is due a minute ago (it was given a week to get one); its reference."""
    async with sessionmaker() as session, session.begin():
        feedback = (
            await session.execute(select(Feedback).where(Feedback.overdue_alerted_at.is_(None)))
        ).scalar_one()
        feedback.due_at = utcnow() - dt.timedelta(minutes=1)
        return feedback.reference


@pytest.mark.parametrize("anonymous", [False, True])
async def test_overdue_feedback_is_told_once_to_its_readers_never_by_its_number(
    phone: SandboxClient,
    t: Translate,
    sandbox: SandboxServer,
    bot_process: BotProcess,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    anonymous: bool,
) -> None:
    cara = await account(sessionmaker, "cara", "caseworker")
    sam = await account(sessionmaker, "sam", "supervisor")
    fay = await account(sessionmaker, "fay", "supervisor", language="ru", focal_point=True)
    chats = {user.id: await linked_phone(phone, sessionmaker, crypto, user) for user in (cara, sam, fay)}
    person, case = await screened_person(phone, t, sessionmaker, crypto)
    await assign(sessionmaker, case, cara)
    how = "Anonymously" if anonymous else "With my case"
    told = {
        "en": "⏳ Feedback or a complaint has waited more than 7 days for a first answer.\n"
        f"Open it in the console: {CONSOLE}/feedback",
        "ru": "⏳ Отзыв или жалоба ждёт первого ответа больше 7 дней.\n"
        f"Откройте в консоли: {CONSOLE}/feedback",
    }

    async with running_worker(sandbox.url, sessionmaker, crypto):
        # A complaint about how the caseworker treated them: the focal point only.
        await give(phone, t, person, feedback_rules.Kind.STAFF, how)
        await type_and_wait(phone, person, "Cara shouted at me", "FB-")
        complaint = await overdue_now(sessionmaker)
        to_fay = await phone.wait_for_bot_message(chats[fay.id], contains="⏳")
        # A problem with the service: the supervisors, the focal point among them.
        await give(phone, t, person, feedback_rules.Kind.SERVICE, how)
        await type_and_wait(phone, person, "Nobody came to my appointment", "FB-")
        service = await overdue_now(sessionmaker)
        to_sam = await phone.wait_for_bot_message(chats[sam.id], contains="⏳")
        await phone.wait_for_bot_message(chats[fay.id], count=3)
        for chat in chats.values():
            await phone.wait_idle(chat, quiet=1.0)

    # A worker started again tells nobody of either again.
    async with running_worker(sandbox.url, sessionmaker, crypto):
        for chat in chats.values():
            await phone.wait_idle(chat, quiet=1.0)

    assert to_fay["text"] == told["ru"] and to_sam["text"] == told["en"]
    assert [m["text"] for m in await phone.bot_messages(chats[fay.id])][1:] == [told["ru"], told["ru"]]
    assert len(await phone.bot_messages(chats[sam.id])) == 2  # the link's confirmation, one alert
    assert len(await phone.bot_messages(chats[cara.id])) == 1  # the link's confirmation only
    for reference in (complaint, service):
        digits = reference.removeprefix(feedback_rules.PREFIX)
        for alert in (to_fay, to_sam):
            assert digits[:4] not in alert["text"] and digits[4:] not in alert["text"]
            holds_nothing_personal(alert["text"], "shouted", "appointment", case.code)
