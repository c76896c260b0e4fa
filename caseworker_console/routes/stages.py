"""Moving a case through the cycle: the next stage, closing with a termination reason, reopening."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from caseworker_console import casework as work
from caseworker_console.casetabs import Refused, commit_change
from caseworker_console.config import crypto
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routes.casefile import render_overview
from caseworker_console.routing import action, request_case, signed_in_user
from programme import cycle
from programme.text import N_


async def _apply(request: Request, change: str) -> Response:
    """Run one change of stage; a refused move or a stale page comes back as the overview, unsaved."""
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    form = await request.form()
    keys = crypto(request)

    async def run() -> None:
        try:
            if change == "advance":
                target = form.get("to")
                if not isinstance(target, str) or target not in set(cycle.Stage):
                    raise cycle.TransitionRefused(N_("A case moves forward one stage at a time."))
                await work.advance(db, keys, case=case, to=cycle.Stage(target), actor=user.actor)
            elif change == "close":
                reason, details = form.get("reason"), form.get("details")
                await work.close(
                    db,
                    keys,
                    case=case,
                    reason=reason if isinstance(reason, str) else None,
                    details=" ".join(details.split())[:4000] if isinstance(details, str) else None,
                    staff_id=user.staff_id,
                    actor=user.actor,
                )
            else:
                await work.reopen(db, keys, case=case, staff_id=user.staff_id, actor=user.actor)
        except cycle.TransitionRefused as refused:
            raise Refused(refused.message, status_code=400) from None

    return await commit_change(
        request, version=form.get("version"), change=run, render=render_overview, tab="case", saved=False
    )


async def advance(request: Request) -> Response:
    return await _apply(request, "advance")


async def close(request: Request) -> Response:
    return await _apply(request, "close")


async def reopen(request: Request) -> Response:
    return await _apply(request, "reopen")


routes = [
    action("/cases/{code}/advance", advance, name="case_advance", permission=Permission.CASE_WRITE),
    action("/cases/{code}/close", close, name="case_close", permission=Permission.CASE_WRITE),
    action("/cases/{code}/reopen", reopen, name="case_reopen", permission=Permission.CASE_WRITE),
]
