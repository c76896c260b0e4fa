"""Signing in and out."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console import accounts, i18n
from caseworker_console.auth import (
    ConsoleUser,
    clear_session_cookie,
    end_session,
    login_csrf_protected,
    login_csrf_token,
    safe_next,
    set_login_csrf_cookie,
    set_session_cookie,
    start_session,
)
from caseworker_console.config import config
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routing import action, page, signed_in_user
from caseworker_console.templating import pages
from caseworker_console.throttle import SignInThrottle
from programme.text import N_
from storage.queries import record_audit

TOO_MANY = N_("Too many failed sign-ins from this network. Try again in 15 minutes.")
BUSY = N_("The console is busy checking other sign-ins. Try again in a minute.")


def _login_query(request: Request) -> dict[str, str]:
    """The validated ?lang= and ?next= that the sign-in page keeps across its own links and form."""
    query: dict[str, str] = {}
    lang = i18n.supported(request.query_params.get("lang"))
    if lang:
        query["lang"] = lang
    next_path = safe_next(request.query_params.get("next"))
    if next_path:
        query["next"] = next_path
    return query


def _login_url(request: Request, **changes: str) -> str:
    query = {**_login_query(request), **changes}
    path = request.url_for("login").path
    return f"{path}?{urlencode(query)}" if query else path


def _login_page(
    request: Request, *, failed: bool, username: str = "", status_code: int = 200, refusal: str | None = None
) -> Response:
    policy = config(request).sessions
    token = login_csrf_token(request, policy)
    languages = [(code, name, _login_url(request, lang=code)) for code, name in i18n.LANGUAGES.items()]
    response = pages(request).render(
        request,
        "login.html",
        {
            "csrf_token": token,
            "action": _login_url(request),
            "failed": failed,
            "refusal": refusal,
            "username": username,
            "languages": languages,
        },
        status_code=status_code,
    )
    set_login_csrf_cookie(response, token, policy)
    return response


def _after_login(request: Request) -> str:
    return safe_next(request.query_params.get("next")) or request.url_for("home").path


async def login_form(request: Request) -> Response:
    if isinstance(request.user, ConsoleUser):
        return RedirectResponse(_after_login(request), status_code=303)
    return _login_page(request, failed=False)


def source_address(request: Request) -> str:
    """Who is signing in, as far as this process can tell: the peer, or behind a trusted proxy
    (INTAKE_TRUSTED_PROXIES) the address it forwarded (uvicorn reads X-Forwarded-For for us)."""
    return request.client.host if request.client else "unknown"


@login_csrf_protected
async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    typed = username[:64]
    source = source_address(request)
    throttle: SignInThrottle = request.app.state.throttle
    if throttle.source_blocked(source):
        return _login_page(request, failed=False, username=typed, status_code=429, refusal=TOO_MANY)
    name = accounts.normalise_username(username)
    if throttle.pair_blocked(name, source):
        # No password is checked; the answer is that of a wrong password, as for a locked account.
        return _login_page(request, failed=True, username=typed, status_code=400)
    db = database(request)
    try:
        user = await accounts.authenticate(db, username=username, password=password)
    except accounts.Busy:
        return _login_page(request, failed=False, username=typed, status_code=503, refusal=BUSY)
    if user is None:
        throttle.failed(name, source)
        # Committed even so: the failure count and any lock must outlive this request.
        await db.commit()
        # One answer for an unknown name, a wrong password and a locked account.
        return _login_page(request, failed=True, username=typed, status_code=400)
    throttle.succeeded(name, source)
    chosen = i18n.supported(request.query_params.get("lang"))
    if chosen is not None:
        # The language picked on the sign-in page is theirs from now on (also on "My account").
        await accounts.change_language(db, user=user, language=chosen, actor=f"staff:{user.id}")
    token = await start_session(request, user=user)
    await db.commit()
    policy = config(request).sessions
    response = RedirectResponse(_after_login(request), status_code=303)
    set_session_cookie(response, token, policy)
    return response


async def logout(request: Request) -> Response:
    db = database(request)
    staff_user = signed_in_user(request)
    await end_session(request)
    await record_audit(
        db,
        actor=staff_user.actor,
        action="staff.logout",
        object_type="staff_user",
        object_id=staff_user.identity,
        details={},
    )
    await db.commit()
    response = RedirectResponse(request.url_for("login").path, status_code=303)
    clear_session_cookie(response, config(request).sessions)
    return response


routes = [
    page("/login", login_form, name="login", permission=None),
    # Public, but guarded by its own pre-session CSRF token (login_csrf_protected).
    action("/login", login, name="login_submit", permission=None),
    action("/logout", logout, name="logout", permission=Permission.SIGNED_IN),
]
