"""The adverse events tab (Annex 3): reports read only by the case's caseworker and supervisors;
recording one marks the case urgent and alerts them through the badge. It lists the case's alerts
too (urgent help, crisis words, adverse events), each with what the person wrote that raised it and
the crisis words that matched."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console import casework as work
from caseworker_console import formview, i18n
from caseworker_console.casetabs import CLOSED, commit_change, open_tab, tab_context
from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routing import action, identity_shown, page, request_case, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.views import ALERT_KINDS, local_time, staff_name
from programme.assessment import ADVERSE_EVENT, clean_adverse_event
from programme.cycle import Stage
from programme.text import N_
from storage import casework, staff_alerts
from storage.models_journey import Alert
from storage.queries import record_audit
from storage.sealing import unseal_json

# Crisis words in feedback given with the case alert it too; the feedback is kept apart, for the
# supervisors (bot.dialogs.feedback), never on the case.
IN_FEEDBACK = N_("Written in feedback given with the case: supervisors read it on the feedback page.")


@dataclasses.dataclass(frozen=True)
class AlertView:
    id: int
    kind: str
    raised: str
    # What was written with it ("" when nothing was; "Hidden" for a reader not on the case; None
    # for an adverse event, whose report is below).
    written: str | None
    words: list[str]
    opened: str | None  # "time, by whom"
    escalated: str | None
    acknowledged: str | None


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
    alerts = await alert_views(request)
    context = await tab_context(request, "adverse")
    return pages(request).render(
        request,
        "adverse.html",
        {
            **context,
            "error": translate.gettext(error) if error else None,
            "saved": request.query_params.get("saved") == "1",
            "open_alerts": sum(1 for alert in alerts if alert.acknowledged is None),
            "alerts": alerts,
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


async def alert_views(request: Request) -> list[AlertView]:
    """The case's alerts, with what raised them and the crisis words that matched for a reader who
    may see what the person wrote (permissions.sees_identity); nothing is decrypted for another."""
    db = database(request)
    translate = gettext_for(request)
    identity = identity_shown(request)
    found = await staff_alerts.case_alerts(db, case_id=request_case(request).id)
    people = await casework.staff_by_id(
        db, ids=[who for alert, _ in found for who in (alert.opened_by, alert.acknowledged_by) if who]
    )

    def when(at: dt.datetime | None, by: int | None = None) -> str | None:
        if at is None:
            return None
        name = staff_name(people.get(by or 0))
        return f"{local_time(request, at)}, {name}" if name else local_time(request, at)

    views = []
    for alert, message in found:
        body = (unseal_json(crypto(request), message, "body_enc") or {}) if message and identity else {}
        views.append(
            AlertView(
                id=alert.id,
                kind=translate.gettext(ALERT_KINDS.get(alert.kind, alert.kind)),
                raised=local_time(request, alert.created_at),
                written=_written(alert, body, translate.gettext)
                if identity or message is None
                else translate.gettext(formview.HIDDEN),
                words=[str(word) for word in body.get("crisis_words") or []],
                opened=when(alert.opened_at, alert.opened_by),
                escalated=when(alert.escalated_at),
                acknowledged=when(alert.acknowledged_at, alert.acknowledged_by),
            )
        )
    return views


def _written(alert: Alert, body: dict[str, Any], gettext: Callable[[str], str]) -> str | None:
    if alert.kind == ADVERSE_EVENT.id:
        return None
    if alert.message_id is None and alert.kind == "crisis_words":
        return gettext(IN_FEEDBACK)
    return str(body.get("text") or "")


async def adverse_tab(request: Request) -> Response:
    """The tab; the case's alerts nobody had opened are opened now (an urgent one opened in time is
    not escalated to every supervisor: outreach.staff_alerts). Only the case's own caseworker and
    the supervisors reach it (Permission.ADVERSE_READ)."""
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    opened = await staff_alerts.mark_opened(
        db, case_id=case.id, staff_id=user.staff_id, at=config(request).clock()
    )
    if opened:
        await record_audit(
            db,
            actor=user.actor,
            action="alerts.opened",
            object_type="case",
            object_id=case.code,
            details={"alerts": opened},
        )
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
    now = config(request).clock()
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
