"""The web phone is served from the sandbox itself and loads nothing from elsewhere."""

from __future__ import annotations

import re

import aiohttp

from sandbox.server import SandboxServer

EXTERNAL = re.compile(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}|@import|\burl\(\s*['\"]?(?:https?:)?//", re.I)


async def test_phone_page_and_assets_are_local(
    http: aiohttp.ClientSession, sandbox_server: SandboxServer
) -> None:
    async with http.get(f"{sandbox_server.url}/") as response:
        assert response.status == 200
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        page = await response.text()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert sorted(assets) == ["/static/phone.css", "/static/phone.js"]

    texts = [page]
    for asset in assets:
        async with http.get(f"{sandbox_server.url}{asset}") as response:
            assert response.status == 200
            texts.append(await response.text())

    for text in texts:
        assert not EXTERNAL.search(text), EXTERNAL.search(text)


async def test_phone_renders_text_safely(http: aiohttp.ClientSession, sandbox_server: SandboxServer) -> None:
    async with http.get(f"{sandbox_server.url}/static/phone.js") as response:
        script = await response.text()

    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert 'dir: "auto"' in script  # right-to-left languages display right
