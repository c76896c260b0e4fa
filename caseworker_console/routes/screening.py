"""The screening tab: the bot's provisional answers, and the caseworker's Annex 2 confirmation."""

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
from programme.assessment import SCREENING_CONFIRMATION, clean_form, decision_needs_reason
from programme.cycle import Stage
from programme.forms import SCREENING
from programme.text import N_
from storage import casework
from storage.models import utcnow

FORM_IDS = (SCREENING.id, SCREENING_CONFIRMATION.id)
REASON_NEEDED = N_("Give a reason: your decision differs from the screening result.")
# Keys the console adds to a stored confirmation beside the answers (never typed by anyone).
META_KEYS = ("_caseworker_id", "_caseworker_name", "_at")


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
    latest = await casework.latest_answers(db, crypto(request), case_id=case.id, form_ids=FORM_IDS)
    bot = latest.get(SCREENING.id)
    confirmation = latest.get(SCREENING_CONFIRMATION.id)
    own = case_access(role=user.role, staff_id=user.staff_id, case=case) is CaseAccess.OWN
    identity = identity_shown(request)
    if values is None:
        # Start from the last confirmation, else from what the person told the bot.
        values = dict(confirmation[1] if confirmation else bot[1] if bot else {})
    people = await casework.staff_by_id(db, ids=[case.assigned_to] if case.assigned_to else [])
    confirmed_at = None
    if confirmation is not None:
        confirmed_at = i18n.format_local_datetime(
            confirmation[0].created_at, locale=locale, timezone=config(request).timezone
        )
    return pages(request).render(
        request,
        "screening.html",
        {
            "tab": "screening",
            "summary": await case_header(request, case, assignee=people.get(case.assigned_to or 0)),
            "error": translate.gettext(error) if error else None,
            "saved": request.query_params.get("saved") == "1",
            "provisional": case.provisionally_eligible,
            "bot_answers": formview.answers(SCREENING, bot[1], translate, identity=identity) if bot else None,
            "confirmation": formview.answers(
                SCREENING_CONFIRMATION, confirmation[1], translate, identity=identity
            )
            if confirmation
            else None,
            "confirmed_by": str(confirmation[1].get("_caseworker_name", "")) if confirmation else None,
            "confirmed_at": confirmed_at,
            "can_write": own and allows(user.role, Permission.CASE_WRITE) and case.stage != Stage.CLOSED,
            "fields": formview.fields(SCREENING_CONFIRMATION, translate, values=values, errors=errors),
            "error_count": len(errors or {}),
        },
        status_code=status_code,
    )


async def screening_tab(request: Request) -> Response:
    return await open_tab(request, "screening", render)


async def confirm(request: Request) -> Response:
    """Store the caseworker's Annex 2; an eligible decision moves the case on to the assessment."""
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    form = await request.form()
    raw = formview.submitted(SCREENING_CONFIRMATION, form)
    answers, errors = clean_form(SCREENING_CONFIRMATION, raw)
    overriding = not errors and decision_needs_reason(answers, provisional=case.provisionally_eligible)
    if overriding and not answers.get("decision_reason"):
        errors["decision_reason"] = REASON_NEEDED
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
            form_id=SCREENING_CONFIRMATION.id,
            form_version=SCREENING_CONFIRMATION.version,
            answers=signed(answers, user, now),
            actor=user.actor,
            at=now,
        )
        if answers["eligible"] == "yes" and case.stage in (Stage.NEW, Stage.SCREENING):
            if case.stage == Stage.NEW:
                await work.change_stage(db, case=case, to=Stage.SCREENING, actor=user.actor)
            await work.advance(db, crypto(request), case=case, to=Stage.INITIAL_ASSESSMENT, actor=user.actor)

    return await commit_change(
        request, version=form.get("version"), change=save, render=render, values=raw, tab="case_screening"
    )


routes = [
    page("/cases/{code}/screening", screening_tab, name="case_screening", permission=Permission.CASE_READ),
    action(
        "/cases/{code}/screening", confirm, name="case_screening_submit", permission=Permission.CASE_WRITE
    ),
]
