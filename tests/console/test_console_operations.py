"""The operations page (administrators only) and the setup checklist, on a real database: the
worker's heartbeat, the outbox backlog by lane, the bot's last update, Telegram's webhook status
through the sandbox, the schema, and whether the data keys open the data."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
from collections.abc import Awaitable, Callable

import httpx
import pytest
from aiogram import Bot
from bs4 import BeautifulSoup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from bot.factory import create_bot
from caseworker_console.app import create_app
from outreach.heartbeat import who
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage import ops
from storage.crypto import Crypto
from storage.migrate import newest_revision
from storage.models import OutboxMessage, ProcessedUpdate, StaffUser
from storage.models_appointments import Office
from storage.models_staff_link import StaffTelegramLink
from tests.console.conftest import BASE_URL

SignIn = Callable[..., Awaitable[StaffUser]]
BOT_ID = 777_000_111
TOKEN = f"{BOT_ID}:" + "b" * 35

HEAD = newest_revision()


def checks(page: httpx.Response) -> dict[str, tuple[str, str, str]]:
    """Each check's row: (whether it is well, what it says, what to do)."""
    soup = BeautifulSoup(page.text, "lxml")
    rows = {}
    for row in soup.select("table.ops-checks tbody tr"):
        cells = row.select("td")
        rows[row["data-check"]] = (
            row["data-ok"],
            cells[1].get_text(" ", strip=True),
            cells[2].get_text(strip=True),
        )
    return rows


def lanes(page: httpx.Response) -> dict[str, list[str]]:
    soup = BeautifulSoup(page.text, "lxml")
    return {
        row.select_one("th").get_text(strip=True): [
            cell.get_text(" ", strip=True) for cell in row.select("td")
        ]
        for row in soup.select("table.ops-outbox tbody tr")
    }


async def test_only_administrators_open_the_operations_page(
    client: httpx.AsyncClient, sign_in_as: SignIn
) -> None:
    await sign_in_as("sofia", role="supervisor")
    assert (await client.get("/operations")).status_code == 403
    await sign_in_as("adam", role="admin")
    page = await client.get("/operations")
    assert page.status_code == 200
    assert 'href="/operations" aria-current="page"' in page.text


