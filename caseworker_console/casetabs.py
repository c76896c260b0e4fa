"""What every tab of a case file needs: its header, and whether the reader may change the case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console import casework as work
from caseworker_console.auth import ConsoleUser
from caseworker_console.database import database
from caseworker_console.permissions import CaseAccess, Permission, allows, case_access
from caseworker_console.routing import identity_shown, request_case, signed_in_user
from caseworker_console.routing import saved as saved_page
from caseworker_console.views import case_header
from programme.cycle import Stage
from programme.text import N_
from storage import casework
from storage.queries import record_audit

CLOSED = N_("This case is closed. Reopen it first.")
# A tab's page: render(request, values=…, errors=…, error=…, status_code=…).
Render = Callable[..., Awaitable[Response]]


async def tab_context(request: Request, tab: str) -> dict[str, Any]:
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    own = case_access(role=user.role, staff_id=user.staff_id, case=case) is CaseAccess.OWN
    people = await casework.staff_by_id(db, ids=[case.assigned_to] if case.assigned_to else [])
    return {
        "tab": tab,
        "summary": await case_header(request, case, assignee=people.get(case.assigned_to or 0)),
        "own": own,
        # Name, phone, what was written and the conversation (permissions.sees_identity).
        "identity": identity_shown(request),
        "can_write": own and allows(user.role, Permission.CASE_WRITE) and case.stage != Stage.CLOSED,
    }


async def audit_view(request: Request, part: str) -> None:
    """A tab with personal data was opened: the same entry the overview and the forms write."""
    await record_audit(
        database(request),
        actor=signed_in_user(request).actor,
        action="case.viewed",
        object_type="case",
        object_id=request_case(request).code,
        details={"part": part},
    )


async def open_tab(request: Request, part: str, render: Render) -> Response:
    """Show a tab with personal data; the viewing is audited in the same transaction."""
    await audit_view(request, part)
    response = await render(request)
    await database(request).commit()
    return response


def signed(answers: dict[str, Any], user: ConsoleUser, at: dt.datetime) -> dict[str, Any]:
    """A form's answers with who filled them in and when, as every Annex keeps them."""
    return {
        **answers,
        "_caseworker_id": user.staff_id,
        "_caseworker_name": user.display_name,
        "_at": at.isoformat(),
    }


class Refused(Exception):
    """A change that cannot be made as asked: nothing is saved and the page says why.

    `error` is a msgid shown at the top; `shown` goes to the page's render as it is (`errors` by
    field, `failed` for the form that failed, ...).
    """

    def __init__(self, error: str | None = None, *, status_code: int = 409, **shown: Any) -> None:
        super().__init__(error)
        self.status_code = status_code
        self.shown = {**({"error": error} if error is not None else {}), **shown}


async def commit_change(
    request: Request,
    *,
    version: object,
    change: Callable[[], Awaitable[object]],
    render: Render,
    tab: str,
    values: dict[str, Any] | None = None,
    saved: bool = True,
    fragment: str = "",
) -> Response:
    """The one way a case's page saves a change made on a page showing `version` of the case.

    The version is checked, `change` runs (it may raise Refused), the change is committed and the
    browser goes to the page `tab` (303), with "saved" to say so. A stale page (409) or a refused
    change saves nothing: the page comes again with `values` as they were typed and why.
    """
    db = database(request)
    case = request_case(request)
    try:
        work.expect_version(case, version)
        await change()
    except work.StaleCase:
        refused = Refused(work.STALE_MESSAGE)
    except Refused as error:
        refused = error
    else:
        await db.commit()
        if saved:
            return saved_page(request, tab, code=case.code)
        return RedirectResponse(request.url_for(tab, code=case.code).path + fragment, status_code=303)
    await work.discard(db, case)
    kept = {} if values is None else {"values": values}
    return await render(request, **kept, **refused.shown, status_code=refused.status_code)
