"""Access to case data, granted by two people: accounts an administrator made or enabled with a role
that reads cases wait here until a supervisor approves or refuses them; every grant is listed."""

from __future__ import annotations

import dataclasses

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console import accounts
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routes.accounts import ROLE_LABELS, target_account
from caseworker_console.routing import action, page, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.views import local_time
from programme.text import N_
from storage import staff

# Audit actions that give (or ask to give, or refuse) an account access to case data.
GRANT_ACTIONS = (
    "staff.created",
    "staff.grant_requested",
    "staff.grant_approved",
    "staff.grant_refused",
    "staff.role_changed",
)
ASKED = ("staff.created", "staff.grant_requested")
RECENT = 50
NO_LONGER_WAITING = N_("This account no longer waits for approval: someone decided already.")
COMMAND_LINE = N_("the command line")
ACTION_WORDS: dict[str, str] = {
    "staff.created": N_("made with access to cases"),
    "staff.grant_requested": N_("enabled: access to cases asked for"),
    "staff.grant_approved": N_("approved"),
    "staff.grant_refused": N_("refused"),
    "staff.role_changed": N_("role changed"),
}


@dataclasses.dataclass(frozen=True)
class Waiting:
    id: int
    username: str
    display_name: str
    role: str
    asked_by: str
    asked_at: str


@dataclasses.dataclass(frozen=True)
class Grant:
    at: str
    at_iso: str
    account: str
    role: str
    what: str
    by: str


async def render(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    db = database(request)
    translate = gettext_for(request)
    people = {person.id: person for person in await staff.all_users(db)}

    def name_of(actor: str) -> str:
        if actor.startswith("staff:") and actor[6:].isdigit() and int(actor[6:]) in people:
            person = people[int(actor[6:])]
            return person.display_name or person.username
        return translate.gettext(COMMAND_LINE) if actor == "system" else actor

    def role_of(code: str) -> str:
        return translate.gettext(ROLE_LABELS[code]) if code in ROLE_LABELS else code

    entries = [
        entry
        for entry in await staff.account_entries(db, actions=GRANT_ACTIONS, limit=RECENT * 4)
        if accounts.reads_cases(str((entry.details or {}).get("role", "")))
    ][:RECENT]
    waiting = []
    for person in await staff.users_awaiting_approval(db):
        asked = next((e for e in entries if e.object_id == str(person.id) and e.action in ASKED), None)
        waiting.append(
            Waiting(
                id=person.id,
                username=person.username,
                display_name=person.display_name,
                role=role_of(person.pending_role or person.role),
                asked_by=name_of(asked.actor) if asked else "—",
                asked_at=local_time(request, asked.at) if asked else "—",
            )
        )
    grants = []
    for entry in entries:
        person = people.get(int(entry.object_id)) if (entry.object_id or "").isdigit() else None
        grants.append(
            Grant(
                at=local_time(request, entry.at),
                at_iso=entry.at.isoformat(),
                account=person.username if person else str(entry.object_id),
                role=role_of(str(entry.details.get("role", ""))),
                what=translate.gettext(ACTION_WORDS[entry.action]),
                by=name_of(entry.actor),
            )
        )
    return pages(request).render(
        request,
        "grants.html",
        {
            "active": "grants",
            "waiting": waiting,
            "grants": grants,
            "error": translate.gettext(error) if error else None,
        },
        status_code=status_code,
    )


async def grants_page(request: Request) -> Response:
    return await render(request)


async def _decide(request: Request, *, approve: bool) -> Response:
    db = database(request)
    target = await target_account(request)
    decide = accounts.approve_grant if approve else accounts.refuse_grant
    if not await decide(db, user=target, actor=signed_in_user(request).actor):
        await db.rollback()
        return await render(request, error=NO_LONGER_WAITING, status_code=409)
    await db.commit()
    return RedirectResponse(request.url_for("grants").path, status_code=303)


async def approve(request: Request) -> Response:
    return await _decide(request, approve=True)


async def refuse(request: Request) -> Response:
    return await _decide(request, approve=False)


routes = [
    page("/grants", grants_page, name="grants", permission=Permission.GRANTS),
    action("/grants/{user_id}/approve", approve, name="grant_approve", permission=Permission.GRANTS),
    action("/grants/{user_id}/refuse", refuse, name="grant_refuse", permission=Permission.GRANTS),
]
