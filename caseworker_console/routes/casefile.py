"""The case file's overview: the case at a glance, identity behind an audited reveal, stage controls."""

from __future__ import annotations

import dataclasses

from starlette.requests import Request
from starlette.responses import Response

from caseworker_console import casework as work
from caseworker_console import i18n
from caseworker_console.casetabs import open_tab
from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.permissions import CaseAccess, Permission, allows, case_access
from caseworker_console.routing import action, identity_shown, page, request_case, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.views import case_header, stage_label
from programme import cycle
from programme.assessment import TERMINATION_REASONS
from programme.priority import PRIORITY_GROUPS
from storage import casework
from storage.queries import record_audit
from storage.sealing import unseal


@dataclasses.dataclass(frozen=True)
class Identity:
    name: str | None
    phone: str | None


async def render_overview(
    request: Request, *, identity: Identity | None = None, error: str | None = None, status_code: int = 200
) -> Response:
    """The overview page; `error` is a msgid (a refused move, a stale form) shown at the top."""
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    translate = gettext_for(request)
    access = case_access(role=user.role, staff_id=user.staff_id, case=case)
    own = access is CaseAccess.OWN
    people = await casework.staff_by_id(db, ids=[case.assigned_to] if case.assigned_to else [])
    facts = await work.facts(db, crypto(request), case=case)
    upcoming = cycle.next_stage(facts.stage)
    refusal = None
    if upcoming is not None:
        try:
            cycle.check_advance(facts, upcoming)
        except cycle.TransitionRefused as refused:
            refusal = translate.gettext(refused.message)
    closure = await casework.latest_closure(db, case_id=case.id) if case.stage == "closed" else None
    assignees = []
    if allows(user.role, Permission.CASE_ASSIGN):
        for role in ("caseworker", "supervisor"):
            assignees.extend(await casework.active_staff(db, role=role))
    locale = i18n.request_locale(request)
    from_bot, flagged = (await casework.priority_groups(db, crypto(request), cases=[case]))[case.id]
    return pages(request).render(
        request,
        "case.html",
        {
            "tab": "overview",
            "summary": await case_header(request, case, assignee=people.get(case.assigned_to or 0)),
            "error": translate.gettext(error) if error else None,
            "identity": identity,
            "can_reveal": identity_shown(request),
            "can_write": own and allows(user.role, Permission.CASE_WRITE),
            "can_take": case.assigned_to is None and case.stage != "closed",
            "assignees": assignees,
            "priority_groups": [
                (code, translate.gettext(label), code in from_bot, code in flagged)
                for code, label in PRIORITY_GROUPS.items()
            ],
            "next_stage": (upcoming.value, stage_label(upcoming, translate)) if upcoming else None,
            "refusal": refusal,
            "reasons": [(option.value, translate.gettext(option.label)) for option in TERMINATION_REASONS],
            "closure_reason": (
                translate.gettext(cycle.TERMINATION_LABELS[cycle.TerminationReason(closure.reason)])
                if closure and closure.reason in set(cycle.TerminationReason)
                else None
            ),
            "closed_at": (
                i18n.format_local_datetime(
                    closure.closed_at, locale=locale, timezone=config(request).timezone
                )
                if closure
                else None
            ),
        },
        status_code=status_code,
    )


async def overview(request: Request) -> Response:
    return await open_tab(request, "overview", render_overview)


async def reveal_identity(request: Request) -> Response:
    """Decrypt name and phone for this one response; each reveal is in the audit log."""
    db = database(request)
    case = request_case(request)
    keys = crypto(request)
    beneficiary = await casework.beneficiary_of(db, case=case)
    identity = Identity(
        name=unseal(keys, beneficiary, "name_enc"), phone=unseal(keys, beneficiary, "phone_enc")
    )
    await record_audit(
        db,
        actor=signed_in_user(request).actor,
        action="identity.revealed",
        object_type="case",
        object_id=case.code,
        details={},
    )
    # Committed before the page is sent: no reveal without its audit entry.
    await db.commit()
    response = await render_overview(request, identity=identity)
    response.headers["Cache-Control"] = "no-store"
    return response


routes = [
    page("/cases/{code}", overview, name="case", permission=Permission.CASE_READ),
    action("/cases/{code}/identity", reveal_identity, name="case_identity", permission=Permission.IDENTITY),
]
