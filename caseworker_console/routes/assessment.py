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
from caseworker_console.views import case_header
from programme.assessment import (
    INITIAL_ASSESSMENT,
    INITIAL_ASSESSMENT_PREFILL,
    INITIAL_ASSESSMENT_SECTIONS,
    clean_form,
    prefill_answers,
)
from programme.cycle import Stage
from programme.text import N_
from storage import casework
from storage.models import utcnow

# Where a prefilled value came from, as the caseworker reads it.
SOURCE_NOTES: dict[str, str] = {
    "screening": N_("From the bot's screening: check it with the person."),
    "screening_confirmation": N_("From the confirmed screening."),
    "case": N_("From the case record."),
}
UNKNOWN_SOURCE = N_("From an earlier form.")
SOURCE_FORMS = tuple({rule.form_id for rule in INITIAL_ASSESSMENT_PREFILL} - {"case"})


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
    locale = i18n.request_locale(request)
    latest = await casework.latest_answers(
        db, crypto(request), case_id=case.id, form_ids=(INITIAL_ASSESSMENT.id, *SOURCE_FORMS)
    )
    saved = latest.get(INITIAL_ASSESSMENT.id)
    sources: dict[str, str] = {}
    if values is None:
        values = dict(saved[1]) if saved else {}
        earlier = {form_id: answers for form_id, (_, answers) in latest.items()}
        earlier["case"] = {"source": case.source}
        for question_id, (value, form_id) in prefill_answers(earlier).items():
            if question_id not in values:
                values[question_id] = value
                sources[question_id] = translate.gettext(SOURCE_NOTES.get(form_id, UNKNOWN_SOURCE))
    own = case_access(role=user.role, staff_id=user.staff_id, case=case) is CaseAccess.OWN
    can_write = own and allows(user.role, Permission.CASE_WRITE) and case.stage != Stage.CLOSED
    people = await casework.staff_by_id(db, ids=[case.assigned_to] if case.assigned_to else [])
    sections = [
        (
            translate.gettext(section.title),
            formview.fields(
                INITIAL_ASSESSMENT,
                translate,
                values=values,
                errors=errors,
                sources=sources,
                only=section.question_ids,
            ),
        )
        for section in INITIAL_ASSESSMENT_SECTIONS
    ]
    saved_note = None
    if saved is not None:
        saved_note = (
            str(saved[1].get("_caseworker_name", "")),
            i18n.format_local_datetime(saved[0].created_at, locale=locale, timezone=config(request).timezone),
        )
    return pages(request).render(
        request,
        "assessment.html",
        {
            "tab": "assessment",
            "summary": await case_header(request, case, assignee=people.get(case.assigned_to or 0)),
            "error": translate.gettext(error) if error else None,
            "saved": request.query_params.get("saved") == "1",
            "saved_note": saved_note,
            "can_write": can_write,
            "sections": sections,
            "answers": (
                formview.answers(INITIAL_ASSESSMENT, saved[1], translate, identity=identity_shown(request))
                if saved
                else []
            ),
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
    now = utcnow()

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
