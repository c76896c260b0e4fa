"""The initial assessment tab (Annex 1): rendered from its definition, prefilled from the bot's answers."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from caseworker_console import casework as work
from caseworker_console import formview, i18n
from caseworker_console.casetabs import CLOSED, commit_change, open_tab, signed
from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.permissions import CaseAccess, Permission, allows, case_access
from caseworker_console.routing import action, identity_shown, page, request_case, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.viewmodels.assessment import SOURCE_FORMS, build_assessment
from caseworker_console.views import case_header
from programme.assessment import (
    INITIAL_ASSESSMENT,
    clean_form,
)
from programme.cycle import Stage
from storage import casework


async def render(
    request: Request,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    translate = gettext_for(request)
    latest = await casework.latest_answers(
        db, crypto(request), case_id=case.id, form_ids=(INITIAL_ASSESSMENT.id, *SOURCE_FORMS)
    )
    tab = build_assessment(
        latest,
        case_source=case.source,
        typed=values,
        errors=errors,
        identity=identity_shown(request),
        translate=translate,
        locale=i18n.request_locale(request),
        zone=config(request).timezone,
    )
    own = case_access(role=user.role, staff_id=user.staff_id, case=case) is CaseAccess.OWN
    can_write = own and allows(user.role, Permission.CASE_WRITE) and case.stage != Stage.CLOSED
    people = await casework.staff_by_id(db, ids=[case.assigned_to] if case.assigned_to else [])
    return pages(request).render(
        request,
        "assessment.html",
        {
            "tab": "assessment",
            "summary": await case_header(request, case, assignee=people.get(case.assigned_to or 0)),
            "error": translate.gettext(error) if error else None,
            "saved": request.query_params.get("saved") == "1",
            "saved_note": tab.saved_note,
            "can_write": can_write,
            "sections": tab.sections,
            "answers": tab.answers,
            "compiler": user.display_name,
            "error_count": len(errors or {}),
        },
        status_code=status_code,
    )


async def assessment_tab(request: Request) -> Response:
    return await open_tab(request, "initial_assessment", render)


async def save(request: Request) -> Response:
    """Store the whole form as a new version; the previous ones stay as its history."""
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    form = await request.form()
    raw = formview.submitted(INITIAL_ASSESSMENT, form)
    answers, errors = clean_form(INITIAL_ASSESSMENT, raw)
    if errors:
        return await render(request, values=raw, errors=errors, status_code=400)
    if case.stage == Stage.CLOSED:
        return await render(request, values=raw, error=CLOSED, status_code=400)
    now = config(request).clock()

    async def save() -> None:
        await work.save_form(
            db,
            crypto(request),
            case=case,
            form_id=INITIAL_ASSESSMENT.id,
            form_version=INITIAL_ASSESSMENT.version,
            answers=signed(answers, user, now),
            actor=user.actor,
            at=now,
        )

    return await commit_change(
        request, version=form.get("version"), change=save, render=render, values=raw, tab="case_assessment"
    )


routes = [
    page("/cases/{code}/assessment", assessment_tab, name="case_assessment", permission=Permission.CASE_READ),
    action("/cases/{code}/assessment", save, name="case_assessment_submit", permission=Permission.CASE_WRITE),
]
