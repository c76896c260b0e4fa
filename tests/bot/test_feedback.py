"""Feedback and complaints in the bot: at any stage, with the case or anonymously (then nothing links
the person to it), a reference number to ask about it with, crisis words taking the urgent path
without alerting the case of a complaint, and hostile input refused with nothing stored."""

from __future__ import annotations

import re

import pytest
from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseworker_console import casework as work
from outreach.sender import Sender
from programme.feedback import KIND_LABELS, Kind, Routing
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage import feedback as store
from storage.crypto import Crypto
from storage.models import AuditEntry, Case, DialogState
from storage.models_feedback import Feedback
from storage.models_journey import Alert
from storage.outbox import enqueue
from storage.sealing import unseal
from tests.bot.test_journey import fetch_document, screened, tap_and_wait, type_and_wait
from tests.bot.test_reminder_buttons import sender_bot
from tests.bot.test_screening import Translate, choose_language
from tests.outreach.conftest import drain
from wording.feedback import answered

__all__ = ["sender_bot"]  # the fixture, shared with the reminder tests

pytestmark = pytest.mark.slow

REFERENCE = re.compile(r"FB-\d{4}-\d{4}")
HOW = (
    "Do you want to give it with your case, or anonymously?\n\n"
    "With your case: we know it is you, and we answer you here in this chat.\n\n"
    "Anonymously: we keep nothing that links it to you or your case. Then nobody can answer you "
    "in this chat. You get a reference number: only with it can you read our answer, in "
    "“My feedback”."
)
WRITE = "Write it below, or send a voice message or a photo."
KINDS = (
    "You can tell us what went well, what went wrong, or complain about how you were treated. "
    "It does not change the help you get. What would you like to tell us?"
)


async def rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Feedback]:
    async with sessionmaker() as session:
        return list((await session.execute(select(Feedback).order_by(Feedback.created_at))).scalars())


async def give(
    phone: SandboxClient, t: Translate, user: int, kind: Kind, how: str, locale: str = "en"
) -> None:
    await type_and_wait(phone, user, "/feedback", t(KINDS, locale))
    await tap_and_wait(phone, user, t(KIND_LABELS[kind], locale), t(HOW, locale)[:30])
    await tap_and_wait(phone, user, t(how, locale), t(WRITE, locale))


async def test_feedback_before_the_screening_ends_is_kept_with_the_case_and_its_status_can_be_asked(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "English")  # at the privacy notice: no case, no menu yet
    await give(phone, t, user, Kind.SERVICE, "With my case")
    done = await type_and_wait(phone, user, "Nobody came to my appointment.", "within 7 days")
    [reference] = REFERENCE.findall(done["text"])
    # Back where they were: the privacy notice, asked again.
    await phone.wait_for_bot_message(user, contains="•")
    [row] = await rows(sessionmaker)
    assert row.beneficiary_id is not None and row.routing == Routing.SUPERVISORS and row.language == "en"
    assert store.body_of(crypto, row) == {"text": "Nobody came to my appointment."}

    await type_and_wait(phone, user, "/feedback", t(KINDS))
    await tap_and_wait(phone, user, "🔎 " + t("My feedback"), "FB-1234-5678")
    status = await type_and_wait(phone, user, reference.replace("-", " "), reference)
    assert t("received, not yet read") in status["text"]


