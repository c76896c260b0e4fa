"""`intake demo` as a newcomer runs it: one process, a screening in the web phone's sandbox, the
case in the console, and Ctrl-C stopping everything cleanly."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup

from sandbox.client import SandboxClient
from tests.bot.test_screening import Translate, answer_screening, choose_language

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


async def read_banner(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    lines = []
    async with asyncio.timeout(60):
        while not any("Press Ctrl-C" in line for line in lines):
            line = (await process.stdout.readline()).decode()
            assert line, "demo exited early:\n" + "".join(lines)
            lines.append(line)
    return "".join(lines)


def banner_urls(banner: str) -> tuple[str, str]:
    """The sandbox's and the console's addresses the demo's banner gives (the ports they bound)."""
    sandbox = re.search(r"Web phone \(chat as a migrant\): (http://\S+)/\n", banner)
    console = re.search(r"Caseworker console: +(http://\S+)/\n", banner)
    assert sandbox is not None and console is not None, banner
    return sandbox.group(1), console.group(1)


async def sandbox_bots(sandbox_url: str) -> list[dict]:
    """The bots that have called the sandbox: the demo's bot, once it has started polling."""
    async with httpx.AsyncClient() as http, asyncio.timeout(30):
        while not (bots := (await http.get(f"{sandbox_url}/sandbox/api/bots")).json()):  # noqa: ASYNC110 - polling another process
            await asyncio.sleep(0.1)
    return bots


async def console_login(client: httpx.AsyncClient, password: str) -> None:
    page = await client.get("/login")
    token = BeautifulSoup(page.text, "lxml").select_one("input[name=csrf_token]")["value"]
    answer = await client.post("/login", data={"username": "demo", "password": password, "csrf_token": token})
    assert answer.status_code in (200, 303), answer.text


async def test_the_demo_runs_everything_and_stops_cleanly(tmp_path: Path, t: Translate) -> None:
    # Both on port 0: the demo binds free ports itself and its banner says which.
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TELEGRAM_", "DATABASE_"))
    }
    environment |= {"INTAKE_CONSOLE_ADDR": "127.0.0.1:0", "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "intake",
        "demo",
        "--sandbox-port",
        "0",
        cwd=tmp_path,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        banner = await read_banner(process)
        password = re.search(r"demo / (\S+)", banner).group(1)
        sandbox_url, console_url = banner_urls(banner)
        bots = await sandbox_bots(sandbox_url)
        async with SandboxClient(sandbox_url, bots[0]["id"]) as phone:
            for locale, label, name in [("fa", "فارسی / دری", "Dariush"), ("en", "English", "Emma")]:
                user = await phone.create_user(language_code=locale)
                await choose_language(phone, user, label)
                await answer_screening(phone, t, user, locale, name)
                await phone.wait_for_bot_message(user, contains="IP-")
        async with httpx.AsyncClient(base_url=console_url, follow_redirects=True) as console:
            await console_login(console, password)
            cases = BeautifulSoup((await console.get("/cases")).text, "lxml")
            figures = BeautifulSoup((await console.get("/figures")).text, "lxml")
        codes = [cell.get_text(strip=True) for cell in cases.select("tbody tr td:first-child, tbody tr th")]
        # The two screened just now; the made-up demo cases have codes IP-YYYY-9NNNNN.
        assert len([code for code in codes if re.fullmatch(r"IP-\d{4}-0\d{5}", code)]) == 2
        screened = figures.select_one("table.funnel tr[data-step=screened] td.count")
        assert screened is not None and int(screened.get_text()) > 100
        # Apart from a real installation's ./var/intake.db: its own file and key under ./var/demo.
        assert (tmp_path / "var" / "demo" / "intake.db").exists()
        assert not (tmp_path / "var" / "intake.db").exists()
        assert (tmp_path / "var" / "demo" / "data-keys").stat().st_mode & 0o077 == 0
    finally:
        process.send_signal(signal.SIGINT)
        output = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, output
    assert b"Traceback" not in output[0]
