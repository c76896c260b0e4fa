"""The `intake` command line: demo, serve, bot, console, worker, migrate, create-user, rotate-keys…"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from intake.logs import configure_logging
from intake.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from intake.runtime import Runtime


async def _serve_until_stopped(
    settings: Settings, *, with_polling: bool, with_sender: bool, with_console: bool, token: str | None
) -> None:
    from intake import runtime as rt

    stop = asyncio.Event()
    rt.stop_on_signals(stop)
    with contextlib.ExitStack() as sockets:
        sock = sockets.enter_context(rt.console_socket(settings)) if with_console else None
        async with rt.open_runtime(settings) as runtime:
            await _run_parts(
                runtime, stop, sock, with_polling=with_polling, with_sender=with_sender, token=token
            )


async def _run_parts(
    runtime: Runtime,
    stop: asyncio.Event,
    sock: socket.socket | None,
    *,
    with_polling: bool,
    with_sender: bool,
    token: str | None,
) -> None:
    from intake import runtime as rt

    parts: list[Callable[[asyncio.Event], Awaitable[None]]] = []
    if token is None:
        if sock is not None:
            parts.append(lambda stop: rt.run_console(runtime, stop, sock=sock))
        await rt.run_together(stop, *parts)
        return
    # A console alone asks Telegram only for its pages: Telegram out of reach does not stop it.
    async with rt.telegram_bot(runtime, token, check=with_polling or with_sender) as bot:
        if sock is not None:
            parts.append(lambda stop: rt.run_console(runtime, stop, bot, sock=sock))
        if with_polling:
            parts.append(lambda stop: rt.run_polling(runtime, bot, stop))
        if with_sender:
            parts.append(lambda stop: rt.run_sender(runtime, bot, stop))
        await rt.run_together(stop, *parts)


# ── commands ────────────────────────────────────────────────────────────────────────────────────


def cmd_serve(args: argparse.Namespace) -> None:
    settings = load_settings()
    token = settings.token()
    settings.keys()
    asyncio.run(
        _serve_until_stopped(settings, with_polling=True, with_sender=True, with_console=True, token=token)
    )


def cmd_bot(args: argparse.Namespace) -> None:
    settings = load_settings()
    if settings.webhook_url:
        settings.webhook_secret_value()  # webhook mode never starts without its secret
    token = settings.token()
    settings.keys()
    if settings.webhook_url:
        from intake.runtime import serve_webhook

        asyncio.run(serve_webhook(settings, token))
        return
    asyncio.run(
        _serve_until_stopped(settings, with_polling=True, with_sender=False, with_console=False, token=token)
    )


def cmd_console(args: argparse.Namespace) -> None:
    settings = load_settings()
    settings.keys()
    # The token is optional here: with it, the operations page shows Telegram's webhook status.
    given = settings.telegram_bot_token is not None and settings.telegram_bot_token.get_secret_value().strip()
    token = settings.token() if given else None
    asyncio.run(
        _serve_until_stopped(settings, with_polling=False, with_sender=False, with_console=True, token=token)
    )


def cmd_worker(args: argparse.Namespace) -> None:
    settings = load_settings()
    token = settings.token()
    settings.keys()
    asyncio.run(
        _serve_until_stopped(settings, with_polling=False, with_sender=True, with_console=False, token=token)
    )


def cmd_migrate(args: argparse.Namespace) -> None:
    from intake.startup import reachable
    from storage.engine import create_engine
    from storage.migrate import upgrade

    settings = load_settings()

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await reachable(engine)
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    print("The database is at the newest schema.")


def cmd_create_user(args: argparse.Namespace) -> None:
    from caseworker_console.accounts import AccountError, create_user
    from intake.demo import DEMO_DATABASE_URL
    from intake.startup import migrated
    from storage.engine import create_engine, create_sessionmaker

    database_url = DEMO_DATABASE_URL if args.demo else load_settings().database_url
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")

    async def run() -> None:
        # An account holds nothing sealed: the database is enough, so it works beside `intake demo`
        # (`--demo`: its database under ./var/demo) without INTAKE_DATA_KEYS, as `migrate` does.
        engine = create_engine(database_url)
        try:
            await migrated(engine)
            async with create_sessionmaker(engine)() as session, session.begin():
                await create_user(
                    session,
                    username=args.username,
                    password=password,
                    role=args.role,
                    display_name=args.display_name or args.username,
                    language=args.language,
                )
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except AccountError as error:
        raise SettingsError(str(error)) from None
    print(f"Created {args.role} account {args.username!r}.")


def cmd_rotate_keys(args: argparse.Namespace) -> None:
    from storage.crypto import generate_key

    if args.new_key:
        print(generate_key())
        return
    from intake.runtime import open_runtime
    from storage.rotation import rotate_keys

    settings = load_settings()

    async def run() -> None:
        async with open_runtime(settings) as runtime:
            report = await rotate_keys(runtime.sessionmaker, runtime.crypto)
        for table, seen in report.rows_seen.items():
            print(f"{table}: {report.rows_rewritten[table]} of {seen} rows re-encrypted")
        index = report.city_index
        print(f"city index: {index.rewritten} of {index.seen} people's lookup hashes recomputed")

    asyncio.run(run())
    print("Every value is now under the first key in INTAKE_DATA_KEYS; older keys may be removed.")


def cmd_reapply_erasures(args: argparse.Namespace) -> None:
    from pathlib import Path

    from intake.runtime import open_runtime
    from intake.startup import erased_again, reapply_erasures
    from storage.erasure_ledger import ErasureLedger

    settings = load_settings()

    async def run() -> int:
        async with open_runtime(settings, reapply=False) as runtime:
            assert runtime.ledger is not None
            ledgers = [runtime.ledger, *(ErasureLedger(Path(path)) for path in args.ledger)]
            return await reapply_erasures(runtime.sessionmaker, runtime.crypto, ledgers)

    print(erased_again(asyncio.run(run())))


def cmd_sandbox(args: argparse.Namespace) -> None:
    from sandbox.server import run_sandbox

    configure_logging()

    def ready(url: str) -> None:
        # Said once it listens, with the port it got (--port 0: a free one the system chose).
        print(f"Telegram sandbox on {url} (web phone at /). Ctrl-C stops it.", flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_sandbox(args.host, args.port, ready))


def cmd_demo(args: argparse.Namespace) -> None:
    from intake.demo import run_demo

    asyncio.run(run_demo(sandbox_port=args.sandbox_port))


# ── parser ──────────────────────────────────────────────────────────────────────────────────────


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="intake",
        description="Intake Bridge: Telegram intake and case management for integration programmes.",
        epilog="Settings come from the environment; see README.md.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, handler: Callable[[argparse.Namespace], None], help_text: str
    ) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        return command

    demo = add("demo", cmd_demo, "Run everything in one process on the embedded defaults, with the sandbox.")
    demo.add_argument("--sandbox-port", type=int, default=8081, help="port of the Telegram sandbox (8081)")
    add("serve", cmd_serve, "Run the bot, the sender and the console against the real Telegram Bot API.")
    add("bot", cmd_bot, "Run only the bot: long polling, or webhook mode when TELEGRAM_WEBHOOK_URL is set.")
    add("console", cmd_console, "Run only the caseworker console.")
    add("worker", cmd_worker, "Run only the outbox sender and the reminder scheduler.")
    add("migrate", cmd_migrate, "Upgrade the database schema to the newest version.")
    create_user = add("create-user", cmd_create_user, "Create a console account.")
    create_user.add_argument("username")
    create_user.add_argument(
        "--role", choices=["caseworker", "supervisor", "outreach", "admin"], default="caseworker"
    )
    create_user.add_argument("--display-name", default="")
    create_user.add_argument("--language", choices=["en", "az", "ru"], default="en")
    create_user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create_user.add_argument(
        "--demo", action="store_true", help="in the demo's database (./var/demo), not DATABASE_URL's"
    )
    rotate = add(
        "rotate-keys",
        cmd_rotate_keys,
        "Re-encrypt all personal data under the first key in INTAKE_DATA_KEYS.",
    )
    rotate.add_argument("--new-key", action="store_true", help="print a new random key and exit")
    reapply = add(
        "reapply-erasures",
        cmd_reapply_erasures,
        "Erase again everyone the erasure ledger names who is in the database (after a restore).",
    )
    reapply.add_argument(
        "--ledger",
        action="append",
        default=[],
        metavar="FILE",
        help="another machine's erasure ledger to read too (repeatable)",
    )
    sandbox = add("sandbox", cmd_sandbox, "Run the local Telegram Bot API sandbox with its web phone.")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8081, help="port (8081; 0: a free one, printed)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        args.handler(args)
    except SettingsError as error:
        print(f"intake: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
