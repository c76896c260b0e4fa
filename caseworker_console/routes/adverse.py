"""The adverse events tab (Annex 3): reports read only by the case's caseworker and supervisors;
recording one marks the case urgent and alerts them through the badge."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console import casework as work
from caseworker_console import formview, i18n
from caseworker_console.casetabs import CLOSED, commit_change, open_tab, tab_context
from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routing import action, page, request_case, signed_in_user
from caseworker_console.templating import gettext_for, pages
from programme.assessment import ADVERSE_EVENT, clean_adverse_event
from programme.cycle import Stage
from storage import casework
from storage.models import utcnow


@dataclasses.dataclass(frozen=True)
class ReportView:
    id: str
    reported: str
    reported_by: str
    answers: list[formview.AnswerView]


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
    locale = i18n.request_locale(request)
    reports = await casework.form_responses(db, crypto(request), case_id=case.id, form_id=ADVERSE_EVENT.id)
    alerts = await casework.open_alerts(db, case_id=case.id)
    context = await tab_context(request, "adverse")
    return pages(request).render(
        request,
        "adverse.html",
        {
            **context,
            "error": translate.gettext(error) if error else None,
            "saved": request.query_params.get("saved") == "1",
            "open_alerts": len(alerts),
            "reports": [
                ReportView(
                    id=str(row.id),
                    reported=i18n.format_local_datetime(
                        row.created_at, locale=locale, timezone=config(request).timezone
                    ),
                    reported_by=str(answers.get("_caseworker_name") or "—"),
                    answers=formview.answers(ADVERSE_EVENT, answers, translate, identity=context["identity"]),
                )
                for row, answers in reports
            ],
            "fields": formview.fields(ADVERSE_EVENT, translate, values=values or {}, errors=errors),
            "error_count": len(errors or {}),
        },
        status_code=status_code,
    )


async def adverse_tab(request: Request) -> Response:
    return await open_tab(request, "adverse_events", render)


async def record(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    form = await request.form()
    raw = formview.submitted(ADVERSE_EVENT, form)
    answers, errors = clean_adverse_event(raw)
    if errors:
        return await render(request, values=raw, errors=errors, status_code=400)
    if case.stage == Stage.CLOSED:
        return await render(request, values=raw, error=CLOSED, status_code=400)
    now = utcnow()
    stored = {**answers, "_caseworker_id": user.staff_id, "_caseworker_name": user.display_name}

    async def save() -> None:
        await work.record_adverse_event(
            db, crypto(request), case=case, answers=stored, actor=user.actor, at=now
        )

    return await commit_change(
        request, version=form.get("version"), change=save, render=render, values=raw, tab="case_adverse"
    )


async def acknowledge(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    await work.acknowledge_alerts(db, case=case, staff_id=user.staff_id, actor=user.actor)
    await db.commit()
    return RedirectResponse(request.url_for("case_adverse", code=case.code).path, status_code=303)


routes = [
    page("/cases/{code}/adverse", adverse_tab, name="case_adverse", permission=Permission.ADVERSE_READ),
    action("/cases/{code}/adverse", record, name="case_adverse_submit", permission=Permission.CASE_WRITE),
    action(
        "/cases/{code}/adverse/acknowledge",
        acknowledge,
        name="case_adverse_acknowledge",
        permission=Permission.CASE_WRITE,
    ),
]
