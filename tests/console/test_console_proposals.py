"""A proposed time end to end: the console proposes (httpx ASGI), the sender delivers it to the sandbox
phone in the beneficiary's language, and the real bot answers the phone's taps."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach.sender import Sender
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage.crypto import Crypto
from storage.models import AuditEntry, Case, StaffUser
from storage.models_appointments import Appointment, AppointmentProposal
from storage.queries import get_or_create_beneficiary
from tests.bot.conftest import BOT_ID, BotProcess
from tests.console.test_console_appointments import (
    BAKU,
    CODE,
    all_rows,
    app,  # noqa: F401 - the console at the test's set time
    at,
    baku_day,
    book,
    office_with,
    propose_via_page,
    seats,
)
from wording.proposals import ACCEPT, OTHER
from wording.taps import Tap

Translate = Callable[..., str]
SignIn = Callable[..., Awaitable[StaffUser]]

pytestmark = pytest.mark.slow


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    async with SandboxServer() as server:
        yield server


@pytest.fixture
async def bot_process(
    sandbox: SandboxServer, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> AsyncIterator[BotProcess]:
    process = BotProcess(sandbox.url, sessionmaker, crypto)
    await process.start()
    try:
        yield process
    finally:
        await process.halt()


@pytest.fixture
async def phone(sandbox: SandboxServer, bot_process: BotProcess) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(sandbox.url, BOT_ID) as client:
        yield client


@pytest.fixture
async def sender(
    bot_process: BotProcess, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> AsyncIterator[None]:
    """The outbox sender, delivering through the bot process's own Bot."""
    assert bot_process.bot is not None
    stop = asyncio.Event()
    running = asyncio.create_task(
        Sender(bot_process.bot, sessionmaker, crypto, rate=25, idle_interval=0.05).run(stop)
    )
    try:
        yield
    finally:
        stop.set()
        await running


async def person(
    phone: SandboxClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    *,
    language: str,
    caseworker: StaffUser,
) -> tuple[int, Case]:
    """A Telegram user known to the bot, with a case assigned to the caseworker."""
    user = await phone.create_user(language_code=language)
    async with sessionmaker() as session:
        beneficiary = await get_or_create_beneficiary(session, crypto, telegram_id=user)
        beneficiary.language = language
        case = Case(
            code=CODE,
            beneficiary=beneficiary,
            stage="screening",
            language=language,
            assigned_to=caseworker.id,
        )
        session.add(case)
        await session.commit()
    return user, case


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """Tap value → callback data of a message's buttons."""
    return {
        Tap.unpack(button["callback_data"]).value: button["callback_data"]
        for row in message["reply_markup"]["inline_keyboard"]
        for button in row
    }