async def test_feedback_as_the_first_message_comes_after_the_language_and_the_privacy_notice(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await phone.create_user(language_code="en")
    await type_and_wait(phone, user, "/feedback", "🌐")
    notice = await tap_and_wait(phone, user, "فارسی / دری", "•")
    assert t("Continue", "fa") in str(notice["reply_markup"])
    assert await rows(sessionmaker) == []  # nothing asked about feedback before the notice was read
    await tap_and_wait(phone, user, t("Continue", "fa"), t(KINDS, "fa"))
    await tap_and_wait(phone, user, t(KIND_LABELS[Kind.SERVICE], "fa"), t(HOW, "fa")[:30])
    await tap_and_wait(phone, user, t("With my case", "fa"), t(WRITE, "fa"))
    await phone.send_text(user, "کسی جواب تلفن را نمی‌دهد.")
    # Given, the screening goes on from the step after the notice.
    await phone.wait_for_bot_message(
        user, contains=t("What name should we use for you? Write it below, or tap Skip.", "fa")
    )
    [row] = await rows(sessionmaker)
    assert row.language == "fa" and row.beneficiary_id is not None


async def test_an_anonymous_complaint_about_staff_leaves_no_link_and_goes_to_focal_points_only(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    user = await screened(phone, t, locale="fa", label="فارسی / دری")
    await tap_and_wait(
        phone, user, t("Later", "fa"), t("What would you like to do? Choose from the menu below.", "fa")
    )
    await phone.press(user, t("💬 Feedback or a complaint", "fa"))
    await phone.wait_for_bot_message(user, contains=t(KINDS, "fa"))
    told = await tap_and_wait(phone, user, t(KIND_LABELS[Kind.STAFF], "fa"), t(HOW, "fa")[:30])
    focal = (
        "Only the programme's complaints focal points read this. Your caseworker does not see it, "
        "and it is not put in your case file."
    )
    assert t(focal, "fa") in told["text"]
    await tap_and_wait(phone, user, t("Anonymously", "fa"), t(WRITE, "fa"))
    await phone.send(user, voice=True)
    done = await phone.wait_for_bot_message(user, contains="FB-")
    [reference] = REFERENCE.findall(done["text"])
    [row] = await rows(sessionmaker)
    assert row.beneficiary_id is None and row.routing == Routing.FOCAL_POINTS and row.medium == "voice"
    async with sessionmaker() as session:
        # Nothing of it in their dialog data, nor in any audit entry about a case.
        [state] = (await session.execute(select(DialogState))).scalars()
        data = unseal(crypto, state, "data_enc") or ""
        assert reference.replace("-", "")[3:] not in data and "staff" not in data
        entries = (await session.execute(select(AuditEntry))).scalars().all()
        assert [e.object_type for e in entries if e.action.startswith("feedback")] == ["feedback"]
        assert all(str(row.reference) not in str(e.details) for e in entries)


async def test_crisis_words_in_a_complaint_mark_it_urgent_without_alerting_the_case(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await screened(phone, t)
    await give(phone, t, user, Kind.AFRAID, "With my case")
    await type_and_wait(phone, user, "He said he will beat me if I complain.", "112")
    await phone.wait_for_bot_message(user, contains="FB-")
    [row] = await rows(sessionmaker)
    assert row.urgent and row.beneficiary_id is not None
    async with sessionmaker() as session:
        assert (await session.execute(select(Alert))).scalars().all() == []


async def test_a_sticker_a_long_text_a_forged_button_and_a_double_tap_store_nothing_wrong(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await screened(phone, t)
    kinds = await type_and_wait(phone, user, "/feedback", t(KINDS))
    stale = t("This button is no longer active. Please use the newest message.")
    forged = await phone.press_for_answer(
        user, message_id=kinds["message_id"], callback_data="t:forged:staff"
    )
    assert forged["text"] == stale
    token = kinds["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1]
    odd = await phone.press_for_answer(
        user, message_id=kinds["message_id"], callback_data=f"t:{token}:nonsense"
    )
    assert odd["text"] == stale
    await tap_and_wait(phone, user, t(KIND_LABELS[Kind.THANKS]), t(HOW)[:30])
    # The same kind button again (a double tap): its keyboard is spent.
    again = await phone.press_for_answer(
        user,
        message_id=kinds["message_id"],
        callback_data=kinds["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
    )
    assert again["text"] == stale
    await tap_and_wait(phone, user, t("With my case"), t(WRITE))
    await phone.send(user, sticker=True)
    await phone.wait_for_bot_message(user, contains=t("Please send text, a voice message or a photo."))
    await type_and_wait(
        phone,
        user,
        "x" * 4000,
        t(
            "That is too long. Please write at most {limit} character.",
            plural="That is too long. Please write at most {limit} characters.",
            n=2000,
            limit=2000,
        ),
    )
    assert await rows(sessionmaker) == []
    await phone.send(user, photo=True)
    await phone.wait_for_bot_message(user, contains="FB-")
    [row] = await rows(sessionmaker)
    assert row.kind == Kind.THANKS and row.medium == "photo"


async def test_someone_elses_reference_is_not_found_and_guessing_stops_after_five(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    owner = await screened(phone, t)
    await give(phone, t, owner, Kind.SERVICE, "With my case")
    done = await type_and_wait(phone, owner, "The office was closed.", "FB-")
    [reference] = REFERENCE.findall(done["text"])
    other = await screened(phone, t)
    not_found = t("We have no feedback with that number. Please check it and send it again, or send /menu.")
    await type_and_wait(phone, other, "/feedback", t(KINDS))
    await tap_and_wait(phone, other, "🔎 " + t("My feedback"), "FB-1234-5678")
    await type_and_wait(phone, other, reference, not_found)
    for guess in range(4):
        await type_and_wait(phone, other, f"FB-0000-000{guess}", not_found)
    await type_and_wait(
        phone, other, reference, t("Too many numbers were not found. Please try again tomorrow.")
    )


def stored(reference: str) -> str:
    """FB-4829-1736 as kept: FB-48291736."""
    return "FB-" + reference.removeprefix("FB-").replace("-", "")


async def answer(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, reference: str, text: str
) -> None:
    """What the console's feedback page does with an answer (caseworker_console.routes.feedback)."""
    async with sessionmaker() as session, session.begin():
        found = await store.find_by_reference(session, reference=reference)
        assert found is not None
        await store.add_note(
            session, crypto, feedback=found, kind=store.ANSWER, text=text, staff_id=None, actor="t"
        )
        if found.beneficiary_id is not None:
            locale = await store.language_of(session, feedback=found) or "en"
            message = answered(locale=locale, reference=found.reference, answer=text)
            await enqueue(session, crypto, beneficiary_id=found.beneficiary_id, text=message)


async def test_an_answer_reaches_the_chat_in_the_persons_language_and_an_anonymous_one_by_its_number(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    sender_bot: Bot,
) -> None:
    user = await screened(phone, t, locale="ru", label="Русский")
    await give(phone, t, user, Kind.SERVICE, "With my case", "ru")
    done = await type_and_wait(phone, user, "Никто не пришёл на встречу.", "FB-")
    [linked] = REFERENCE.findall(done["text"])
    await give(phone, t, user, Kind.STAFF, "Anonymously", "ru")
    done = await type_and_wait(phone, user, "Сотрудник кричал на меня.", "FB-")
    [anonymous] = REFERENCE.findall(done["text"])

    await answer(sessionmaker, crypto, stored(linked), "Извините <нас>.")
    await answer(sessionmaker, crypto, stored(anonymous), "Мы поговорили с сотрудником.")
    await drain(Sender(sender_bot, sessionmaker, crypto, rate=25, idle_interval=0.05), sessionmaker)
    told = await phone.wait_for_bot_message(
        user, contains=t("An answer to your feedback {reference}:", "ru", reference=linked)
    )
    assert "Извините <нас>." in told["text"]
    # The anonymous answer is not in the chat: it is read with the number.
    assert not any("Мы поговорили" in m["text"] for m in await phone.bot_messages(user))
    await type_and_wait(phone, user, "/feedback", t(KINDS, "ru"))
    await tap_and_wait(phone, user, "🔎 " + t("My feedback", "ru"), "FB-1234-5678")
    status = await type_and_wait(phone, user, anonymous, "Мы поговорили с сотрудником.")
    assert t("answered", "ru") in status["text"]


async def test_the_persons_copy_holds_feedback_given_with_their_case_and_never_the_anonymous_one(
    phone: SandboxClient,
    t: Translate,
    sandbox: SandboxServer,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    user = await screened(phone, t)
    await give(phone, t, user, Kind.SERVICE, "With my case")
    done = await type_and_wait(phone, user, "The interpreter did not come.", "FB-")
    [linked] = REFERENCE.findall(done["text"])
    await give(phone, t, user, Kind.AFRAID, "Anonymously")
    done = await type_and_wait(phone, user, "Something only I know.", "FB-")
    [anonymous] = REFERENCE.findall(done["text"])
    await answer(sessionmaker, crypto, stored(linked), "We have booked an interpreter for you.")
    await type_and_wait(phone, user, "/mydata", t("Send the file now?")[:10])
    await tap_and_wait(
        phone, user, t("Yes, send the file"), t("Here is a copy of everything we hold about you.")
    )
    document = [m for m in await phone.bot_messages(user) if m["kind"] == "document"][-1]
    text = await fetch_document(sandbox.url, document)
    assert linked in text and "The interpreter did not come." in text
    assert "We have booked an interpreter for you." in text
    assert anonymous not in text and "Something only I know." not in text


async def test_the_question_after_a_case_closes_is_answered_once_with_a_tap(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    sender_bot: Bot,
) -> None:
    user = await screened(phone, t, locale="tr", label="Türkçe")
    async with sessionmaker() as session, session.begin():
        case = (await session.execute(select(Case))).scalar_one()
        await work.close(
            session, crypto, case=case, reason="goals_reached", details=None, staff_id=None, actor="t"
        )
    await drain(Sender(sender_bot, sessionmaker, crypto, rate=25, idle_interval=0.05), sessionmaker)
    asked = await phone.wait_for_bot_message(
        user,
        contains=t("Your case is closed. Was the programme helpful to you? You do not have to answer.", "tr"),
    )
    thanks = await tap_and_wait(
        phone, user, t("Partly", "tr"), t("Thank you. If you like, you can add a comment.", "tr")
    )
    # The same button again (a double tap), and a forged token: nothing more is counted.
    data = asked["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    again = await phone.press_for_answer(user, message_id=asked["message_id"], callback_data=data)
    assert again["text"] == t("This button is no longer active. Please use the newest message.", "tr")
    forged = await phone.press_for_answer(user, message_id=asked["message_id"], callback_data="sat:forged:no")
    assert forged["text"] == again["text"]
    async with sessionmaker() as session:
        assert await store.rating_counts(session) == {"yes": 0, "partly": 1, "no": 0}

    # The optional comment: feedback with the case, a problem with the service after "Partly".
    [[comment]] = thanks["reply_markup"]["inline_keyboard"]
    assert comment["text"] == "✍️ " + t("Add a comment", "tr")
    forged = await phone.press_for_answer(user, message_id=thanks["message_id"], callback_data="satc:forged")
    assert forged["text"] == again["text"]
    await tap_and_wait(phone, user, comment["text"], t(WRITE, "tr"))
    await phone.press_for_answer(
        user, message_id=thanks["message_id"], callback_data=comment["callback_data"]
    )
    await type_and_wait(phone, user, "Randevu çok geç verildi.", "FB-")
    [row] = await rows(sessionmaker)
    assert row.kind == Kind.SERVICE and row.beneficiary_id is not None
    assert store.body_of(crypto, row) == {"text": "Randevu çok geç verildi."}
    prompts = [m for m in await phone.bot_messages(user) if t(WRITE, "tr") in (m.get("text") or "")]
    assert len(prompts) == 1  # the double tap asked nothing more
