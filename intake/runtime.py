"""Wiring of the processes: database, keys, bot, sender, console and sandbox, run until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import gc
import logging
import secrets
import signal
import socket
import zoneinfo
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
import uvicorn
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.utils.token import TokenValidationError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.conversation import BotConfig
from bot.dialogs.reminders import reminder_message
from bot.factory import create_bot, create_dispatcher, set_commands
from bot.webhook import InboundConsumer, create_webhook_app, serve_app, webhook_paths
from intake import speedups
from intake.settings import Settings, SettingsError
from intake.startup import (
    bind_error,
    check_database,
    check_telegram,
    erased_again,
    listening,
    open_ledger,
    reapply_erasures,
)
from outreach.campaign_worker import CampaignWorker
from outreach.heartbeat import beat_while_running
from outreach.leader import keep_running, lead_then_run
from outreach.reminders import Scheduler
from outreach.retention import RetentionWorker
from outreach.sender import PER_CHAT_INTERVAL, Sender
from outreach.staff_alerts import Reads, Render, StaffAlerts
from programme.staff_alerts import Kind
from programme.staff_alerts import render as staff_alert_text
from storage.crypto import Crypto
from storage.engine import create_engine, create_sessionmaker, is_sqlite
from storage.erasure_ledger import ErasureLedger, ledger_info
from storage.migrate import upgrade
from storage.outbox import recover_orphans
from wording.languages import create_i18n

if TYPE_CHECKING:
    from aiohttp import web
    from starlette.applications import Starlette

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    crypto: Crypto
    # The bot's own engine (see open_runtime); a runtime made without one uses `sessionmaker`.
    bot_sessionmaker: async_sessionmaker[AsyncSession] | None = None
    # Where erasures are written (both sessionmakers' sessions write to it).
    ledger: ErasureLedger | None = None

    def for_bot(self) -> async_sessionmaker[AsyncSession]:
        return self.bot_sessionmaker or self.sessionmaker


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings, *, demo: bool = False, reapply: bool = True
) -> AsyncIterator[Runtime]:
    """The database and keys, checked (intake.startup): the demo's (`demo`) is migrated first and
    may hold made-up data, a real installation's may not. Then the erasure ledger: whoever it names
    and the database holds (a restored backup) is erased again, said in one sentence on stdout
    (`reapply`; `intake reapply-erasures` does it itself).

    The bot gets an engine of its own: on SQLite, with the speed patches (intake.speedups), its
    statements (all short) run on the event loop's thread while the console's and the sender's (some
    long) stay on the driver's thread, all taking turns on the process's write lock on the file; on
    PostgreSQL its pool does not ping connections before use, a round trip of the six an update
    makes: the bot applies an update again when its connection was lost (bot.middlewares)."""
    crypto = Crypto(settings.keys())
    engine = create_engine(settings.database_url)
    if is_sqlite(settings.database_url):
        bot_engine = create_engine(settings.database_url, inline=True)
    else:
        bot_engine = create_engine(settings.database_url, pool_pre_ping=False)
    try:
        if demo:
            await upgrade(engine)
        await check_database(engine, crypto, refuse_demo=not demo)
        ledger = await open_ledger(engine, ErasureLedger(settings.erasure_ledger_path()))
        info = ledger_info(ledger)
        runtime = Runtime(
            settings,
            engine,
            create_sessionmaker(engine, info=info),
            crypto,
            create_sessionmaker(bot_engine, info=info),
            ledger,
        )
        if reapply and (erased := await reapply_erasures(runtime.sessionmaker, crypto, [ledger])):
            print(erased_again(erased), flush=True)
        yield runtime
    finally:
        await engine.dispose()
        await bot_engine.dispose()


def settle_heap() -> None:
    """Move what start-up made (modules, mappers, models, catalogs) out of the garbage collector's way.

    The collector otherwise walks those hundreds of thousands of long-lived objects again and again
    while handling updates; frozen, it looks only at what each update makes (`gc.freeze`).
    """
    gc.collect()
    gc.freeze()


def stop_on_signals(stop: asyncio.Event) -> None:
    """Ctrl-C and SIGTERM end the run cleanly instead of interrupting it mid-write."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)


