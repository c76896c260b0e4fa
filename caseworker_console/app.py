"""Builds the console's Starlette app: middleware, routes, static files and error pages."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiogram.types import WebhookInfo
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from caseworker_console.auth import CsrfFailure, SessionBackend
from caseworker_console.config import ConsoleConfig, SessionPolicy
from caseworker_console.database import DatabaseSessionMiddleware
from caseworker_console.routes import all_routes
from caseworker_console.routing import CaseErased
from caseworker_console.security import SecurityHeadersMiddleware, headers_for
from caseworker_console.templating import Pages, pages
from caseworker_console.throttle import SignInThrottle
from caseworker_console.views import erased_view
from programme.retention import DEFAULT_RETENTION, RetentionPolicy
from programme.staff_alerts import AlertPolicy
from storage.crypto import Crypto
from storage.models import utcnow

STATIC_DIR = Path(__file__).parent / "static"
# Forms are short text; anything bigger is refused before it is parsed.
MAX_BODY_BYTES = 256 * 1024

logger = logging.getLogger(__name__)


async def http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):
        raise exc
    kind = "csrf" if isinstance(exc, CsrfFailure) else str(exc.status_code)
    context: dict[str, object] = {"kind": kind}
    if isinstance(exc, CaseErased):
        context.update(kind="erased", erased=erased_view(request, exc.tombstone))
    response = pages(request).render(request, "error.html", context, status_code=exc.status_code)
    # Keep what the exception says about itself, such as Allow on a 405.
    response.headers.update(exc.headers or {})
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    # This runs outside every other middleware, so it adds the security headers itself.
    headers = headers_for(request.url.path, https=request.app.state.config.sessions.secure_cookies)
    try:
        response = pages(request).render(request, "error.html", {"kind": "500"}, status_code=500)
    except Exception:
        logger.exception("the error page itself failed to render")
        response = PlainTextResponse("Internal Server Error", status_code=500)
    response.headers.update(headers)
    return response


def create_app(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    secure_cookies: bool = False,
    session_idle_minutes: int = 30,
    session_absolute_hours: int = 12,
    timezone: str = "Asia/Baku",
    crypto: Crypto | None = None,
    data_controller: str = "",
    data_contact: str = "",
    retention: RetentionPolicy = DEFAULT_RETENTION,
    bot_username: str | None = None,
    campaign_approval_below: int = 10,
    clock: Callable[[], dt.datetime] = utcnow,
    webhook_info: Callable[[], Awaitable[WebhookInfo]] | None = None,
    alert_policy: AlertPolicy | None = None,
) -> Starlette:
    """The console app. `secure_cookies` must be on whenever it is served over HTTPS; it also sends
    Strict-Transport-Security.

    `crypto` opens sealed personal data (identity, answers). Without it the console still signs
    people in and lists cases, and every page that must decrypt answers 503. `data_controller` is
    the organisation the consent text names (the bot's INTAKE_DATA_CONTROLLER).
    """
    settings = ConsoleConfig(
        sessions=SessionPolicy(
            idle=dt.timedelta(minutes=session_idle_minutes),
            absolute=dt.timedelta(hours=session_absolute_hours),
            secure_cookies=secure_cookies,
        ),
        timezone=zoneinfo.ZoneInfo(timezone),
        data_controller=data_controller,
        data_contact=data_contact,
        retention=retention,
        bot_username=bot_username,
        campaign_approval_below=campaign_approval_below,
        clock=clock,
        webhook_info=webhook_info,
        alert_policy=alert_policy or AlertPolicy(),
    )
    app = Starlette(
        routes=[*all_routes(), Mount("/static", StaticFiles(directory=STATIC_DIR), name="static")],
        middleware=[
            # Outermost first: headers on every answer, then the session the others use.
            Middleware(SecurityHeadersMiddleware, https=secure_cookies),
            # Here rather than Starlette(max_body_size=…), which would sit outside the headers.
            Middleware(RequestBodyLimitMiddleware, max_body_size=MAX_BODY_BYTES),
            Middleware(DatabaseSessionMiddleware, sessionmaker=sessionmaker),
            Middleware(AuthenticationMiddleware, backend=SessionBackend()),
        ],
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.config = settings
    app.state.pages = Pages()
    app.state.crypto = crypto
    app.state.throttle = SignInThrottle()
    return app
