"""What every tab of a case file needs: its header, and whether the reader may change the case."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from caseworker_console.database import database
from caseworker_console.permissions import CaseAccess, Permission, allows, case_access
from caseworker_console.routing import request_case, signed_in_user
from caseworker_console.views import case_summary
from programme.cycle import Stage
from storage import casework
from storage.queries import record_audit


async def tab_context(request: Request, tab: str) -> dict[str, Any]:
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    own = case_access(role=user.role, staff_id=user.staff_id, case=case) is CaseAccess.OWN
    people = await casework.staff_by_id(db, ids=[case.assigned_to] if case.assigned_to else [])
    return {
        "tab": tab,
        "summary": case_summary(request, case, assignee=people.get(case.assigned_to or 0)),
        "own": own,
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
