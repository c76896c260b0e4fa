"""Who is signed in: server-side sessions behind a cookie, and CSRF tokens."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response

from caseworker_console.config import SessionPolicy, config
from caseworker_console.database import database
from caseworker_console.security import STATIC_PREFIX
from storage import staff
from storage.models import StaffSession, StaffUser

SESSION_COOKIE = "intake_session"
TOKEN_BYTES = 32
# A real token is 43 characters; anything much longer is not worth hashing.
MAX_TOKEN_LENGTH = 100
# Writing last_seen_at on every request would turn every page view into a write; a minute of
# slack on a 30-minute idle timeout is not worth that.
TOUCH_INTERVAL = dt.timedelta(seconds=60)
BACKGROUND_PATHS = frozenset({"/queue/badge"})

Endpoint = Callable[[Request], Awaitable[Response]]


class CsrfFailure(HTTPException):
    """A POST without the token of the form the console served."""

    def __init__(self) -> None:
        super().__init__(status_code=403, detail="csrf")


class ConsoleUser(BaseUser):
    """A signed-in person, as request.user: their account and the session they use."""

    def __init__(self, user: StaffUser, session: StaffSession) -> None:
        self.account = user
        self.session = session
        # Copied now: a route that rolls back its transaction expires the ORM objects, and an
        # expired attribute cannot be loaded lazily under asyncio.
        self.staff_id: int = user.id
        self._username = user.username
        self._display_name = user.display_name
        self._role = user.role
        # A supervisor named a focal point reads complaints about staff (programme.feedback).
        self.focal_point: bool = user.focal_point
        self._language = user.language
        self.must_change_password: bool = user.must_change_password
        self._csrf_token = session.csrf_token
        self.session_id: str = session.id

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self._display_name or self._username

    @property
    def identity(self) -> str:
        return str(self.staff_id)

    @property
    def actor(self) -> str:
        """How the audit log names this person."""
        return f"staff:{self.staff_id}"

    @property
    def role(self) -> str:
        return self._role

    @property
    def language(self) -> str:
        return self._language

    @property
    def csrf_token(self) -> str:
        return self._csrf_token


def hash_token(token: str) -> str:
    """The stored id of a session: a leaked table does not hand out working cookies."""
    return hashlib.sha256(token.encode()).hexdigest()


def _cookie_token(connection: HTTPConnection, name: str) -> str | None:
    value = connection.cookies.get(name)
    return value if value and len(value) <= MAX_TOKEN_LENGTH else None


def _background(conn: HTTPConnection) -> bool:
    """A request a page makes on its own (the queue badge's polling), not a person acting.

    It must not count as activity: a console left open would otherwise never reach its idle timeout.
    """
    root = conn.scope.get("root_path", "")
    path: str = conn.scope["path"]
    path = path.removeprefix(root) if root else path
    # A campaign's progress, polled while its page is open.
    return path in BACKGROUND_PATHS or (path.startswith("/campaigns/") and path.endswith("/progress"))


class SessionBackend(AuthenticationBackend):
    """Starlette authentication backend reading the session cookie against staff_sessions."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        token = _cookie_token(conn, SESSION_COOKIE)
        # Static files are public; a session lookup for each would triple the queries per page view.
        if token is None or conn.url.path.startswith(STATIC_PREFIX):
            return None
        db = database(conn)
        result = await self._resume(conn, db, token)
        # End the lookup's transaction now: on SQLite a POST's holds the write lock until it ends (a
        # GET's reads without it: caseworker_console.database).
        await db.commit()
        return result

    async def _resume(
        self, conn: HTTPConnection, db: AsyncSession, token: str
    ) -> tuple[AuthCredentials, BaseUser] | None:
        found = await staff.find_session(db, session_id=hash_token(token))
        if found is None:
            return None
        record, user = found
        now = config(conn).clock()
        if not user.active or config(conn).sessions.expired(record, now):
            await staff.delete_session(db, session_id=record.id)
            return None
        if now - record.last_seen_at >= TOUCH_INTERVAL and not _background(conn):
            await staff.touch_session(db, session_id=record.id, at=now)
        return AuthCredentials(["authenticated", f"role:{user.role}"]), ConsoleUser(user, record)


async def start_session(request: Request, *, user: StaffUser) -> str:
    """A fresh session for a person who just proved who they are; returns the cookie token.

    Any session the browser already carried is ended first, so a token planted before sign-in
    (session fixation) never becomes a signed-in one.
    """
    db = database(request)
    policy = config(request).sessions
    now = config(request).clock()
    previous = _cookie_token(request, SESSION_COOKIE)
    if previous is not None:
        await staff.delete_session(db, session_id=hash_token(previous))
    await staff.delete_expired_sessions(
        db, idle_before=now - policy.idle, created_before=now - policy.absolute
    )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    await staff.create_session(
        db,
        session_id=hash_token(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(TOKEN_BYTES),
        at=now,
    )
    return token


async def end_session(request: Request) -> None:
    user = request.user
    if isinstance(user, ConsoleUser):
        await staff.delete_session(database(request), session_id=user.session_id)


def set_session_cookie(response: Response, token: str, policy: SessionPolicy) -> None:
    # No Max-Age: the cookie dies with the browser, which suits shared office computers.
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=policy.secure_cookies, path="/"
    )


def clear_session_cookie(response: Response, policy: SessionPolicy) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=policy.secure_cookies, path="/"
    )