async def test_a_new_installation_says_what_is_not_running_yet(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await sign_in_as("adam", role="admin")
    found = checks(await client.get("/operations"))
    assert found["sender"] == (
        "no",
        "It has never run on this database.",
        "Start intake worker (or intake serve, which runs it too).",
    )
    assert found["database"][0] == "yes"
    assert found["database"][1].endswith(f"at the newest schema ({HEAD}).")
    assert found["keys"] == (
        "no",
        "Not checked yet.",
        "Restart the processes: each checks the keys when it starts.",
    )
    assert found["bot"][1] == "It has not received a message yet (or none in the days updates are kept)."
    assert found["telegram"] == ("yes", "Not asked: this console has no TELEGRAM_BOT_TOKEN.", "")
    assert "Nothing is waiting to be sent." in (await client.get("/operations")).text
    # A process starts: it writes the key check, which the page then opens.
    async with sessionmaker() as session, session.begin():
        assert await ops.check_keys(session, crypto) is ops.KeyState.CURRENT
    assert checks(await client.get("/operations"))["keys"] == ("yes", "The data keys open the data.", "")


@pytest.fixture
def app(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, now: dt.datetime) -> Starlette:
    """The console, its clock at the test's moment: what the page calls late, stopped or minutes ago
    is by it."""
    return create_app(sessionmaker=sessionmaker, crypto=crypto, clock=lambda: now)


# A moment unlike the machine's: the page reads the console's clock, not the time it is.
@pytest.mark.parametrize("now", [dt.datetime(2026, 3, 4, 5, 30, tzinfo=dt.UTC)], ids=["set-clock"])
async def test_a_running_worker_its_backlog_and_the_bots_last_update(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    await sign_in_as("adam", role="admin")
    async with sessionmaker() as session, session.begin():
        await ops.beat(session, ops.SENDER_HEARTBEAT, who(), now=now - dt.timedelta(seconds=5))
        session.add(ProcessedUpdate(bot_id=BOT_ID, update_id=41, processed_at=now - dt.timedelta(hours=3)))
        session.add(ProcessedUpdate(bot_id=BOT_ID, update_id=42, processed_at=now - dt.timedelta(minutes=2)))
        for lane, due, status in [
            (0, now - dt.timedelta(minutes=12), "pending"),
            (0, now - dt.timedelta(minutes=1), "pending"),
            (0, now, "sending"),
            (0, now - dt.timedelta(days=1), "sent"),
            (2, now + dt.timedelta(hours=1), "pending"),
        ]:
            session.add(OutboxMessage(lane=lane, status=status, not_before=due, payload_enc=b"\x01" * 40))
    found = checks(await client.get("/operations"))
    assert found["sender"][0] == "yes"
    assert found["sender"][1].startswith("Running: its last heartbeat was ")
    assert found["sender"][1].endswith(f" seconds ago, from {who()}.")
    assert found["bot"][1].startswith("It last received an update 2 minutes ago (")
    page = await client.get("/operations")
    assert lanes(page) == {
        "Replies": ["2", "2", "12 minutes ago Late", "1"],
        "Campaigns": ["1", "0", "—", "0"],
    }
    assert "Messages due for more than five minutes are waiting" in page.text
    # The sender stopped beating two minutes ago.
    async with sessionmaker() as session, session.begin():
        await ops.beat(session, ops.SENDER_HEARTBEAT, who(), now=now - dt.timedelta(minutes=2))
    sender = checks(await client.get("/operations"))["sender"]
    assert sender[0] == "no" and sender[1].startswith("Stopped: its last heartbeat was 2 minutes ago (")
    assert sender[2] == "Start intake worker again and look at its log for why it stopped."


async def test_a_wrong_data_key_is_seen_on_the_page(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await sign_in_as("adam", role="admin")
    async with sessionmaker() as session, session.begin():
        assert await ops.check_keys(session, Crypto([os.urandom(32)])) is ops.KeyState.CURRENT
    assert checks(await client.get("/operations"))["keys"] == (
        "no",
        "The data keys do not open the data.",
        "Give INTAKE_DATA_KEYS the keys this database was written with, newest first.",
    )
    async with sessionmaker() as session, session.begin():
        assert await ops.check_keys(session, crypto) is ops.KeyState.WRONG


async def test_an_older_key_asks_to_finish_the_rotation(
    sessionmaker: async_sessionmaker[AsyncSession], data_key: bytes
) -> None:
    async with sessionmaker() as session, session.begin():
        await ops.check_keys(session, Crypto([data_key]))
    async with sessionmaker() as session, session.begin():
        assert await ops.check_keys(session, Crypto([os.urandom(32), data_key])) is ops.KeyState.OLDER


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_webhook_status_comes_from_telegram(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    """Through the sandbox: a webhook Telegram cannot deliver to shows its waiting update and error."""
    async with SandboxServer() as sandbox:
        bot: Bot = create_bot(TOKEN, sandbox.url)
        try:
            await sign_in_as("adam", role="admin")
            app = create_app(
                sessionmaker=sessionmaker, crypto=crypto, webhook_info=bot.get_webhook_info, clock=lambda: now
            )
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=BASE_URL, cookies=client.cookies
            ) as with_bot:
                assert checks(await with_bot.get("/operations"))["telegram"] == (
                    "yes",
                    "Long polling (no webhook is set). 0 updates wait at Telegram.",
                    "",
                )
                await bot.set_webhook(f"http://127.0.0.1:{closed_port()}/hook", secret_token="s" * 20)
                async with SandboxClient(sandbox.url, BOT_ID) as phone:
                    await phone.send_text(await phone.create_user(), "hello")
                    async with asyncio.timeout(20):
                        while (info := await bot.get_webhook_info()).last_error_date is None:  # noqa: ASYNC110 - the sandbox delivers in the background
                            await asyncio.sleep(0.05)
                telegram = checks(await with_bot.get("/operations"))["telegram"]
        finally:
            await bot.session.close()
    assert telegram[0] == "no"
    assert telegram[1].startswith("Webhook mode. 1 update waits at Telegram. Its last delivery error, ")
    assert telegram[1].endswith(f": {info.last_error_message}")
    assert telegram[2] == "Check that TELEGRAM_WEBHOOK_URL reaches intake bot through the proxy."


# ── the setup checklist ─────────────────────────────────────────────────────────────────────────


def steps(page: httpx.Response) -> dict[str, str]:
    soup = BeautifulSoup(page.text, "lxml")
    return {item["data-step"]: item["data-done"] for item in soup.select(".setup-checklist li")}


async def test_the_setup_checklist_stays_until_each_step_is_done(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    sign_in_as: SignIn,
    client: httpx.AsyncClient,
    now: dt.datetime,
) -> None:
    admin = await sign_in_as("adam", role="admin")
    page = await client.get("/accounts")
    assert steps(page) == {
        "organisation": "no",
        "office": "no",
        "caseworker": "no",
        "staff_chat": "no",
        "data_controller": "no",
    }
    assert "0 of 5 steps done. This list stays here until each is done." in page.text
    async with sessionmaker() as session, session.begin():
        session.add(
            Office(
                name="Integration Centre Ganja", address="1 Example Street", latitude=40.68, longitude=46.36
            )
        )
        session.add(StaffUser(username="leyla", password_hash="x", role="caseworker", display_name="Leyla"))
        session.add(StaffTelegramLink(staff_user_id=admin.id, chat_hash="h" * 64, chat_id_enc=b"\x01" * 40))
    assert steps(await client.get("/offices")) == {
        "organisation": "no",
        "office": "yes",
        "caseworker": "yes",
        "staff_chat": "yes",
        "data_controller": "no",
    }
    # The organisation's settings given: nothing is left, and the list is gone.
    named = create_app(
        sessionmaker=sessionmaker,
        crypto=crypto,
        clock=lambda: now,
        data_controller="Bridge Aid Association",
        data_contact="privacy@bridge-aid.example",
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=named), base_url=BASE_URL, cookies=client.cookies
    ) as done:
        page = await done.get("/accounts")
    assert page.status_code == 200 and steps(page) == {}


async def test_other_roles_never_see_the_checklist(client: httpx.AsyncClient, sign_in_as: SignIn) -> None:
    await sign_in_as("sofia", role="supervisor")
    assert steps(await client.get("/cases")) == {}
    await sign_in_as("olga", role="outreach")
    assert steps(await client.get("/figures")) == {}
