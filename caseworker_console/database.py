"""One database session per request, opened by a middleware from the app's sessionmaker.

A GET or HEAD request reads without SQLite's write lock (storage.engine.reading): a page being
read never holds up the bot's writes, and pages read side by side. Such a request that writes (an
audit entry, a session's last-seen time) takes the lock only then; if another connection wrote
since the request began reading, or holds the lock at that moment, SQLite refuses the upgrade, and
the request runs once more as a writer from the start, before anything of its answer was sent.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storage.engine import reading

STATE_KEY = "db"
READS = frozenset({"GET", "HEAD"})
# SQLite's answers to a reader that tried to write after another connection wrote, or while
# another connection holds the write lock (a reader's upgrade does not wait for it).
_RUN_AGAIN = frozenset({sqlite3.SQLITE_BUSY_SNAPSHOT, sqlite3.SQLITE_BUSY})


class DatabaseSessionMiddleware:
    """Open an AsyncSession for the request and close it (rolling back anything uncommitted) after.

    Routes commit what they change themselves, before they answer: a commit that fails after
    the response has gone would tell the person something was saved when it was not.
    """

    def __init__(self, app: ASGIApp, *, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.app = app
        self.sessionmaker = sessionmaker
        bind = sessionmaker.kw.get("bind")
        reader = reading(bind) if isinstance(bind, AsyncEngine) else None
        self.reader = reader if reader is not bind else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.reader is not None and scope["method"] in READS:
            answered = False
            received: list[Message] = []

            async def sending(message: Message) -> None:
                nonlocal answered
                answered = True
                await send(message)

            async def receiving() -> Message:
                received.append(await receive())
                return received[-1]

            async def again() -> Message:
                return received.pop(0) if received else await receive()

            try:
                await self._with_session(self.sessionmaker(bind=self.reader), scope, receiving, sending)
                return
            except OperationalError as error:
                if answered or getattr(error.orig, "sqlite_errorcode", None) not in _RUN_AGAIN:
                    raise
            receive = again
        # Opening a session costs nothing until it is used: /healthz and /static never connect.
        await self._with_session(self.sessionmaker(), scope, receive, send)

    async def _with_session(self, session: AsyncSession, scope: Scope, receive: Receive, send: Send) -> None:
        async with session:
            scope.setdefault("state", {})[STATE_KEY] = session
            await self.app(scope, receive, send)


def database(connection: HTTPConnection) -> AsyncSession:
    """The request's session (what a handler declares it needs)."""
    session: AsyncSession = connection.scope["state"][STATE_KEY]
    return session
