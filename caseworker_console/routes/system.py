"""The front door, a start page for roles without case work, and the health check."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from caseworker_console.permissions import Permission, allows
from caseworker_console.routing import page, signed_in_user
from caseworker_console.templating import pages


async def home(request: Request) -> Response:
    """Each role lands where its work is; a role with no console page yet gets a short note."""
    user = signed_in_user(request)
    if allows(user.role, Permission.CASES_LIST):
        return RedirectResponse(request.url_for("cases").path, status_code=303)
    if allows(user.role, Permission.FIGURES):
        return RedirectResponse(request.url_for("figures").path, status_code=303)
    if allows(user.role, Permission.ACCOUNTS):
        return RedirectResponse(request.url_for("accounts").path, status_code=303)
    return pages(request).render(request, "start.html")


async def healthz(request: Request) -> Response:
    # Liveness only: it must answer even when the database is down, so nothing restarts in a loop.
    return PlainTextResponse("ok")


routes = [
    page("/", home, name="home", permission=Permission.SIGNED_IN),
    page("/healthz", healthz, name="healthz", permission=None),
]