def random_sandbox_token() -> str:
    return f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(27)}"


def bot_config(settings: Settings) -> BotConfig:
    return BotConfig(
        data_controller=settings.data_controller,
        data_contact=settings.data_contact,
        timezone=settings.timezone,
        reminders=settings.reminder_policy(),
        retention=settings.retention_policy(),
        flood=settings.flood(),
    )


async def run_polling(runtime: Runtime, bot: Bot, stop: asyncio.Event) -> None:
    await poll(bot, runtime.for_bot(), runtime.crypto, stop, bot_config(runtime.settings))


async def poll(
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    stop: asyncio.Event,
    config: BotConfig | None = None,
) -> None:
    """Long-poll the Bot API and handle updates until `stop` is set."""
    i18n = create_i18n()
    dispatcher = create_dispatcher(sessionmaker=sessionmaker, crypto=crypto, i18n=i18n, config=config)
    speedups.tune_dispatcher(dispatcher)
    await bot.delete_webhook(drop_pending_updates=False)
    await set_commands(bot, i18n)
    settle_heap()
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    await stop.wait()
    try:
        await dispatcher.stop_polling()
    except RuntimeError:  # stopped before polling had begun
        polling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await polling


async def run_sender(
    runtime: Runtime, bot: Bot, stop: asyncio.Event, *, lease: dt.timedelta = dt.timedelta(seconds=60)
) -> None:
    """The outbox sender, the reminder scheduler, the campaign loop, the daily retention purge and the
    staff's alerts on their phones; on
    PostgreSQL only while this process is the elected one (see leader), so exactly one of each runs."""
    sender = Sender(
        bot,
        runtime.sessionmaker,
        runtime.crypto,
        rate=runtime.settings.send_rate,
        lease=lease,
        zone=zoneinfo.ZoneInfo(runtime.settings.timezone),
        reminder_quiet_hours=runtime.settings.reminder_policy().quiet_hours,
    )
    scheduler = Scheduler(
        runtime.sessionmaker,
        runtime.crypto,
        functools.partial(reminder_message, create_i18n()),
        default_timezone=runtime.settings.timezone,
        quiet_hours=runtime.settings.reminder_policy().quiet_hours,
    )
    campaigns = CampaignWorker(
        runtime.sessionmaker,
        runtime.crypto,
        zone=zoneinfo.ZoneInfo(runtime.settings.timezone),
        rate=runtime.settings.send_rate,
        bot_username=lambda: bot_username(runtime.settings, bot),
        approval_below=runtime.settings.campaign_approval_below,
    )
    # On the bot's engine: on SQLite the purge's statements (short, by index) then run on the event
    # loop, each batch at once, instead of holding the write lock while it waits for the loop to
    # come back to it after each statement (measured with bench.purge).
    purge = RetentionWorker(runtime.for_bot(), runtime.crypto, policy=runtime.settings.retention_policy())
    alerts = StaffAlerts(
        runtime.sessionmaker,
        runtime.crypto,
        staff_alert_texts(runtime.settings),
        policy=runtime.settings.alert_policy(),
        zone=zoneinfo.ZoneInfo(runtime.settings.timezone),
        reads=feedback_readers(),
    )

    async def work(stop: asyncio.Event) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(keep_running("the sender", sender.run, stop))
            group.create_task(keep_running("reminders", scheduler.run, stop))
            group.create_task(keep_running("campaigns", campaigns.run, stop))
            group.create_task(purge.run(stop))
            group.create_task(beat_while_running(runtime.sessionmaker, stop))
            group.create_task(alerts.run(stop))

    async def take_over() -> None:
        # What the last sender sent in its last second counts against Telegram's limit too.
        sender.hold(PER_CHAT_INTERVAL)
        # Elected on PostgreSQL, or on SQLite the one process that may send: no other sender runs,
        # and this one has claimed nothing yet, so what is held was a dead predecessor's. Settled
        # now rather than when its lease runs out: a campaign goes on within seconds of a restart.
        async with runtime.sessionmaker() as session, session.begin():
            uncertain, pending = await recover_orphans(session)
        if uncertain or pending:
            log.info("took over %d unsent and %d uncertain outbox rows", pending, uncertain)

    # Without it, the collector's full passes over start-up's objects stop the event loop for about a
    # tenth of a second every few seconds while sending: sends held up, then sent together.
    settle_heap()
    await lead_then_run(runtime.engine, work, stop, on_lead=take_over)


