"""The requests tab: what the beneficiary asked for in the bot (correction, withdrawal, deletion,
consent change), worked to done. Their texts are personal data, shown only behind an audited reveal."""

from __future__ import annotations

import dataclasses

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console import casework as work
from caseworker_console.casetabs import open_tab, tab_context
from caseworker_console.config import crypto
from caseworker_console.database import database
from caseworker_console.permissions import Permission, allows
from caseworker_console.routing import action, page, request_case, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.views import local_time, staff_name
from programme import cycle
from programme.text import N_
from storage import casework
from storage.queries import record_audit
from storage.sealing import unseal, unseal_json

KIND_LABELS: dict[str, str] = {
    "correction": N_("Correction of their data"),
    "withdrawal": N_("Withdrawal from the programme"),
    "deletion": N_("Deletion of their data"),
    "consent_change": N_("Change of consent"),
}
STATUS_LABELS: dict[str, str] = {"open": N_("Open"), "done": N_("Done"), "refused": N_("Refused")}
NO_SUCH_REQUEST = N_("That request is not one of this case's requests.")
SUPERVISOR_DECIDES = N_(
    "An erasure request is carried out or refused by a supervisor, on the erasure requests page."
)


@dataclasses.dataclass(frozen=True)
class RequestView:
    id: str
    kind: str
    kind_code: str
    open: bool
    status: str
    made: str
    done: str | None
    done_by: str | None
    text: str | None  # only after the reveal
    # An erasure request (storage.erasure): decided by a supervisor by this date, not marked done.
    due: str | None = None
    # A refused erasure request's reason, as the person was told it (only after the reveal).
    answer: str | None = None


async def render(
    request: Request, *, reveal: bool = False, error: str | None = None, status_code: int = 200
) -> Response:
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    translate = gettext_for(request)
    rows = await casework.case_requests(db, case=case)
    people = await casework.staff_by_id(db, ids=[row.done_by for row in rows if row.done_by])
    keys = crypto(request) if reveal else None

    views = []
    for row in rows:
        text = answer = None
        if keys is not None:
            details = unseal_json(keys, row, "details_enc") or {}
            text = str(details.get("text") or "")
            answer = unseal(keys, row, "answer_enc")
        views.append(
            RequestView(
                id=str(row.id),
                kind=translate.gettext(KIND_LABELS[row.kind]) if row.kind in KIND_LABELS else row.kind,
                kind_code=row.kind,
                open=row.status == "open",
                status=translate.gettext(STATUS_LABELS.get(row.status, row.status)),
                made=local_time(request, row.created_at),
                done=local_time(request, row.done_at) if row.done_at else None,
                done_by=staff_name(people.get(row.done_by or 0)),
                text=text,
                due=local_time(request, row.due_at) if row.due_at else None,
                answer=answer,
            )
        )
    context = await tab_context(request, "requests")
    return pages(request).render(
        request,
        "requests.html",
        {
            **context,
            "error": translate.gettext(error) if error else None,
            "requests": views,
            "revealed": reveal,
            # Requests are worked to done even on a closed case (a withdrawal closes it first).
            "can_work": context["own"] and allows(user.role, Permission.CASE_WRITE),
            "can_reveal": context["identity"] and bool(views),
            "can_decide_erasure": allows(user.role, Permission.ERASURE),
            "withdrew_label": translate.gettext(cycle.TERMINATION_LABELS[cycle.TerminationReason.WITHDREW]),
        },
        status_code=status_code,
    )


async def requests_tab(request: Request) -> Response:
    return await open_tab(request, "requests", render)


async def reveal_texts(request: Request) -> Response:
    """Decrypt what the person wrote, for this one response; each reveal is in the audit log."""
    db = database(request)
    await record_audit(
        db,
        actor=signed_in_user(request).actor,
        action="requests.revealed",
        object_type="case",
        object_id=request_case(request).code,
        details={},
    )
    # Committed before the page is sent: no reveal without its audit entry.
    await db.commit()
    response = await render(request, reveal=True)
    response.headers["Cache-Control"] = "no-store"
    return response


async def mark_done(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    form = await request.form()
    wanted = form.get("request_id")
    found = await casework.find_request(db, case=case, request_id=wanted if isinstance(wanted, str) else "")
    if found is None:
        return await render(request, error=NO_SUCH_REQUEST, status_code=400)
    if found.due_at is not None:
        return await render(request, error=SUPERVISOR_DECIDES, status_code=400)
    if found.status == "open":
        await work.request_done(db, case=case, request=found, staff_id=user.staff_id, actor=user.actor)
        await db.commit()
    return RedirectResponse(request.url_for("case_requests", code=case.code).path, status_code=303)


routes = [
    page("/cases/{code}/requests", requests_tab, name="case_requests", permission=Permission.CASE_READ),
    action(
        "/cases/{code}/requests/texts",
        reveal_texts,
        name="case_requests_texts",
        permission=Permission.IDENTITY,
    ),
    action(
        "/cases/{code}/requests/done",
        mark_done,
        name="case_requests_done",
        permission=Permission.CASE_WRITE,
    ),
]
