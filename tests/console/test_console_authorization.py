"""Authorization matrix generated from the route table: every route × role × relation to the case.

The expectations below are written out by hand from docs/programme.md's roles, not derived from
caseworker_console.permissions, so a wrong entry there fails here. A route with a permission or
path parameter this file does not know fails too: nothing new slips through unreviewed.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.routing import Mount

from caseworker_console.auth import SESSION_COOKIE
from caseworker_console.permissions import Permission
from caseworker_console.routes.calendar import token_hash
from caseworker_console.routing import ConsoleRoute
from storage.crypto import Crypto
from storage.models import Case, StaffSession, StaffUser, utcnow
from storage.models_channels import Channel
from storage.models_feedback import Feedback
from storage.models_figures import CalendarFeed, FullExport
from storage.models_outreach import Campaign
from storage.schema import Base
from storage.sealing import seal_json
from tests.console.conftest import case_for, form_token

SignIn = Callable[..., Awaitable[StaffUser]]
MakeUser = Callable[..., Awaitable[StaffUser]]


class Outcome(enum.Enum):
    ALLOW = "allow"
    DENY = "403"
    HIDDEN = "404"
    LOGIN = "sign in"


A, D, H = Outcome.ALLOW, Outcome.DENY, Outcome.HIDDEN
ROLES = ("anonymous", "caseworker", "supervisor", "outreach", "admin")
# own: assigned to the signed-in person; other: to another caseworker; queued: to nobody;
# missing: a code no case has.
RELATIONS = ("own", "other", "queued", "missing")

# Routes open to everyone. Adding one is a decision: it must be added here by hand.
# calendar_feed is public by its secret token: the walk uses a real one (a wrong or revoked token
# is 404 for everyone, see test_console_calendar.py).
PUBLIC = {"login", "login_submit", "healthz", "calendar_feed"}

# Routes without a case: permission → role → outcome.
SITE: dict[Permission, dict[str, Outcome]] = {
    Permission.SIGNED_IN: {"caseworker": A, "supervisor": A, "outreach": A, "admin": A},
    Permission.CASES_LIST: {"caseworker": A, "supervisor": A, "outreach": D, "admin": D},
    Permission.CALENDAR: {"caseworker": A, "supervisor": A, "outreach": D, "admin": D},
    Permission.QUEUE: {"caseworker": A, "supervisor": A, "outreach": D, "admin": D},
    Permission.AUDIT: {"caseworker": D, "supervisor": A, "outreach": D, "admin": D},
    Permission.ACCOUNTS: {"caseworker": D, "supervisor": D, "outreach": D, "admin": A},
    # The second person for an account given access to case data: supervisors, never the administrator.
    Permission.GRANTS: {"caseworker": D, "supervisor": A, "outreach": D, "admin": D},
    # Outreach channels and their counts: outreach officers and supervisors.
    Permission.CHANNELS: {"caseworker": D, "supervisor": A, "outreach": A, "admin": D},
    # Counts only: programme managers (supervisors) and outreach officers.
    Permission.FIGURES: {"caseworker": D, "supervisor": A, "outreach": A, "admin": D},
    # Rows per case, even pseudonymised: supervisors only.
    Permission.EXPORT_CASES: {"caseworker": D, "supervisor": A, "outreach": D, "admin": D},
    Permission.PARTNERS: {"caseworker": A, "supervisor": A, "outreach": D, "admin": D},
    Permission.PARTNERS_MANAGE: {"caseworker": D, "supervisor": A, "outreach": D, "admin": D},
    # One's own appointments as a calendar feed: the people who have appointments.
    Permission.CALENDAR_FEED: {"caseworker": A, "supervisor": A, "outreach": D, "admin": D},
    # Outreach campaigns: notices and counts, no case content (docs/programme.md "Roles").
    Permission.CAMPAIGNS: {"caseworker": D, "supervisor": A, "outreach": A, "admin": D},
    # Sending a campaign that sensitive filters narrow to few people: a supervisor approves it.
    Permission.CAMPAIGN_APPROVE: {"caseworker": D, "supervisor": A, "outreach": D, "admin": D},
    # Erasure requests: carrying one out erases a person; supervisors only.
    Permission.ERASURE: {"caseworker": D, "supervisor": A, "outreach": D, "admin": D},
    # Feedback and complaints: supervisors (complaints about staff only focal points among them,
    # tests/console/test_console_feedback.py); never a caseworker, whose case it may be about.
    Permission.FEEDBACK: {"caseworker": D, "supervisor": A, "outreach": D, "admin": D},
    # What the retention purge will erase, and legal holds: supervisors only.
    Permission.LEGAL_HOLD: {"caseworker": D, "supervisor": A, "outreach": D, "admin": D},
    # Offices: administrators keep them, supervisors read them (no case content either way).
    Permission.OFFICES: {"caseworker": D, "supervisor": A, "outreach": D, "admin": A},
    Permission.OFFICES_MANAGE: {"caseworker": D, "supervisor": D, "outreach": D, "admin": A},
    # The operations page: the running system, no case data; administrators keep it running.
    Permission.OPERATIONS: {"caseworker": D, "supervisor": D, "outreach": D, "admin": A},
    # The organisation's name, data contact and hours: administrators set the organisation up.
    Permission.ORGANISATION: {"caseworker": D, "supervisor": D, "outreach": D, "admin": A},
    # The ready replies caseworkers send: supervisors keep them (as they keep the partners).
    Permission.READY_REPLIES: {"caseworker": D, "supervisor": A, "outreach": D, "admin": D},
}

_NO_CASES = {"own": D, "other": D, "queued": D, "missing": D}
# Routes of one case: permission → role → relation → outcome.
CASE: dict[Permission, dict[str, dict[str, Outcome]]] = {
    Permission.CASE_READ: {
        "caseworker": {"own": A, "other": H, "queued": A, "missing": H},
        "supervisor": {"own": A, "other": A, "queued": A, "missing": H},
        "outreach": _NO_CASES,
        "admin": _NO_CASES,
    },
    Permission.CASE_TAKE: {
        "caseworker": {"own": A, "other": H, "queued": A, "missing": H},
        "supervisor": {"own": A, "other": A, "queued": A, "missing": H},
        "outreach": _NO_CASES,
        "admin": _NO_CASES,
    },
    Permission.CASE_WRITE: {
        "caseworker": {"own": A, "other": H, "queued": D, "missing": H},
        "supervisor": {"own": A, "other": A, "queued": A, "missing": H},
        "outreach": _NO_CASES,
        "admin": _NO_CASES,
    },
    Permission.IDENTITY: {
        "caseworker": {"own": A, "other": H, "queued": D, "missing": H},
        "supervisor": {"own": A, "other": A, "queued": A, "missing": H},
        "outreach": _NO_CASES,
        "admin": _NO_CASES,
    },
    # Annex 3 reports: the case's own caseworker and the supervisors, not a caseworker browsing the queue.
    Permission.ADVERSE_READ: {
        "caseworker": {"own": A, "other": H, "queued": D, "missing": H},
        "supervisor": {"own": A, "other": A, "queued": A, "missing": H},
        "outreach": _NO_CASES,
        "admin": _NO_CASES,
    },
    Permission.CASE_ASSIGN: {
        "caseworker": _NO_CASES,
        "supervisor": {"own": A, "other": A, "queued": A, "missing": H},
        "outreach": _NO_CASES,
        "admin": _NO_CASES,
    },
}


def console_routes(app: Starlette) -> list[ConsoleRoute]:
    routes = []
    for route in app.routes:
        if isinstance(route, Mount) and route.name == "static":
            continue
        assert isinstance(route, ConsoleRoute), f"{route!r} is not declared in the route table"
        routes.append(route)
    return routes


def expected(route: ConsoleRoute, role: str, relation: str | None) -> Outcome:
    if route.permission is None:
        return A
    if role == "anonymous":
        return Outcome.LOGIN
    if relation is None:
        return SITE[route.permission][role]
    return CASE[route.permission][role][relation]


def observed(response: httpx.Response) -> Outcome:
    assert response.status_code < 500, response.text[:500]
    if response.status_code == 403:
        return D
    if response.status_code == 404:
        return H
    signing_out = SESSION_COOKIE in response.headers.get("set-cookie", "")  # logout clears the cookie
    if response.status_code == 303 and response.headers["location"].startswith("/login") and not signing_out:
        return Outcome.LOGIN
    return A


def test_every_route_is_in_the_table_with_a_known_permission(app: Starlette) -> None:
    routes = console_routes(app)
    assert {route.name for route in routes if route.permission is None} == PUBLIC
    for route in routes:
        if route.permission is None:
            continue
        table = CASE if route.case_scoped else SITE
        assert route.permission in table, f"{route.path}: add {route.permission} to this test's table"


class World:
    """People and cases for one role's walk through the matrix."""

    def __init__(
        self,
        me: StaffUser | None,
        other: StaffUser,
        bystander: StaffUser,
        *,
        export_id: str = "00000000-0000-0000-0000-000000000000",
        feed_token: str = "t" * 43,
    ) -> None:
        self.me = me
        self.other = other
        self.bystander = bystander
        # A full export of the signed-in person's own, and the bystander's calendar feed token.
        self.export_id = export_id
        self.feed_token = feed_token
        self.codes = (f"IP-2027-{number:06d}" for number in itertools.count(1))

    def case(self, relation: str) -> Case | None:
        if relation == "missing":
            return None
        owner = {"own": self.me.id if self.me else self.other.id, "other": self.other.id, "queued": None}
        return case_for({"code": next(self.codes), "assigned_to": owner[relation]})


