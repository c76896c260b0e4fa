"""`intake demo`: sandbox, bot, sender and console in one process on the embedded defaults."""

from __future__ import annotations

import asyncio
import secrets
import time

from sqlalchemy import select

from caseworker_console.accounts import create_user, set_password
from intake import runtime as rt
from intake.demo_data import seed_demo
from intake.settings import load_settings
from sandbox.server import SandboxServer
from storage.appointments import ensure_demo_office
from storage.models import StaffUser

DEMO_USERNAME = "demo"


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
    async with SandboxServer(port=sandbox_port, first_user_id=first_user_id) as sandbox:
        settings = load_settings().model_copy(update={"telegram_api_url": sandbox.url})
        async with rt.open_runtime(settings, migrate=True) as runtime:
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
                    f"  Web phone (chat as a migrant): {sandbox.url}/\n"
                    f"  Caseworker console:           http://{settings.console_addr}/\n"
                    f"  Console login:                {DEMO_USERNAME} / {password}\n"
                    "  An outreach officer's account: intake create-user NAME --role outreach"
                    " (another terminal, this directory)\n"
                    f"  Database:                     {settings.database_url}\n"
                    "Press Ctrl-C to stop.\n",
                    flush=True,
                )
                await rt.run_together(
                    stop,
                    lambda stop: rt.run_polling(runtime, bot, stop),
                    lambda stop: rt.run_sender(runtime, bot, stop),
                    lambda stop: rt.run_console(runtime, stop, bot),
                )
