"""Assembles and runs the sandbox: Bot API emulator, control API and web phone on one aiohttp app."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from sandbox import botapi, control
from sandbox.botapi import SPEC, STATE, WEBHOOKS
from sandbox.spec import load_spec
from sandbox.state import FIRST_USER_ID, SandboxState
from sandbox.webhook import WebhookDelivery

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
MAX_REQUEST_BYTES = 51 * 1024 * 1024  # Telegram accepts 50 MB uploads from bots
SHUTDOWN_GRACE_SECONDS = 1.0  # long polls are woken on shutdown; only injected delays linger
_PHONE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:",
    "Cache-Control": "no-store",
}


def create_app(
    *,
    api_spec_path: str | os.PathLike[str] | None = None,
    bot_username: str = "intake_sandbox_bot",
    first_user_id: int = FIRST_USER_ID,
) -> web.Application:
    """The sandbox application; ``api_spec_path`` defaults to :func:`sandbox.spec.default_spec_path`."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[SPEC] = load_spec(api_spec_path)
    app[STATE] = SandboxState(bot_username, first_user_id)
    app[WEBHOOKS] = WebhookDelivery()
    app.on_shutdown.append(_wake_waiters)
    app.on_cleanup.append(_close_webhooks)
    botapi.add_routes(app)
    control.add_routes(app)
    app.router.add_get("/", _phone)
    app.router.add_static("/static/", STATIC_DIR)
    return app


async def _wake_waiters(app: web.Application) -> None:
    # Long polls would otherwise hold the shutdown for their whole timeout.
    app[STATE].closing = True
    app[STATE].wake_all()


async def _close_webhooks(app: web.Application) -> None:
    await app[WEBHOOKS].close()


async def _phone(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "phone.html", headers=_PHONE_HEADERS)


class SandboxServer:
    """The sandbox on ``host``:``port`` (0: a free port) for tests and the demo; see :attr:`url`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **create_app_kw: Any) -> None:
        self.host = host
        self.port = port
        self.url = ""
        self.app: web.Application | None = None
        self._create_app_kw = create_app_kw
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the sandbox server is already running")
        self.app = create_app(**self._create_app_kw)
        # No access log: Bot API paths contain the bot token.
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE_SECONDS)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{host}:{self.port}"

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


async def run_sandbox(
    host: str = "127.0.0.1", port: int = 8081, ready: Callable[[str], None] | None = None, **kw: Any
) -> None:
    """Serve the sandbox until cancelled, then shut it down cleanly. `ready` is given its URL once it
    listens (port 0: the port the system chose)."""
    async with SandboxServer(host, port, **kw) as server:
        logger.info("Telegram sandbox at %s (web phone: %s/)", server.url, server.url)
        if ready is not None:
            ready(server.url)
        await asyncio.Event().wait()
