"""One database session per request, opened by a middleware from the app's sessionmaker."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

STATE_KEY = "db"


class DatabaseSessionMiddleware:
    """Open an AsyncSession for the request and close it (rolling back anything uncommitted) after.

    Routes commit what they change themselves, before they answer: a commit that fails after
    the response has gone would tell the person something was saved when it was not.
    """

    def __init__(self, app: ASGIApp, *, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.app = app
        self.sessionmaker = sessionmaker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Opening a session costs nothing until it is used: /healthz and /static never connect.
        async with self.sessionmaker() as session:
            scope.setdefault("state", {})[STATE_KEY] = session
            await self.app(scope, receive, send)


def database(connection: HTTPConnection) -> AsyncSession:
    """The request's session (what a handler declares it needs)."""
    session: AsyncSession = connection.scope["state"][STATE_KEY]
    return session
