"""Erasure requests, for supervisors: the queue (made, due, overdue first to the eye), one request's
page where it is carried out (after a confirmation) or refused with a written reason."""

from __future__ import annotations

import dataclasses

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console import erasure as work
from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.i18n import translated
from caseworker_console.permissions import Permission
from caseworker_console.routing import action, page, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.views import local_time
from programme.text import N_, NP_
from storage import erasure

REASON_MAX = 2000
# Refused requests shown under the queue, newest first.
REFUSED_SHOWN = 20
NOT_OPEN = N_(
    "This erasure request is no longer open: it was carried out or refused, perhaps by someone else "
    "a moment ago, or it never existed. Nothing was changed."
)
REASON_NEEDED = N_("Write the reason for refusing: the person will read it. Nothing was sent.")
REASON_TOO_LONG = NP_(
    "The reason is %(num)s character long; at most %(limit)s fit. Shorten it: nothing was sent.",
    "The reason is %(num)s characters long; at most %(limit)s fit. Shorten it: nothing was sent.",
)
CONFIRM_NEEDED = N_("Tick the box to confirm that everything about this person is to be erased.")


@dataclasses.dataclass(frozen=True)
class RequestRow:
    id: str
    code: str | None
    made: str
    due: str
    due_iso: str
    overdue: bool
    refused: str | None = None


def _row(request: Request, found: erasure.ErasureRequest) -> RequestRow:
    row = found.request
    due = row.due_at or row.created_at
    return RequestRow(
        id=str(row.id),
        code=found.code,
        made=local_time(request, row.created_at),
        due=local_time(request, due),
        due_iso=due.isoformat(),
        overdue=row.status == erasure.OPEN and due < config(request).clock(),
        refused=local_time(request, row.done_at) if row.done_at else None,
    )


async def queue_page(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    db = database(request)
    rows = [_row(request, found) for found in await erasure.open_erasure_requests(db)]
    refused_rows = await erasure.refused_erasure_requests(db, limit=REFUSED_SHOWN)
    refused = [_row(request, found) for found in refused_rows]
    await db.commit()
    return pages(request).render(
        request,
        "erasure.html",
        {
            "active": "erasure",
            "rows": rows,
            "refused": refused,
            "error": gettext_for(request).gettext(error) if error else None,
        },
        status_code=status_code,
    )


async def erasure_queue(request: Request) -> Response:
    return await queue_page(request)


async def _open_request(request: Request, *, to_decide: bool = False) -> erasure.ErasureRequest | None:
    """The path's erasure request while it is still open (None: forged, erased or decided already)."""
    wanted = str(request.path_params["request_id"])
    found = await erasure.find_erasure_request(database(request), request_id=wanted, to_decide=to_decide)
    return found if found is not None and found.request.status == erasure.OPEN else None


async def _request_page(
    request: Request,
    found: erasure.ErasureRequest,
    *,
    reason: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return pages(request).render(
        request,
        "erasure_request.html",
        {
            "active": "erasure",
            "row": _row(request, found),
            "reason": reason,
            "reason_max": REASON_MAX,
            "error": error,
        },
        status_code=status_code,
    )


async def erasure_request(request: Request) -> Response:
    found = await _open_request(request)
    if found is None:
        return await queue_page(request, error=NOT_OPEN, status_code=409)
    return await _request_page(request, found)


async def carry_out(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    found = await _open_request(request, to_decide=True)
    if found is None:
        return await queue_page(request, error=NOT_OPEN, status_code=409)
    form = await request.form()
    if form.get("confirm") != "yes":
        translate = gettext_for(request).gettext
        return await _request_page(request, found, error=translate(CONFIRM_NEEDED), status_code=400)
    await work.carry_out(db, crypto(request), found=found, actor=user.actor)
    await db.commit()
    await erasure.clear_logs_if_erased(db)
    return RedirectResponse(request.url_for("erasure_requests").path + "?done=1", status_code=303)


async def refuse(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    form = await request.form()
    written = form.get("reason")
    written = written if isinstance(written, str) else ""
    found = await _open_request(request, to_decide=True)
    if found is None:
        return await queue_page(request, error=NOT_OPEN, status_code=409)
    reason = written.strip()
    translate = gettext_for(request).gettext
    if not reason:
        return await _request_page(
            request, found, reason=written, error=translate(REASON_NEEDED), status_code=400
        )
    if len(reason) > REASON_MAX:
        message = translated(gettext_for(request), REASON_TOO_LONG, {"num": len(reason), "limit": REASON_MAX})
        return await _request_page(request, found, reason=written, error=message, status_code=400)
    await work.refuse(
        db, crypto(request), found=found, reason=reason, staff_id=user.staff_id, actor=user.actor
    )
    await db.commit()
    return RedirectResponse(request.url_for("erasure_requests").path + "?refused=1", status_code=303)


routes = [
    page("/erasure", erasure_queue, name="erasure_requests", permission=Permission.ERASURE),
    page("/erasure/{request_id}", erasure_request, name="erasure_request", permission=Permission.ERASURE),
    action("/erasure/{request_id}/erase", carry_out, name="erasure_carry_out", permission=Permission.ERASURE),
    action("/erasure/{request_id}/refuse", refuse, name="erasure_refuse", permission=Permission.ERASURE),
]