# Stand-ins for the path parameters of a walk without a World: a missing export, an unknown token.
NO_EXPORT = "00000000-0000-0000-0000-000000000000"
NO_TOKEN = "t" * 43
# Feedback about the service, made by the walk: a supervisor may open it.
FEEDBACK_REFERENCE = "FB-12345678"


def path_for(
    route: ConsoleRoute,
    *,
    code: str,
    user_id: int,
    channel_id: int,
    export_id: str = NO_EXPORT,
    token: str = NO_TOKEN,
    campaign_id: uuid.UUID | None = None,
) -> str:
    params = {
        "code": code,
        "user_id": str(user_id),
        "channel_id": str(channel_id),
        "export_id": export_id,
        "token": token,
        "campaign_id": str(campaign_id or uuid.UUID(int=0)),
        "request_id": str(uuid.UUID(int=0)),
        "reference": FEEDBACK_REFERENCE,
    }
    unknown = set(route.param_convertors) - set(params)
    assert not unknown, f"{route.path}: teach this test a value for {unknown}"
    return route.url_path_for(route.name, **{name: params[name] for name in route.param_convertors})


def cells(app: Starlette) -> Iterator[tuple[ConsoleRoute, str | None]]:
    # Signing out ends the session the rest of the walk needs, so it goes last.
    for route in sorted(console_routes(app), key=lambda route: route.name == "logout"):
        for relation in RELATIONS if route.case_scoped else (None,):
            yield route, relation