def staff_alert_texts(settings: Settings) -> Render:
    """Staff alerts in each reader's console language: their texts are the console's (its catalog,
    en/az/ru), with links to INTAKE_CONSOLE_URL (programme.staff_alerts)."""
    # Only the console's catalogs, not the console (PDF, images, fonts).
    from caseworker_console.i18n import translations

    policy = settings.alert_policy()

    def render(kind: Kind, code: str, language: str) -> str:
        return staff_alert_text(
            kind, code=code, base_url=settings.console_link, translate=translations(language), policy=policy
        )

    return render


def feedback_readers() -> Reads:
    """Who may read which feedback, by the console's own rule: the feedback page's readers are the
    ones its overdue alerts go to."""
    # Only the console's rules, not the console.
    from caseworker_console.permissions import feedback_routings

    return feedback_routings


async def bot_username(settings: Settings, bot: Bot | None) -> str | None:
    """The bot's @username for the console's deep links: the setting, else getMe when a bot is at hand."""
    if settings.bot_username or bot is None:
        return settings.bot_username
    try:
        return (await bot.me()).username
    except (TelegramAPIError, aiohttp.ClientError, TimeoutError) as error:
        log.warning("getMe failed (%s): the console shows no deep links", type(error).__name__)
        return None


def console_app(runtime: Runtime, *, bot_username: str | None, bot: Bot | None = None) -> Starlette:
    """The console as the settings describe it: behind HTTPS (INTAKE_CONSOLE_URL) its cookies are
    Secure and it sends HSTS; listening beyond loopback without that, it says so once."""
    # Imported here: a bot or a worker process need not load the console (PDF, images, fonts).
    from caseworker_console.app import create_app

    settings = runtime.settings
    if settings.console_exposed_without_https():
        log.warning(
            "The console listens on %s without INTAKE_CONSOLE_URL: put it behind HTTPS and set "
            "INTAKE_CONSOLE_URL to its https:// address, or sign-ins cross the network in clear.",
            settings.console_addr,
        )
    return create_app(
        sessionmaker=runtime.sessionmaker,
        secure_cookies=settings.console_over_https,
        timezone=settings.timezone,
        crypto=runtime.crypto,
        data_controller=settings.data_controller,
        data_contact=settings.data_contact,
        retention=settings.retention_policy(),
        bot_username=bot_username,
        campaign_approval_below=settings.campaign_approval_below,
        webhook_info=None if bot is None else bot.get_webhook_info,
        alert_policy=settings.alert_policy(),
    )


def console_socket(settings: Settings) -> contextlib.AbstractContextManager[socket.socket]:
    """The console's listening socket, bound before anything else starts: a port in use is then
    one sentence before the bot or the sender has done anything."""
    return listening(settings.console_host, settings.console_port, "INTAKE_CONSOLE_ADDR")


