"""Feedback end to end: a person sends every kind through the real bot in the sandbox, with their case
and anonymously; in the real console each one is listed and opened by the accounts that may read it
and by no other (the case's own caseworker least of all); a focal point's answer, posted on the
feedback page, reaches the person's chat through the sender, and an anonymous one only by its number."""

from __future__ import annotations

import itertools
import secrets

import httpx
import pytest
from aiogram import Bot
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseworker_console.app import create_app
from caseworker_console.auth import SESSION_COOKIE, hash_token
from outreach.sender import Sender
from programme.feedback import Kind, Routing, shown
from sandbox.client import SandboxClient
from storage import staff
from storage.crypto import Crypto
from storage.models import Case, StaffUser, utcnow
from storage.models_feedback import Feedback
from tests.bot.test_feedback import KINDS, REFERENCE, give, stored
from tests.bot.test_journey import screened, tap_and_wait, type_and_wait
from tests.bot.test_reminder_buttons import sender_bot
from tests.bot.test_screening import Translate
from tests.outreach.conftest import drain

__all__ = ["sender_bot"]  # the fixture, shared with the reminder tests

pytestmark = pytest.mark.slow

HOWS = ("With my case", "Anonymously")


async def signed_in(
    sessionmaker: async_sessionmaker[AsyncSession], username: str, role: str, *, focal_point: bool = False
) -> tuple[StaffUser, str]:
    """An account and a session cookie for it (sign-in itself is tested through its form)."""
    token = secrets.token_urlsafe(32)
    async with sessionmaker() as session:
        user = await staff.add_user(
            session,
            username=username,
            password_hash="-",
            role=role,
            display_name=username.title(),
            language="en",
            at=utcnow(),
        )
        user.focal_point = focal_point
        await staff.create_session(
            session, session_id=hash_token(token), user_id=user.id, csrf_token="csrf", at=utcnow()
        )
        await session.commit()
    return user, token


def listed(page: httpx.Response) -> set[str]:
    return {
        str(row["data-reference"])
        for row in BeautifulSoup(page.text, "lxml").select("main tr[data-reference]")
    }


async def test_each_kind_both_ways_reaches_its_readers_only_and_an_answer_reaches_the_chat(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    sender_bot: Bot,
) -> None:
    user = await screened(phone, t)
    given: dict[tuple[Kind, str], str] = {}
    for kind, how in itertools.product(Kind, HOWS):
        await give(phone, t, user, kind, how)
        done = await type_and_wait(phone, user, f"About {kind}, given {how.lower()}.", "FB-")
        [shown_reference] = REFERENCE.findall(done["text"])
        given[kind, how] = stored(shown_reference)

    accounts = {
        "supervisor": await signed_in(sessionmaker, "sabina", "supervisor"),
        "focal point": await signed_in(sessionmaker, "farida", "supervisor", focal_point=True),
        "the case's caseworker": await signed_in(sessionmaker, "rashad", "caseworker"),
        "outreach officer": await signed_in(sessionmaker, "olga", "outreach"),
        "administrator": await signed_in(sessionmaker, "adil", "admin"),
    }
    async with sessionmaker() as session, session.begin():
        case = (await session.execute(select(Case))).scalar_one()
        case.assigned_to = accounts["the case's caseworker"][0].id
        rows = {row.reference: row for row in (await session.execute(select(Feedback))).scalars()}
    for (kind, how), reference in given.items():
        anonymous = how == "Anonymously"
        assert (rows[reference].beneficiary_id is None) is anonymous
        focal_only = kind in (Kind.STAFF, Kind.AFRAID)
        assert rows[reference].routing == (Routing.FOCAL_POINTS if focal_only else Routing.SUPERVISORS)
    service = {ref for (kind, _), ref in given.items() if kind in (Kind.THANKS, Kind.SERVICE)}
    readers = {"supervisor": service, "focal point": set(given.values())}

    app = create_app(sessionmaker=sessionmaker, crypto=crypto)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console.test"
    ) as console:
        for name, (_, token) in accounts.items():
            console.cookies.set(SESSION_COOKIE, token, domain="console.test")
            page = await console.get("/feedback?status=all")
            sees = readers.get(name, set())
            if sees:
                assert page.status_code == 200 and listed(page) == sees, name
            else:
                assert page.status_code == 403 and "FB-" not in page.text, name
            for reference in given.values():
                item = await console.get(f"/feedback/{reference}")
                expected = 200 if reference in sees else 404 if sees else 403
                assert item.status_code == expected, (name, reference)

        # The focal point answers the complaint given with the case, and the anonymous one.
        console.cookies.set(SESSION_COOKIE, accounts["focal point"][1], domain="console.test")
        answers = {
            HOWS[0]: "We are sorry. A focal point will call you tomorrow.",
            HOWS[1]: "We spoke with the staff member about it.",
        }
        for how, text in answers.items():
            sent = await console.post(
                f"/feedback/{given[Kind.STAFF, how]}/answer",
                data={"csrf_token": "csrf", "seen": "0", "text": text},
            )
            assert sent.status_code == 303
    await drain(Sender(sender_bot, sessionmaker, crypto, rate=25, idle_interval=0.05), sessionmaker)

    told = await phone.wait_for_bot_message(user, contains=answers[HOWS[0]])
    complaint = given[Kind.STAFF, HOWS[0]]
    assert told["text"] == t("An answer to your feedback {reference}:", reference=shown(complaint)) + (
        "\n\n" + answers[HOWS[0]]
    )
    assert not any(answers[HOWS[1]] in m["text"] for m in await phone.bot_messages(user))
    anonymous = given[Kind.STAFF, HOWS[1]]
    await type_and_wait(phone, user, "/feedback", t(KINDS))
    await tap_and_wait(phone, user, "🔎 " + t("My feedback"), "FB-1234-5678")
    status = await type_and_wait(phone, user, anonymous, answers[HOWS[1]])
    assert t("answered") in status["text"]