async def make_world(
    role: str, make_user: MakeUser, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> World:
    other = await make_user(f"other-{secrets.token_hex(3)}", role="caseworker")
    bystander = await make_user(f"bystander-{secrets.token_hex(3)}", role="caseworker")
    me = None if role == "anonymous" else await sign_in_as(f"me-{role}", role=role)
    token = secrets.token_urlsafe(32)
    export = FullExport(
        requested_by=(me or other).id,
        reason_enc=b"sealed",
        file_name="cases.zip",
        archive=b"PK",
        created_at=utcnow(),
        expires_at=utcnow() + dt.timedelta(hours=1),
    )
    async with sessionmaker() as session:
        session.add_all([export, CalendarFeed(staff_id=bystander.id, token_hash=token_hash(token))])
        await session.commit()
    return World(me, other, bystander, export_id=str(export.id), feed_token=token)


async def make_channel(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        channel = Channel(
            code=f"ch-{secrets.token_hex(4)}", name="Campus", kind="university", languages=["en"]
        )
        session.add(channel)
        await session.commit()
        return channel.id


async def make_campaign(sessionmaker: async_sessionmaker[AsyncSession], created_by: int) -> uuid.UUID:
    """A draft with a text in its fallback language, so scheduling it goes through."""
    async with sessionmaker() as session, session.begin():
        campaign = Campaign(
            name="Notice", texts={"en": "Open on Saturday."}, status="draft", created_by=created_by
        )
        session.add(campaign)
    return campaign.id


async def make_feedback(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> None:
    async with sessionmaker() as session, session.begin():
        feedback = Feedback(
            reference=FEEDBACK_REFERENCE,
            kind="service",
            routing="supervisors",
            medium="text",
            status="new",
            due_at=utcnow() + dt.timedelta(days=7),
        )
        seal_json(crypto, feedback, "body_enc", {"text": "The wait was long."})
        session.add(feedback)


@pytest.mark.parametrize("role", ROLES)
async def test_authorization_matrix(
    role: str,
    crypto: Crypto,
    app: Starlette,
    client: httpx.AsyncClient,
    make_user: MakeUser,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(role, make_user, sign_in_as, sessionmaker)
    channel_id = await make_channel(sessionmaker)
    campaign_id = await make_campaign(sessionmaker, world.other.id)
    await make_feedback(sessionmaker, crypto)
    plan = [(route, relation, world.case(relation) if relation else None) for route, relation in cells(app)]
    async with sessionmaker() as session:
        session.add_all([case for _, _, case in plan if case is not None])
        await session.commit()
    token = form_token(await client.get("/", follow_redirects=True)) if world.me else "none"

    wrong = []
    for route, relation, case in plan:
        path = path_for(
            route,
            code=case.code if case else "IP-2027-999999",
            user_id=world.bystander.id,
            channel_id=channel_id,
            export_id=world.export_id,
            token=world.feed_token,
            campaign_id=campaign_id,
        )
        if route.method == "GET":
            response = await client.get(path)
        else:
            data: dict[str, Any] = {"csrf_token": token, "version": str(case.version if case else 1)}
            if route.name == "login_submit":
                data = {}  # has its own pre-session token: refused either way, and not what this tests
            response = await client.post(path, data=data)
        want = expected(route, role, relation)
        got = observed(response) if route.name != "login_submit" else A
        if got is not want:
            wrong.append(
                f"{route.method} {route.path} as {role} on {relation}: {got.value}, expected {want.value}"
            )
    assert wrong == []


def _rows(table: Any, rows: list[Any]) -> list[tuple[Any, ...]]:
    columns = [
        column
        for column in table.columns
        if not (table.name == "staff_sessions" and column.name == "last_seen_at")
    ]
    return sorted(tuple(repr(getattr(row, column.name)) for column in columns) for row in rows)


async def snapshot(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table except the audit log, and sessions without their last-seen time."""
    state = {}
    async with sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == "audit_log":
                continue
            state[table.name] = _rows(table, list((await session.execute(select(table))).all()))
    return state


@pytest.mark.parametrize("role", ROLES)
async def test_no_get_changes_anything(
    role: str,
    app: Starlette,
    client: httpx.AsyncClient,
    make_user: MakeUser,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    world = await make_world(role, make_user, sign_in_as, sessionmaker)
    channel_id = await make_channel(sessionmaker)
    campaign_id = await make_campaign(sessionmaker, world.other.id)
    plan = [(route, relation, world.case(relation) if relation else None) for route, relation in cells(app)]
    async with sessionmaker() as session:
        session.add_all([case for _, _, case in plan if case is not None])
        await session.commit()
        assert (await session.execute(select(StaffSession))).first() is not None or role == "anonymous"
    before = await snapshot(sessionmaker)
    for route, _, case in plan:
        if route.method != "GET":
            continue
        path = path_for(
            route,
            code=case.code if case else "IP-2027-999999",
            user_id=world.bystander.id,
            channel_id=channel_id,
            export_id=world.export_id,
            token=world.feed_token,
            campaign_id=campaign_id,
        )
        response = await client.get(path)
        assert response.status_code < 500, path
        # HEAD is GET without a body and must be as harmless.
        assert (await client.head(path)).status_code < 500, path
    assert await snapshot(sessionmaker) == before
