"""`intake demo`: sandbox, bot, sender and console in one process on the embedded defaults."""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import select

from caseworker_console.accounts import create_user, set_password
from intake import runtime as rt
from intake.demo_data import seed_demo
from intake.settings import Settings, demo_keys, load_settings
from intake.startup import bind_error
from sandbox.server import SandboxServer
from storage.appointments import ensure_demo_office
from storage.models import StaffUser

DEMO_USERNAME = "demo"
# The demo's own database and key, apart from a real installation's (./var/intake.db by default):
# whatever DATABASE_URL and INTAKE_DATA_KEYS say, the demo never writes its made-up data there.
DEMO_DIR = Path("var") / "demo"
DEMO_DATABASE_URL = f"sqlite+aiosqlite:///{DEMO_DIR / 'intake.db'}"


def demo_settings(sandbox_url: str) -> Settings:
    return load_settings().model_copy(
        update={
            "telegram_api_url": sandbox_url,
            "database_url": DEMO_DATABASE_URL,
            "data_keys": SecretStr(demo_keys(DEMO_DIR)),
        }
    )


async def ensure_demo_account(runtime: rt.Runtime) -> str:
    """A demo caseworker with a fresh password on every start (printed, never stored in clear)."""
    password = secrets.token_urlsafe(12)
    async with runtime.sessionmaker() as session, session.begin():
        user = (
            await session.execute(select(StaffUser).where(StaffUser.username == DEMO_USERNAME))
        ).scalar_one_or_none()
        if user is None:
            await create_user(
                session,
                username=DEMO_USERNAME,
                password=password,
                role="supervisor",
                display_name="Demo caseworker",
            )
        else:
            await set_password(session, user=user, password=password)
    return password


async def run_demo(*, sandbox_port: int) -> None:
    stop = asyncio.Event()
    rt.stop_on_signals(stop)
    # Simulated users get ids no earlier demo run used, so they never continue an old dialog.
    first_user_id = 100_000_001 + int(time.time()) % 10**7 * 100
    sandbox = SandboxServer(port=sandbox_port, first_user_id=first_user_id)
    try:
        await sandbox.start()
    except OSError as error:
        raise bind_error(error, "127.0.0.1", sandbox_port, "--sandbox-port") from None
    try:
        settings = demo_settings(sandbox.url)
        with rt.console_socket(settings) as sock:
            await _run(settings, sandbox.url, stop, sock)
    finally:
        await sandbox.stop()


async def _run(settings: Settings, sandbox_url: str, stop: asyncio.Event, sock: socket.socket) -> None:
    async with rt.open_runtime(settings, demo=True) as runtime:
        password = await ensure_demo_account(runtime)
        async with runtime.sessionmaker() as session, session.begin():
            office = await ensure_demo_office(session)
            # Made-up cases, so the figures dashboard has something to show (once).
            demo_user = (
                await session.execute(select(StaffUser.id).where(StaffUser.username == DEMO_USERNAME))
            ).scalar_one()
            await seed_demo(session, runtime.crypto, office=office, staff_id=demo_user)
        async with rt.telegram_bot(runtime, rt.random_sandbox_token()) as bot:
            print(
                "\nIntake Bridge demo is running.\n"
                f"  Web phone (chat as a migrant): {sandbox_url}/\n"
                f"  Caseworker console:           {rt.bound_url(sock)}/\n"
                f"  Console login:                {DEMO_USERNAME} / {password}\n"
                "  An outreach officer's account: intake create-user NAME --role outreach --demo"
                " (another terminal, this directory)\n"
                f"  Database:                     {settings.database_url}\n"
                "Press Ctrl-C to stop.\n",
                flush=True,
            )
            await rt.run_together(
                stop,
                lambda stop: rt.run_polling(runtime, bot, stop),
                lambda stop: rt.run_sender(runtime, bot, stop),
                lambda stop: rt.run_console(runtime, stop, bot, sock=sock),
            )
