"""The "Office hours" ready reply names the hours saved on the organisation page ({hours}): filled in
the person's language when a caseworker sends it (and in the conversation page's preview), as the
bot writes days and times; the reply form says which placeholders exist and refuses any other; the
migration that brings the placeholder leaves an office's own texts alone."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib.util
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from bidi import get_display
from bs4 import BeautifulSoup
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.factory import create_bot
from outreach.sender import Sender
from programme.appointments import Interval
from programme.organisation import Organisation
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage.crypto import Crypto
from storage.migrate import upgrade
from storage.models import AuditEntry, Case, StaffUser
from storage.models_organisation import ReadyReply
from storage.organisation import save_organisation, save_ready_reply
from storage.queries import get_or_create_beneficiary
from tests.conftest import Database
from tests.console.conftest import form_token
from texts.bidi import without_controls
from wording.hours import opening_hours
from wording.languages import RIGHT_TO_LEFT

SignIn = Callable[..., Awaitable[StaffUser]]
CODE = "IP-2026-000300"
PAGE = f"/cases/{CODE}/conversation"
TOKEN = "6262626262:" + "D" * 35
BOT_ID = 6262626262
VERSIONS = Path(__file__).resolve().parents[2] / "storage" / "migrations" / "versions"

# Monday and Tuesday with a lunch break, Wednesday short, the rest closed.
FIRST_HOURS: dict[int, tuple[Interval, ...]] = {
    0: ((dt.time(9), dt.time(13)), (dt.time(14), dt.time(18))),
    1: ((dt.time(9), dt.time(13)), (dt.time(14), dt.time(18))),
    2: ((dt.time(10), dt.time(16)),),
}
# Then the office opens on Saturday mornings instead of Wednesdays.
CHANGED_HOURS: dict[int, tuple[Interval, ...]] = {
    0: ((dt.time(9), dt.time(13)), (dt.time(14), dt.time(18))),
    5: ((dt.time(10), dt.time(14)),),
}
# What a person reads, written out by hand (not by the code under test), without direction marks.
FIRST_READ = {
    "ru": [
        "Понедельник и вторник: 09:00–13:00 и 14:00–18:00",
        "Среда: 10:00–16:00",
        "Четверг, пятница, суббота и воскресенье: закрыто",
    ],
    "ur": [
        "پیر اور منگل: صبح 9:00 سے دوپہر 1:00 تک اور دوپہر 2:00 سے شام 6:00 تک",
        "بدھ: صبح 10:00 سے سہ پہر 4:00 تک",
        "جمعرات، جمعہ، ہفتہ، اور اتوار: بند",
    ],
    "fa": [
        "دوشنبه و سه‌شنبه: 9:00 تا 13:00 و 14:00 تا 18:00",
        "چهارشنبه: 10:00 تا 16:00",
        "پنجشنبه، جمعه، شنبه، و یکشنبه: بسته",
    ],
}
CHANGED_READ = {
    "ru": [
        "Понедельник: 09:00–13:00 и 14:00–18:00",
        "Суббота: 10:00–14:00",
        "Вторник, среда, четверг, пятница и воскресенье: закрыто",
    ],
    "ur": [
        "پیر: صبح 9:00 سے دوپہر 1:00 تک اور دوپہر 2:00 سے شام 6:00 تک",
        "ہفتہ: صبح 10:00 سے دوپہر 2:00 تک",
        "منگل، بدھ، جمعرات، جمعہ، اور اتوار: بند",
    ],
    "fa": [
        "دوشنبه: 9:00 تا 13:00 و 14:00 تا 18:00",
        "شنبه: 10:00 تا 14:00",
        "سه‌شنبه، چهارشنبه، پنجشنبه، جمعه، و یکشنبه: بسته",
    ],
}


def migration(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, VERSIONS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SHIPPED = migration("0013_organisation")
HOURS_REPLY = migration("0014_office_hours_reply")


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


def read(message: str) -> list[str]:
    return [without_controls(line) for line in message.split("\n")]


async def set_hours(
    sessionmaker: async_sessionmaker[AsyncSession], hours: dict[int, tuple[Interval, ...]]
) -> None:
    async with sessionmaker() as session, session.begin():
        await save_organisation(session, Organisation(controller="Bridge Aid", hours=hours), staff_id=None)


async def office_hours_reply(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """The shipped reply as the migrations leave it (the tests' database starts empty each time)."""
    async with sessionmaker() as session, session.begin():
        await session.execute(delete(ReadyReply))
        reply = await save_ready_reply(
            session,
            None,
            labels=SHIPPED.SHIPPED[3][0],
            texts=HOURS_REPLY.SAVED_HOURS,
            active=True,
            staff_id=None,
        )
        return reply.id


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    async with SandboxServer() as server:
        yield server


async def send_and_receive(
    client: httpx.AsyncClient,
    phone: SandboxClient,
    sender: Sender,
    user: int,
    reply_id: int,
    count: int,
) -> tuple[str, dict[str, Any]]:
    """The preview on the conversation page, then what reached the person's chat after sending."""
    page = await client.get(PAGE)
    preview = soup(page).select_one(f"label[for=canned-{reply_id}] q").get_text()
    sent = await client.post(f"{PAGE}/reply", data={"csrf_token": form_token(page), "canned": str(reply_id)})
    assert sent.status_code == 303, sent.text[:1000]
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    try:
        delivered = await phone.wait_for_bot_message(user, count=count, timeout=20)
    finally:
        stop.set()
        await running
    return preview, delivered


@pytest.mark.parametrize("language", ["ur", "ru", "fa"])
async def test_the_office_hours_reply_reaches_the_chat_with_the_saved_hours_in_the_persons_language(
    language: str,
    sandbox: SandboxServer,
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("leyla")
    reply_id = await office_hours_reply(sessionmaker)
    await set_hours(sessionmaker, FIRST_HOURS)
    async with SandboxClient(sandbox.url, BOT_ID) as phone:
        bot = create_bot(TOKEN, sandbox.url)
        try:
            await bot.get_me()
            user = await phone.create_user()
            async with sessionmaker() as session:
                person = await get_or_create_beneficiary(session, crypto, telegram_id=user)
                person.language = language
                session.add(
                    Case(
                        code=CODE, beneficiary=person, stage="screening", language=language, assigned_to=me.id
                    )
                )
                await session.commit()
            sender = Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05)
            preview, first = await send_and_receive(client, phone, sender, user, reply_id, count=1)
            # Saved again: the next reply says the new hours, the one sent before keeps the old.
            await set_hours(sessionmaker, CHANGED_HOURS)
            later_preview, second = await send_and_receive(client, phone, sender, user, reply_id, count=2)
        finally:
            await bot.session.close()
    intro = HOURS_REPLY.SAVED_HOURS[language].split("\n")[0]
    assert read(first["text"])[1:] == [intro, *FIRST_READ[language]]
    assert read(second["text"])[1:] == [intro, *CHANGED_READ[language]]
    # The conversation page showed what was then sent, under the caseworker's line.
    assert read(preview) == [intro, *FIRST_READ[language]]
    assert read(later_preview) == [intro, *CHANGED_READ[language]]
    assert "{hours}" not in first["text"] + second["text"] + preview
    if language in RIGHT_TO_LEFT:
        for line in first["text"].split("\n")[1:]:
            # Laid out from the right: the client's own guess agrees, each time stays whole.
            assert get_display(line) == get_display(line, base_dir="R"), line
            assert "00:9" not in without_controls(get_display(line)), line
    async with sessionmaker() as session:
        replied = (
            (await session.execute(select(AuditEntry).where(AuditEntry.action == "conversation.replied")))
            .scalars()
            .all()
        )
    assert [entry.details["canned"] for entry in replied] == [str(reply_id)] * 2


@pytest.mark.parametrize("language", ["en", "az", "ru", "fa", "ps", "ur", "tr"])
def test_days_without_hours_are_said_closed_in_every_language(language: str) -> None:
    week = read(opening_hours({}, language))
    assert len(week) == 1 and "{" not in week[0]
    closed_every_day = read(opening_hours({4: ((dt.time(9), dt.time(9)),)}, language))
    assert closed_every_day == week  # an empty span opens nothing
    default = read(opening_hours({day: ((dt.time(9), dt.time(18)),) for day in range(5)}, language))
    assert len(default) == 2 and default[1].split(":")[-1] == week[0].split(":")[-1]


# ── the reply form ──────────────────────────────────────────────────────────────────────────────


def reply_form(**changes: str) -> dict[str, str]:
    return {"label_en": "Office hours", "text_en": "We are open:\n{hours}", "active": "1", **changes}


@pytest.mark.parametrize(
    ("typed", "named"),
    [("{Hours}", "{Hours}"), ("{ hours }", "{ hours }"), ("{saat}", "{saat}"), ("{ساعات}", "{ساعات}")],
)
async def test_the_reply_form_lists_its_placeholders_and_refuses_any_other_name_in_braces(
    typed: str,
    named: str,
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(delete(ReadyReply))
    await sign_in_as("sup1", role="supervisor")
    form = soup(await client.get("/ready-replies/edit"))
    assert form.select_one("#reply-placeholders dt").get_text() == "{hours}"
    assert "Organisation page" in form.select_one("#reply-placeholders dd").get_text()
    token = form_token(await client.get("/ready-replies/edit"))
    refused = await client.post(
        "/ready-replies/save", data={"csrf_token": token, **reply_form(text_fa=f"ساعات کاری: {typed}")}
    )
    assert refused.status_code == 400
    page = soup(refused)
    message = page.select_one("#err-text_fa").get_text()
    assert named in message and "{hours}" in message, message
    assert page.select_one("#reply-text_fa")["aria-invalid"] == "true"
    assert page.select_one("#reply-text_fa").get_text() == f"ساعات کاری: {typed}"  # kept to correct
    async with sessionmaker() as session:
        assert (await session.execute(select(ReadyReply))).scalars().all() == []
    saved = await client.post("/ready-replies/save", data={"csrf_token": token, **reply_form()})
    assert saved.status_code == 303
    async with sessionmaker() as session:
        [reply] = (await session.execute(select(ReadyReply))).scalars().all()
    assert reply.texts == {"en": "We are open:\n{hours}"}


async def test_the_form_refuses_an_unknown_placeholder_in_the_consoles_language(
    client: httpx.AsyncClient, sign_in_as: SignIn
) -> None:
    await sign_in_as("sup1", role="supervisor", language="ru")
    token = form_token(await client.get("/ready-replies/edit"))
    refused = await client.post(
        "/ready-replies/save", data={"csrf_token": token, **reply_form(text_ru="{часы}")}
    )
    assert refused.status_code == 400
    message = soup(refused).select_one("#err-text_ru").get_text()
    assert message.startswith("{часы} — не подстановка") and "{hours}" in message, message


# ── the migration ───────────────────────────────────────────────────────────────────────────────


@contextlib.asynccontextmanager
async def database_at(database: Database, tmp_path: Path, revision: str) -> AsyncIterator[AsyncEngine]:
    """A new database of the test's kind (SQLite or a PostgreSQL schema) at `revision`."""
    fresh = Database(database.backend, tmp_path)
    if fresh.schema:
        admin = fresh.engine()
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{fresh.schema}"'))
        await admin.dispose()
    engine = fresh.engine()
    try:
        await upgrade(engine, revision)
        yield engine
    finally:
        await engine.dispose()
        await fresh.drop()


async def stored_texts(engine: AsyncEngine) -> list[dict[str, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(ReadyReply.texts).order_by(ReadyReply.id))
        return [dict(texts) for (texts,) in rows]


async def test_the_migration_brings_the_placeholder_only_where_the_shipped_text_is_unchanged(
    database: Database, tmp_path: Path
) -> None:
    async with database_at(database, tmp_path, "0013_organisation") as engine:
        shipped = await stored_texts(engine)
        assert shipped[3] == HOURS_REPLY.FIXED
        # The office corrected its Russian hours and wrote its own Persian text, and added a reply
        # that happens to quote the shipped English sentence.
        own = dict(HOURS_REPLY.FIXED, ru="Наш офис открыт с понедельника по четверг, с 10:00 до 17:00.")
        own["fa"] = "دفتر ما روزهای دوشنبه تا پنجشنبه باز است."
        async with engine.begin() as connection:
            await connection.execute(
                ReadyReply.__table__.update().where(ReadyReply.id == 4).values(texts=own)
            )
            await connection.execute(
                ReadyReply.__table__.insert().values(
                    labels={"en": "Ours"},
                    texts={"en": "Hello.", "az": "Salam."},
                    active=True,
                    changed_at=dt.datetime.now(dt.UTC),
                )
            )
        await upgrade(engine, "0014_office_hours_reply")
        after = await stored_texts(engine)
    assert after[:3] == shipped[:3]  # the other shipped replies are as they were
    expected = dict(HOURS_REPLY.SAVED_HOURS, ru=own["ru"], fa=own["fa"])
    assert after[3] == expected
    assert after[4] == {"en": "Hello.", "az": "Salam."}
    assert all("{hours}" in text_ for code, text_ in after[3].items() if code not in ("ru", "fa"))
