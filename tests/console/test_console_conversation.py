"""The conversation tab: messages in order, unread markers, replies through the outbox, hand-back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot
from outreach.sender import Sender
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage.crypto import Crypto
from storage.journey import add_case_message
from storage.models import AuditEntry, Case, OutboxMessage, StaffUser, utcnow
from storage.models_journey import CaseMessage
from storage.organisation import save_ready_reply
from storage.outbox import Lane, Status
from storage.queries import get_or_create_beneficiary
from storage.sealing import unseal_json
from tests.console.conftest import form_token
from texts.bidi import without_controls
from wording.replies import caseworker_reply

SignIn = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

CODE = "IP-2026-000100"
PAGE = f"/cases/{CODE}/conversation"
HOSTILE_REPLY = "<b>Tomorrow</b> at 10:00 & bring <script>the papers</script>"
TOKEN = "6161616161:" + "C" * 35
BOT_ID = 6161616161


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


async def add_messages(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    case: Case,
    *bodies: tuple[str, dict[str, Any]],
) -> None:
    async with sessionmaker() as session:
        stored = await session.get(Case, case.id)
        assert stored is not None
        for kind, body in bodies:
            await add_case_message(session, crypto, case=stored, direction="in", kind=kind, body=body)
            await session.flush()
            await asyncio.sleep(0.002)  # distinct times keep the order observable
        await session.commit()


async def rows(sessionmaker: async_sessionmaker[AsyncSession], model: Any) -> list[Any]:
    async with sessionmaker() as session:
        return list((await session.execute(select(model))).scalars().all())


async def test_messages_show_in_order_with_attachments_and_unread_markers_and_a_get_marks_nothing(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("leyla")
    case = await seed_person(assigned_to=me.id, stage="screening", handoff_at=utcnow())
    await add_messages(
        sessionmaker,
        crypto,
        case,
        ("text", {"text": "Hello, I need help with housing"}),
        ("photo", {"file_id": "AgAD1", "caption": "my permit"}),
        ("document", {"file_id": "BQAD2", "file_name": "contract.pdf", "caption": None}),
        ("location", {"latitude": 40.4, "longitude": 49.8}),
    )
    page = soup(await client.get(PAGE))
    items = page.select("ol.conversation li.message")
    assert [
        item.select_one(".message-text").get_text() if item.select_one(".message-text") else None
        for item in items
    ] == ["Hello, I need help with housing", "my permit", None, None]
    assert [a.get_text() for a in page.select(".message-attachment")] == [
        "Photo",
        "Document: contract.pdf",
        "Location: 40.4, 49.8",
    ]
    assert len(page.select("li.message-unread")) == 4
    # Looking is not reading them out of the list: only the POST changes anything.
    assert len(soup(await client.get(PAGE)).select("li.message-unread")) == 4
    marked = await client.post(f"{PAGE}/read", data={"csrf_token": form_token(await client.get(PAGE))})
    assert marked.status_code == 303
    assert soup(await client.get(PAGE)).select("li.message-unread") == []
    assert all(m.read_at is not None for m in await rows(sessionmaker, CaseMessage))


async def test_a_reply_is_kept_escaped_in_the_outbox_pauses_the_bot_and_is_audited_without_its_text(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("leyla")
    case = await seed_person(assigned_to=me.id, stage="screening", handoff_at=utcnow())
    await add_messages(sessionmaker, crypto, case, ("text", {"text": "Are you there?"}))
    token = form_token(await client.get(PAGE))
    sent = await client.post(f"{PAGE}/reply", data={"csrf_token": token, "text": HOSTILE_REPLY})
    assert sent.status_code == 303

    [outbox] = await rows(sessionmaker, OutboxMessage)
    assert outbox.lane == Lane.REPLY and outbox.status == Status.PENDING
    assert outbox.beneficiary_id == case.beneficiary_id
    # Under a line saying who wrote it, in the person's language (the case's: Russian).
    assert unseal_json(crypto, outbox, "payload_enc") == {
        "text": "💬 Ваш социальный работник:\n"
        "&lt;b&gt;Tomorrow&lt;/b&gt; at 10:00 &amp; bring &lt;script&gt;the papers&lt;/script&gt;"
    }
    messages = sorted(await rows(sessionmaker, CaseMessage), key=lambda m: m.created_at)
    assert [(m.direction, m.staff_id) for m in messages] == [("in", None), ("out", me.id)]
    assert unseal_json(crypto, messages[1], "body_enc") == {"text": HOSTILE_REPLY}
    assert messages[0].read_at is not None  # answering is reading
    [stored] = await rows(sessionmaker, Case)
    assert stored.caseworker_active is True

    [entry] = [e for e in await rows(sessionmaker, AuditEntry) if e.action == "conversation.replied"]
    assert entry.object_id == CODE and entry.actor == f"staff:{me.id}"
    assert "Tomorrow" not in json.dumps(entry.details)
    # The page shows the reply as text, with no markup taken from it.
    page = soup(await client.get(PAGE))
    assert page.select_one("li.message-out .message-text").get_text() == HOSTILE_REPLY
    assert page.select("li.message b, li.message script") == []


EVERY_LANGUAGE = {
    "en": "A caseworker will call you.",
    "az": "Sosial işçi sizə zəng edəcək.",
    "ru": "Социальный работник вам позвонит.",
    "fa": "یک مددکار اجتماعی به شما تلیفون می‌کند.",
    "ps": "یو ټولنیز کارکوونکی به تاسو ته ټیلیفون وکړي.",
    "ur": "ایک سوشل ورکر آپ کو فون کریں گے۔",
    "tr": "Bir sosyal çalışmacı sizi arayacak.",
}
THREE_LANGUAGES = {"en": "Bring your passport.", "az": "Pasportunuzu gətirin.", "ru": "Возьмите паспорт."}


async def add_replies(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """A reply in every language and one in English, Azerbaijani and Russian only."""
    async with sessionmaker() as session, session.begin():
        every = await save_ready_reply(
            session, None, labels={"en": "We will call you"}, texts=EVERY_LANGUAGE, active=True, staff_id=None
        )
        three = await save_ready_reply(
            session,
            None,
            labels={"en": "Passport", "ru": "Паспорт"},
            texts=THREE_LANGUAGES,
            active=True,
            staff_id=None,
        )
        return every.id, three.id


@pytest.mark.parametrize("language", ["az", "ru", "fa", "ps"])
async def test_a_ready_reply_goes_in_the_beneficiarys_language(
    language: str,
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    every, _three = await add_replies(sessionmaker)
    me = await sign_in_as("leyla", language="ru")
    await seed_person(assigned_to=me.id, stage="screening", language=language)
    page = await client.get(PAGE)
    shown = soup(page).select_one(f"label[for=canned-{every}] q").get_text()
    assert shown == EVERY_LANGUAGE[language]
    sent = await client.post(f"{PAGE}/reply", data={"csrf_token": form_token(page), "canned": str(every)})
    assert sent.status_code == 303
    [outbox] = await rows(sessionmaker, OutboxMessage)
    sent_text = unseal_json(crypto, outbox, "payload_enc")["text"]
    assert sent_text == caseworker_reply(EVERY_LANGUAGE[language], language)
    [entry] = [e for e in await rows(sessionmaker, AuditEntry) if e.action == "conversation.replied"]
    assert entry.details["canned"] == str(every)


async def test_a_ready_reply_lacking_the_persons_language_is_marked_and_cannot_be_sent(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    every, three = await add_replies(sessionmaker)
    me = await sign_in_as("leyla")
    await seed_person(assigned_to=me.id, stage="screening", language="fa")
    page = await client.get(PAGE)
    lacking = soup(page).select_one(f"#canned-{three}")
    # Shown, with why, but not choosable; its label in the console's language, no Persian text.
    assert lacking.has_attr("disabled")
    assert soup(page).select_one(f"label[for=canned-{three}]").get_text() == "Passport"
    why = soup(page).select_one(f"#canned-{three}-why").get_text()
    assert "فارسی / دری" in why and "Türkçe" in why and "English" not in why.split(":")[-1]
    assert not soup(page).select_one(f"#canned-{every}").has_attr("disabled")
    # A forged or stale form that sends it anyway is refused, and nothing goes out in English.
    refused = await client.post(f"{PAGE}/reply", data={"csrf_token": form_token(page), "canned": str(three)})
    assert refused.status_code == 400
    alert = without_controls(soup(refused).select_one("p.error[role=alert]").get_text())
    assert "no text in فارسی / دری" in alert
    assert await rows(sessionmaker, OutboxMessage) == []
    assert await rows(sessionmaker, CaseMessage) == []


async def test_a_ready_reply_in_the_persons_language_says_which_other_languages_it_lacks(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    every, three = await add_replies(sessionmaker)
    me = await sign_in_as("leyla")
    await seed_person(assigned_to=me.id, stage="screening", language="az")
    page = soup(await client.get(PAGE))
    assert not page.select_one(f"#canned-{three}").has_attr("disabled")
    lacks = page.select_one(f"#canned-{three}").find_parent("p").select_one(".reply-lacks").get_text()
    assert all(name in lacks for name in ("فارسی / دری", "پښتو", "اردو", "Türkçe"))
    assert page.select_one(f"#canned-{every}").find_parent("p").select_one(".reply-lacks") is None


async def test_empty_unknown_and_overlong_replies_are_refused_and_nothing_is_queued(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    me = await sign_in_as("leyla")
    await seed_person(assigned_to=me.id, stage="screening")
    token = form_token(await client.get(PAGE))
    for data in ({"text": "   "}, {"canned": "nope"}, {"canned": "99999"}, {"text": "x" * 4001}):
        refused = await client.post(f"{PAGE}/reply", data={"csrf_token": token, **data})
        assert refused.status_code == 400, data
        assert soup(refused).select_one("p.error[role=alert]") is not None
    assert await rows(sessionmaker, OutboxMessage) == []
    assert await rows(sessionmaker, CaseMessage) == []


async def test_handing_back_resumes_the_bot_and_a_stale_page_changes_nothing(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    me = await sign_in_as("leyla")
    await seed_person(assigned_to=me.id, stage="screening", handoff_at=utcnow(), caseworker_active=True)
    page = soup(await client.get(PAGE))
    action = f"{PAGE}/hand-back"
    version = page.select_one(f"form[action='{action}'] input[name=version]")["value"]
    token = str(page.select_one("input[name=csrf_token]")["value"])
    stale = await client.post(action, data={"csrf_token": token, "version": str(int(version) - 1)})
    assert stale.status_code == 409
    [case] = await rows(sessionmaker, Case)
    assert case.caseworker_active is True and case.handoff_at is not None
    done = await client.post(action, data={"csrf_token": token, "version": version})
    assert done.status_code == 303
    [case] = await rows(sessionmaker, Case)
    assert case.caseworker_active is False and case.handoff_at is None
    assert "conversation.handed_back" in {e.action for e in await rows(sessionmaker, AuditEntry)}


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    async with SandboxServer() as server:
        yield server


@pytest.mark.slow
async def test_the_sender_delivers_a_reply_to_the_beneficiarys_chat_exactly_as_typed(
    sandbox: SandboxServer,
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("leyla")
    async with SandboxClient(sandbox.url, BOT_ID) as phone:
        bot = create_bot(TOKEN, sandbox.url)
        try:
            await bot.get_me()
            user = await phone.create_user()
            async with sessionmaker() as session:
                beneficiary = await get_or_create_beneficiary(session, crypto, telegram_id=user)
                session.add(
                    Case(
                        code=CODE,
                        beneficiary=beneficiary,
                        stage="screening",
                        language="en",
                        assigned_to=me.id,
                    )
                )
                await session.commit()
            token = form_token(await client.get(PAGE))
            sent = await client.post(f"{PAGE}/reply", data={"csrf_token": token, "text": HOSTILE_REPLY})
            assert sent.status_code == 303

            stop = asyncio.Event()
            running = asyncio.create_task(
                Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05).run(stop)
            )
            try:
                await phone.wait_for_bot_message(user, timeout=20)
            finally:
                stop.set()
                await running
        finally:
            await bot.session.close()
        [delivered] = await phone.bot_messages(user)
    assert delivered["text"] == "💬 Your caseworker:\n" + HOSTILE_REPLY
    assert not delivered.get("entities")
    [outbox] = await rows(sessionmaker, OutboxMessage)
    assert outbox.status == Status.SENT


async def test_the_topic_the_person_chose_shows_above_the_conversation_but_not_to_a_reader_not_on_the_case(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    case = await seed_person(stage="screening", handoff_at=utcnow(), handoff_reason="housing")
    await sign_in_as("rashad")  # the case waits in the queue: pseudonymised for him
    assert (
        soup(await client.get(PAGE)).select_one(".handoff-topic").get_text()
        == "Topic the person chose: Hidden"
    )
    me = await sign_in_as("leyla", language="ru")
    async with sessionmaker() as session:
        stored = await session.get(Case, case.id)
        assert stored is not None
        stored.assigned_to = me.id
        await session.commit()
    topic = soup(await client.get(PAGE)).select_one(".handoff-topic")
    assert topic.get_text() == "Тема, которую выбрал человек: Жильё"


async def test_no_topic_line_before_the_person_chose_one(
    client: httpx.AsyncClient, sign_in_as: SignIn, seed_person: SeedPerson
) -> None:
    me = await sign_in_as("leyla")
    await seed_person(assigned_to=me.id, stage="screening")
    assert soup(await client.get(PAGE)).select_one(".handoff-topic") is None
