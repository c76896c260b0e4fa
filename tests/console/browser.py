"""What the console's browser tests share: Debian's Chromium through Playwright's async API, the
console served under uvicorn on the test's own loop, a page that records script and CSP errors, and
signing in.

The async Playwright API is used because the sync one switches greenlets on the main thread, which
upsets CPython 3.11's recursion counter for the rest of the test session.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

from tests.console.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
# CI sets this: there a missing browser is a failure, not a skip.
REQUIRED = os.environ.get("INTAKE_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

playwright_api = (
    pytest.importorskip("playwright.async_api")
    if not REQUIRED
    else importlib.import_module("playwright.async_api")
)
# Screenshots of each step, per database backend (ignored by git).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
START_TIMEOUT = 10.0

# The marks of every browser test module: slow, and skipped without Chromium unless CI requires it.
BROWSER_TEST = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists() and not REQUIRED, reason="Debian's chromium is not installed"),
]


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """The console app under uvicorn on 127.0.0.1, on this test's event loop; yields its address."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    serve = asyncio.create_task(server.serve())
    async with asyncio.timeout(START_TIMEOUT):
        while not server.started:
            assert not serve.done(), "the console did not start"
            await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(serve, START_TIMEOUT)


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """Headless Chromium, closed afterwards."""
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def open_page(browser: Any, problems: list[str], *, patience: float = 10.0, **context: Any) -> Any:
    """A desktop-sized English page whose steps wait up to `patience` seconds; a CSP violation or a
    script error lands in `problems`."""
    browser_context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", **context
    )
    page = await browser_context.new_page()
    page.set_default_timeout(patience * 1000)
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return page


async def sign_in(page: Any, console_url: str, username: str, password: str = PASSWORD) -> None:
    """Through the login form; returns once the console has let the person in."""
    await page.goto(f"{console_url}/login")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(lambda url: "/login" not in url)
