"""Security headers on every response, no caching of pages, and no inline script or style anywhere."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from bs4 import BeautifulSoup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from storage.models import StaffUser

SignIn = Callable[..., Awaitable[StaffUser]]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def assert_security_headers(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(
    "path", ["/login", "/healthz", "/static/console.css", "/static/print.css", "/missing"]
)
async def test_every_response_carries_the_security_headers(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == (404 if path == "/missing" else 200)
    assert_security_headers(response)


async def test_pages_are_never_stored_and_static_files_are_revalidated(
    client: httpx.AsyncClient, sign_in_as: SignIn
) -> None:
    await sign_in_as("dilara")
    for path in ("/cases", "/", "/login", "/missing"):
        response = await client.get(path)
        assert_security_headers(response)
        assert response.headers["cache-control"] == "no-store", path
    css = await client.get("/static/console.css")
    assert css.headers["cache-control"] == "no-cache"
    assert css.headers["content-type"].startswith("text/css")


async def test_pages_have_no_inline_script_or_style(client: httpx.AsyncClient, sign_in_as: SignIn) -> None:
    pages = [await client.get("/login"), await client.get("/missing")]
    await sign_in_as("elvin")
    pages.append(await client.get("/cases"))
    for response in pages:
        page = BeautifulSoup(response.text, "lxml")
        assert [script for script in page.select("script") if not script.get("src")] == []
        assert page.select("style, [style]") == []
        assert not [tag for tag in page.find_all(True) if any(name.startswith("on") for name in tag.attrs)]
        for link in page.select("link[rel=stylesheet]"):
            assert str(link["href"]).startswith("/static/")


async def test_a_crash_shows_a_plain_error_page_that_keeps_the_headers(app: Starlette) -> None:
    async def crash(request: Request) -> Response:
        raise RuntimeError("boom")

    app.router.routes.append(Route("/crash", crash))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as client:
        response = await client.get("/crash")
    assert response.status_code == 500
    assert_security_headers(response)
    assert response.headers["cache-control"] == "no-store"
    assert BeautifulSoup(response.text, "lxml").select_one("h1").get_text() == "Something went wrong"
    assert "boom" not in response.text


async def test_wrong_method_and_oversized_bodies_get_error_pages(client: httpx.AsyncClient) -> None:
    wrong_method = await client.get("/logout")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "POST"
    too_big = await client.post("/login", content=b"x" * (300 * 1024))
    assert too_big.status_code == 413
    assert_security_headers(too_big)
