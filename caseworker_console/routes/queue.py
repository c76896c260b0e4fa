"""The queue of unassigned handoffs, its live badge, taking a case and a supervisor's assignment."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from caseworker_console import casework as work
from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.permissions import Permission, allows
from caseworker_console.routes import priority
from caseworker_console.routing import action, page, request_case, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.views import case_summary
from programme.text import N_
from storage import casework
from storage.journey import withdrawn_cases
from storage.queries import record_audit

STOPPED = N_("Stopped taking part")
# Roles a case can be assigned to.
ASSIGNABLE_ROLES = ("caseworker", "supervisor")


async def queue_page(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    found = await casework.queue(db, limit=config(request).page_size)
    rows = [case_summary(request, case, assignee=None) for case in found]
    # The groups are sealed: read only for the cases of this page that are in one.
    grouped = [case for case in found if case.priority or case.guardian_consent_needed]
    groups = await casework.priority_groups(db, crypto(request), cases=grouped) if grouped else {}
    translate = gettext_for(request)
    badges = {case.code: priority.badges(groups.get(case.id), translate) for case in found}
    # A person who stopped taking part while their case waited: it is to be closed with reason 1.
    codes = {case.id: case.code for case in found}
    for case_id in await withdrawn_cases(db, case_ids=list(codes)):
        badges[codes[case_id]] = [translate.gettext(STOPPED), *badges[codes[case_id]]]
    assignees = []
    if allows(user.role, Permission.CASE_ASSIGN):
        for role in ASSIGNABLE_ROLES:
            assignees.extend(await casework.active_staff(db, role=role))
    await record_audit(
        db,
        actor=user.actor,
        action="queue.list",
        object_type="case",
        object_id=None,
        details={"shown": len(rows)},
    )
    await db.commit()
    return pages(request).render(
        request,
        "queue.html",
        {"active": "queue", "rows": rows, "assignees": assignees, "badges": badges},
    )


async def queue_badge(request: Request) -> Response:
    """The badge's counts as JSON; polled every 15 s, so it reads and nothing else."""
    user = signed_in_user(request)
    # A supervisor is alerted for every case, a caseworker for their own.
    alerts_for = None if allows(user.role, Permission.CASE_ASSIGN) else user.staff_id
    counts = await casework.queue_counts(database(request), alerts_for=alerts_for)
    await database(request).commit()
    _ = gettext_for(request).gettext
    if counts.new or counts.urgent:
        label = _("%(new)s new, %(urgent)s urgent") % {"new": counts.new, "urgent": counts.urgent}
    else:
        label = ""
    return JSONResponse({"new": counts.new, "urgent": counts.urgent, "label": label})


def _conflict(request: Request, message: str) -> Response:
    return pages(request).render(
        request,
        "conflict.html",
        {"message": gettext_for(request).gettext(message), "code": request_case(request).code},
        status_code=409,
    )


async def take(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    form = await request.form()
    if case.assigned_to == user.staff_id:
        return RedirectResponse(request.url_for("case", code=case.code).path, status_code=303)
    if case.assigned_to is not None or case.stage == "closed":
        return _conflict(request, N_("Someone else has taken this case already."))
    try:
        work.expect_version(case, form.get("version"))
        await work.take(db, case=case, staff_id=user.staff_id, actor=user.actor)
    except work.StaleCase:
        await work.discard(db, case)
        return _conflict(request, work.STALE_MESSAGE)
    await db.commit()
    return RedirectResponse(request.url_for("case", code=case.code).path, status_code=303)


async def assign(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    form = await request.form()
    raw = form.get("staff_id")
    staff_id = int(raw) if isinstance(raw, str) and raw.isdigit() else None
    assignable = {
        person.id for role in ASSIGNABLE_ROLES for person in await casework.active_staff(db, role=role)
    }
    if staff_id not in assignable:
        raise HTTPException(status_code=400)
    if case.stage == "closed":
        return _conflict(request, N_("A closed case cannot be assigned. Reopen it first."))
    try:
        work.expect_version(case, form.get("version"))
        await work.assign(db, case=case, staff_id=staff_id, actor=user.actor)
    except work.StaleCase:
        await work.discard(db, case)
        return _conflict(request, work.STALE_MESSAGE)
    await db.commit()
    return RedirectResponse(request.url_for("case", code=case.code).path, status_code=303)


routes = [
    page("/queue", queue_page, name="queue", permission=Permission.QUEUE),
    page("/queue/badge", queue_badge, name="queue_badge", permission=Permission.QUEUE),
    action("/cases/{code}/take", take, name="case_take", permission=Permission.CASE_TAKE),
    action("/cases/{code}/assign", assign, name="case_assign", permission=Permission.CASE_ASSIGN),
]