def bound_url(sock: socket.socket) -> str:
    """Where a listening socket is (with INTAKE_CONSOLE_ADDR's port 0: the free one it got)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def runner_url(runner: web.AppRunner) -> str:
    """Where a started server listens (with INTAKE_WEBHOOK_ADDR's port 0: the free one it got)."""
    host, port = runner.addresses[0][:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def run_console(
    runtime: Runtime, stop: asyncio.Event, bot: Bot | None = None, *, sock: socket.socket
) -> None:
    app = console_app(runtime, bot_username=await bot_username(runtime.settings, bot), bot=bot)
    config = uvicorn.Config(
        app,
        host=runtime.settings.console_host,
        port=runtime.settings.console_port,
        log_config=None,
        access_log=False,
        lifespan="off",
        # The sign-in throttle counts the address a trusted proxy forwarded, never one a client claims.
        proxy_headers=True,
        forwarded_allow_ips=runtime.settings.trusted_proxies,
    )
    server = uvicorn.Server(config)
    log.info("console listening on %s", bound_url(sock))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    await stop.wait()
    server.should_exit = True
    await serving


async def run_together(stop: asyncio.Event, *parts: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run every part until `stop` is set or one of them fails; then stop them all."""

    async def watched(part: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        try:
            await part(stop)
        finally:
            stop.set()

    async with asyncio.TaskGroup() as group:
        for part in parts:
            group.create_task(watched(part))


@contextlib.asynccontextmanager
async def telegram_bot(runtime: Runtime, token: str, *, check: bool = True) -> AsyncIterator[Bot]:
    """A bot on the token; `check`: getMe first, so a rejected token or no answer is one sentence."""
    try:
        bot = create_bot(token, runtime.settings.telegram_api_url)
    except TokenValidationError:
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN is not a bot token (digits, a colon, then letters): "
            "copy it again from @BotFather."
        ) from None
    try:
        if check:
            await check_telegram(bot, runtime.settings.telegram_api_url)
        yield bot
    finally:
        await bot.session.close()


async def run_webhook(
    runtime: Runtime,
    bot: Bot,
    stop: asyncio.Event,
    *,
    concurrency: int = 8,
    sock: socket.socket | None = None,
) -> None:
    """Webhook mode until `stop` is set: receive and store updates, handle stored ones.

    The endpoint listens (on INTAKE_WEBHOOK_ADDR, or on `sock`, a listening socket the caller
    keeps) before setWebhook is called, so Telegram's first delivery finds it; the webhook is left
    in place on exit because other replicas keep serving it.
    """
    settings = runtime.settings
    assert settings.webhook_url is not None
    i18n = create_i18n()
    sessionmaker = runtime.for_bot()
    dispatcher = create_dispatcher(
        sessionmaker=sessionmaker, crypto=runtime.crypto, i18n=i18n, config=bot_config(settings)
    )
    speedups.tune_dispatcher(dispatcher)
    consumer = InboundConsumer(dispatcher, bot, sessionmaker, runtime.crypto, concurrency=concurrency)
    app = create_webhook_app(
        bot_id=bot.id,
        secret=settings.webhook_secret_value(),
        paths=webhook_paths(settings.webhook_url),
        sessionmaker=sessionmaker,
        crypto=runtime.crypto,
        consumer=consumer,
    )
    try:
        runner = await serve_app(app, settings.webhook_host, settings.webhook_port, sock=sock)
    except OSError as error:
        raise bind_error(error, settings.webhook_host, settings.webhook_port, "INTAKE_WEBHOOK_ADDR") from None
    try:
        await set_commands(bot, i18n)
        try:
            await bot.set_webhook(
                settings.webhook_url,
                secret_token=settings.webhook_secret_value(),
                allowed_updates=dispatcher.resolve_used_update_types(),
                drop_pending_updates=False,
            )
        except TelegramAPIError as error:
            raise SettingsError(f"Telegram refused TELEGRAM_WEBHOOK_URL: {error.message}") from None
        log.info("webhook mode: listening on %s", runner_url(runner))
        settle_heap()
        await consumer.run(stop)
        log.info("webhook mode: stopped; %s", ", ".join(f"{name} {n}" for name, n in consumer.stats.items()))
    finally:
        await runner.cleanup()


async def serve_webhook(settings: Settings, token: str) -> None:
    """`intake bot` in webhook mode: one replica, until SIGTERM or Ctrl-C."""
    stop = asyncio.Event()
    stop_on_signals(stop)
    async with open_runtime(settings) as runtime, telegram_bot(runtime, token) as bot:
        await run_webhook(runtime, bot, stop)
