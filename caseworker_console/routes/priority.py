"""The programme's priority groups of a case: those the bot's answers show, and those a caseworker
records on the case file; a case in any of them goes ahead in the queue of those that waited as long."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from caseworker_console import casework as work
from caseworker_console.casetabs import CLOSED, commit_change
from caseworker_console.config import crypto
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routes.casefile import render_overview
from caseworker_console.routing import action, request_case, signed_in_user
from programme import priority
from programme.cycle import Stage
from programme.text import N_
from storage import casework

NOT_A_GROUP = N_("Choose only from the listed priority groups.")


def badges(groups: tuple[set[str], set[str]] | None, translate: Any) -> list[str]:
    """The labels of a case's groups, in the programme's order, for the queue."""
    if groups is None:
        return []
    return [
        translate.gettext(priority.PRIORITY_GROUPS[code]) for code in priority.ordered(groups[0] | groups[1])
    ]


async def save(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    form = await request.form()
    groups = priority.clean_groups(str(value) for value in form.getlist("groups"))
    if groups is None:
        return await render_overview(request, error=NOT_A_GROUP, status_code=400)
    if case.stage == Stage.CLOSED:
        return await render_overview(request, error=CLOSED, status_code=400)
    keys = crypto(request)
    from_bot, _flagged = (await casework.priority_groups(db, keys, cases=[case]))[case.id]

    async def change() -> None:
        await work.set_priority_groups(
            db,
            keys,
            case=case,
            groups=groups,
            from_bot=from_bot,
            user_id=user.staff_id,
            user_name=user.display_name,
            actor=user.actor,
        )

    return await commit_change(
        request,
        version=form.get("version"),
        change=change,
        render=render_overview,
        tab="case",
        saved=False,
        fragment="#priority-heading",
    )


routes = [
    action("/cases/{code}/priority", save, name="case_priority", permission=Permission.CASE_WRITE),
]
