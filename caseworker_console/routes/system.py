"""The front door and the health check."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from caseworker_console.auth import login_required


@login_required()
async def home(request: Request) -> Response:
    return RedirectResponse(request.url_for("cases").path, status_code=303)


async def healthz(request: Request) -> Response:
    # Liveness only: it must answer even when the database is down, so nothing restarts in a loop.
    return PlainTextResponse("ok")


routes = [
    Route("/", home, methods=["GET"], name="home"),
    Route("/healthz", healthz, methods=["GET"], name="healthz"),
]