def login_csrf_token(request: Request, policy: SessionPolicy) -> str:
    """The pre-session CSRF token: the one already in the browser's cookie, or a new one.

    Reusing it (and keeping it after sign-in) lets several open sign-in tabs all work.
    """
    return _cookie_token(request, policy.login_csrf_cookie) or secrets.token_urlsafe(TOKEN_BYTES)


def set_login_csrf_cookie(response: Response, token: str, policy: SessionPolicy) -> None:
    response.set_cookie(
        policy.login_csrf_cookie,
        token,
        httponly=True,
        samesite="strict",
        secure=policy.secure_cookies,
        path="/",
    )


def _tokens_match(expected: str | None, given: object) -> bool:
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def _cross_site(request: Request) -> bool:
    # Browsers label every request with where it came from; a cross-site POST is never ours.
    return request.headers.get("sec-fetch-site") == "cross-site"


async def _posted_token(request: Request) -> object:
    form = await request.form()
    return form.get("csrf_token")


def csrf_protected(endpoint: Endpoint) -> Endpoint:
    """Require the signed-in session's CSRF token as the form field csrf_token."""

    @functools.wraps(endpoint)
    async def checked(request: Request) -> Response:
        user = request.user
        expected = user.csrf_token if isinstance(user, ConsoleUser) else None
        if _cross_site(request) or not _tokens_match(expected, await _posted_token(request)):
            raise CsrfFailure
        return await endpoint(request)

    return checked


def login_csrf_protected(endpoint: Endpoint) -> Endpoint:
    """Require the pre-session (double-submit cookie) CSRF token, for the sign-in form."""

    @functools.wraps(endpoint)
    async def checked(request: Request) -> Response:
        expected = _cookie_token(request, config(request).sessions.login_csrf_cookie)
        if _cross_site(request) or not _tokens_match(expected, await _posted_token(request)):
            raise CsrfFailure
        return await endpoint(request)

    return checked


def safe_next(value: str | None) -> str | None:
    """A path on this site to return to after sign-in, or None: never an open redirect."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(character) < 0x20 for character in value):
        return None
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


def redirect_to_login(request: Request) -> RedirectResponse:
    target = request.url_for("login").path
    if request.method == "GET":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target += "?" + urlencode({"next": here})
    return RedirectResponse(target, status_code=303)