async def state(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[list[str], dict[Any, str]]:
    proposals = [p.status for p in await all_rows(sessionmaker, AppointmentProposal)]
    appointments = {row.id: row.status for row in await all_rows(sessionmaker, Appointment)}
    return proposals, appointments


async def test_a_moved_time_reaches_the_phone_in_farsi_and_accept_books_it_once_freeing_the_old_seat(
    phone: SandboxClient,
    sender: None,
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    t: Translate,
    now: dt.datetime,
) -> None:
    me = await sign_in_as("leyla")
    user, case = await person(phone, sessionmaker, crypto, language="fa", caseworker=me)
    office = await office_with(sessionmaker)
    day = baku_day(2, now)
    old = await book(sessionmaker, case, office, at(day, 9))
    assert (await propose_via_page(client, office, day, 11, replaces=str(old.id))).status_code == 303

    message = await phone.wait_for_bot_message(
        user, contains=t("<b>Your caseworker proposes to move your appointment</b>", "fa")[3:-4], timeout=20
    )
    assert t("Does this time suit you?", "fa") in message["text"]
    labels = [button["text"] for row in message["reply_markup"]["inline_keyboard"] for button in row]
    assert labels == ["✅ " + t("Accept", "fa"), "🗓 " + t("Choose another time", "fa")]
    data = buttons(message)

    # A forged Accept (another token) changes nothing.
    forged = Tap(token="f" * 16, value=ACCEPT).pack()
    answer = await phone.press_for_answer(user, message_id=message["message_id"], callback_data=forged)
    assert answer["text"] == t("Please choose one of the options.", "fa")
    before = await state(sessionmaker)
    assert before[0] == ["pending"]

    # Two taps of Accept at once: booked once, the old seat freed.
    answers = await asyncio.gather(
        *(
            phone.press_for_answer(user, message_id=message["message_id"], callback_data=data[ACCEPT])
            for _ in range(2)
        )
    )
    closed = t("This proposal is no longer open. Use /appointments to see your appointments.", "fa")
    assert sorted(str(a["text"]) for a in answers) == sorted(["None", closed])
    await phone.wait_for_bot_message(user, contains=t("Your appointment is moved.", "fa"))
    proposals, appointments = await state(sessionmaker)
    [proposal] = await all_rows(sessionmaker, AppointmentProposal)
    assert proposals == ["accepted"]
    assert appointments == {old.id: "cancelled", proposal.appointment_id: "booked"}
    [moved] = [row for row in await all_rows(sessionmaker, Appointment) if row.id == proposal.appointment_id]
    assert moved.replaces_id == old.id and moved.hold_until is None and moved.starts_at == at(day, 11)
    assert await seats(sessionmaker) == 1
    texts = [m["text"] for m in await phone.bot_messages(user)]
    assert sum(t("Your appointment is moved.", "fa") in text for text in texts) == 1
    # A stale Accept later changes nothing either.
    stale = await phone.press_for_answer(user, message_id=message["message_id"], callback_data=data[ACCEPT])
    assert stale["text"] == closed
    assert await state(sessionmaker) == (proposals, appointments)
    actions = [entry.action for entry in await all_rows(sessionmaker, AuditEntry)]
    assert actions.count("appointment.proposal_accepted") == 1


async def test_in_english_choose_another_time_frees_the_seat_and_opens_the_bots_calendar(
    phone: SandboxClient,
    sender: None,
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    t: Translate,
    now: dt.datetime,
) -> None:
    me = await sign_in_as("leyla")
    user, _case = await person(phone, sessionmaker, crypto, language="en", caseworker=me)
    office = await office_with(sessionmaker)
    day = baku_day(3, now)
    assert (await propose_via_page(client, office, day, 10)).status_code == 303
    message = await phone.wait_for_bot_message(
        user, contains=t("<b>Your caseworker proposes an appointment</b>")[3:-4], timeout=20
    )
    assert "Office A" in message["text"]
    answer = await phone.press_for_answer(
        user, message_id=message["message_id"], callback_data=buttons(message)[OTHER]
    )
    assert answer["text"] is None
    await phone.wait_for_bot_message(user, contains=t("Choose a day. Days marked · have no free time."))
    proposals, appointments = await state(sessionmaker)
    assert proposals == ["declined"] and list(appointments.values()) == ["cancelled"]
    assert await seats(sessionmaker) == 0


async def test_accepting_after_the_case_was_closed_books_nothing_and_frees_the_seat(
    phone: SandboxClient,
    sender: None,
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    t: Translate,
    now: dt.datetime,
) -> None:
    me = await sign_in_as("leyla")
    user, case = await person(phone, sessionmaker, crypto, language="ru", caseworker=me)
    office = await office_with(sessionmaker)
    day = baku_day(2, now)
    assert (await propose_via_page(client, office, day, 10)).status_code == 303
    message = await phone.wait_for_bot_message(
        user, contains=t("<b>Your caseworker proposes an appointment</b>", "ru")[3:-4], timeout=20
    )
    async with sessionmaker() as session:
        stored = await session.get(Case, case.id)
        assert stored is not None
        stored.stage = "closed"
        await session.commit()
    answer = await phone.press_for_answer(
        user, message_id=message["message_id"], callback_data=buttons(message)[ACCEPT]
    )
    assert answer["text"] == t(
        "This proposal is no longer open. Use /appointments to see your appointments.", "ru"
    )
    proposals, appointments = await state(sessionmaker)
    assert proposals == ["withdrawn"] and list(appointments.values()) == ["cancelled"]
    assert await seats(sessionmaker) == 0


async def test_a_closure_proposes_a_new_time_on_the_phone_in_russian_and_accept_moves_the_booking(
    phone: SandboxClient,
    sender: None,
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    make_user: Callable[..., Awaitable[StaffUser]],
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    t: Translate,
    now: dt.datetime,
) -> None:
    caseworker = await make_user("leyla")
    await sign_in_as("aysel", role="admin")
    user, case = await person(phone, sessionmaker, crypto, language="ru", caseworker=caseworker)
    office = await office_with(sessionmaker, names={"ru": "Офис A"})
    day = baku_day(3, now)
    old = await book(sessionmaker, case, office, at(day, 10))
    page = await client.get(f"/offices/closure?office={office.id}")
    token = BeautifulSoup(page.text, "lxml").select_one("form input[name=csrf_token]")["value"]
    closure = {"csrf_token": token, "office": str(office.id), "start": day.isoformat(), "reason": "Переезд"}
    assert (await client.post("/offices/close", data=closure)).status_code == 409  # listed first
    assert (await client.post("/offices/close", data={**closure, "confirm": "1"})).status_code == 200

    message = await phone.wait_for_bot_message(
        user, contains=t("<b>Your caseworker proposes to move your appointment</b>", "ru")[3:-4], timeout=20
    )
    assert "Офис A" in message["text"] and t("Does this time suit you?", "ru") in message["text"]
    await phone.press_for_answer(
        user, message_id=message["message_id"], callback_data=buttons(message)[ACCEPT]
    )
    await phone.wait_for_bot_message(user, contains=t("Your appointment is moved.", "ru"))
    [proposal] = await all_rows(sessionmaker, AppointmentProposal)
    statuses = {row.id: row.status for row in await all_rows(sessionmaker, Appointment)}
    assert statuses == {old.id: "cancelled", proposal.appointment_id: "booked"}
    [moved] = [row for row in await all_rows(sessionmaker, Appointment) if row.id == proposal.appointment_id]
    assert moved.starts_at.astimezone(BAKU).date() != day


async def test_another_persons_tap_with_the_proposals_own_token_changes_nothing(
    phone: SandboxClient,
    sender: None,
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    t: Translate,
) -> None:
    # A tampered client can send any callback data: the proposal's real token, from someone else's
    # chat, is answered as a forged button and neither books nor frees anything.
    me = await sign_in_as("leyla")
    user, _ = await person(phone, sessionmaker, crypto, language="en", caseworker=me)
    office = await office_with(sessionmaker)
    day = baku_day(2)
    assert (await propose_via_page(client, office, day, 11)).status_code == 303
    message = await phone.wait_for_bot_message(user, contains="Does this time suit you?", timeout=20)
    data = buttons(message)
    before = await state(sessionmaker)
    assert before[0] == ["pending"]

    other = await phone.create_user(language_code="en")
    await phone.send_text(other, "/help")
    theirs = await phone.wait_for_bot_message(other)
    for value in (ACCEPT, OTHER):
        answer = await phone.press_for_answer(
            other, message_id=theirs["message_id"], callback_data=data[value]
        )
        assert answer["text"] == t("Please choose one of the options.")
    assert await state(sessionmaker) == before
    assert await seats(sessionmaker) == 1
    # The person's own tap still works.
    await phone.press_for_answer(user, message_id=message["message_id"], callback_data=data[ACCEPT])
    await phone.wait_for_bot_message(user, contains=t("Your appointment is booked."))
    assert (await state(sessionmaker))[0] == ["accepted"]
