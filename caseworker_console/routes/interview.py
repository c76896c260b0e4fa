"""The telephone interview tab (Annex 5): the bot's interview form for a caseworker on a call."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from caseworker_console import casework as work
from caseworker_console import formview, i18n
from caseworker_console.casetabs import CLOSED, commit_change, open_tab, signed, tab_context
from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routing import action, page, request_case, signed_in_user
from caseworker_console.templating import gettext_for, pages
from programme.assessment import TELEPHONE_INTERVIEW, clean_form
from programme.cycle import Stage
from programme.text import N_
from storage import casework

SOURCE_LABELS: dict[str, str] = {"bot": N_("the bot"), "console": N_("a call")}
# The outcome belongs to one call: the next call starts without it.
PER_CALL = ("call_outcome", "call_notes")


async def render(
    request: Request,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    db = database(request)
    case = request_case(request)
    translate = gettext_for(request)
    latest = (
        await casework.latest_answers(db, crypto(request), case_id=case.id, form_ids=[TELEPHONE_INTERVIEW.id])
    ).get(TELEPHONE_INTERVIEW.id)
    if values is None:
        values = {key: value for key, value in (latest[1] if latest else {}).items() if key not in PER_CALL}
    last = None
    if latest is not None:
        last = (
            translate.gettext(SOURCE_LABELS.get(latest[0].source, latest[0].source)),
            i18n.format_local_datetime(
                latest[0].created_at, locale=i18n.request_locale(request), timezone=config(request).timezone
            ),
        )
    context = await tab_context(request, "interview")
    return pages(request).render(
        request,
        "interview.html",
        {
            **context,
            "error": translate.gettext(error) if error else None,
            "saved": request.query_params.get("saved") == "1",
            "last": last,
            "answers": (
                formview.answers(TELEPHONE_INTERVIEW, latest[1], translate, identity=context["identity"])
                if latest
                else []
            ),
            "fields": formview.fields(
                TELEPHONE_INTERVIEW, translate, values=values, errors=errors, short_labels=True
            ),
            "error_count": len(errors or {}),
        },
        status_code=status_code,
    )


async def interview_tab(request: Request) -> Response:
    return await open_tab(request, "interview", render)


async def save(request: Request) -> Response:
    """Store the call as a new interview response (source "console"); the bot's answers stay as history."""
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    form = await request.form()
    raw = formview.submitted(TELEPHONE_INTERVIEW, form)
    answers, errors = clean_form(TELEPHONE_INTERVIEW, raw)
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
            form_id=TELEPHONE_INTERVIEW.id,
            form_version=TELEPHONE_INTERVIEW.version,
            answers=signed(answers, user, now),
            actor=user.actor,
            at=now,
        )

    return await commit_change(
        request, version=form.get("version"), change=save, render=render, values=raw, tab="case_interview"
    )


routes = [
    page("/cases/{code}/interview", interview_tab, name="case_interview", permission=Permission.CASE_READ),
    action("/cases/{code}/interview", save, name="case_interview_submit", permission=Permission.CASE_WRITE),
]
