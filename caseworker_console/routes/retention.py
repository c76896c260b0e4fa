"""Retention for supervisors: the cases the purge will erase in the next 30 days, and legal holds
(put on with a written reason and a review date, lifted), all audited. The case travels in the
form, not the path: a code that names no case is answered with a message, like any other mistake."""

from __future__ import annotations

import dataclasses
import datetime as dt
from urllib.parse import urlencode

from babel.numbers import format_decimal
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console import i18n
from caseworker_console.config import config, crypto, today
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routing import action, page, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.views import staff_name, stage_label
from programme.consent import period
from programme.retention import HOLD_REASON_MAX, HoldRefused, check_hold
from programme.text import N_
from storage import casework, retention
from storage.models import Case, utcnow
from storage.models_retention import LegalHold
from storage.queries import record_audit
from storage.sealing import open_value

# "This month": what the purge will erase within this many days.
DUE_WITHIN = dt.timedelta(days=30)
RULE_LABELS: dict[str, str] = {
    "closed": N_("Closed on %(date)s"),
    "unenrolled": N_("Never enrolled; no contact since %(date)s"),
}
NO_SUCH_CASE = N_("No case has the code %(code)s. Check the code: nothing was saved.")
ALREADY_HELD = N_(
    "This case is already on legal hold, with a review on %(date)s. Lift that hold first to change it."
)
NOTICES: dict[str, str] = {
    "held": N_("Case %(code)s is on legal hold. The purge will not erase it."),
    "lifted": N_("The legal hold on case %(code)s is lifted. The purge may erase it from its next run."),
    "not_held": N_("Case %(code)s was not on legal hold."),
}


@dataclasses.dataclass(frozen=True)
class DueView:
    code: str
    stage: str
    why: str
    due: str
    due_iso: str
    overdue: bool


@dataclasses.dataclass(frozen=True)
class HeldView:
    code: str
    stage: str
    review: str
    review_iso: str
    review_due: bool


def _reason(request: Request, hold: LegalHold) -> str:
    return open_value(crypto(request), LegalHold.__tablename__, "reason_enc", hold.id, hold.reason_enc) or ""


def _today(request: Request) -> dt.date:
    return today(request)


async def overview(request: Request) -> Response:
    """The cases due for erasure in the next 30 days and the cases on hold: codes, stages and dates,
    nothing that names a person, so the page itself is not a read of personal data."""
    db = database(request)
    translate = gettext_for(request)
    locale = i18n.request_locale(request)
    zone = config(request).timezone
    now = config(request).clock()
    due = await retention.due_for_erasure(db, policy=config(request).retention, now=now, within=DUE_WITHIN)
    held = await retention.held_cases(db)
    today = _today(request)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    code = request.query_params.get("case", "")[:20]
    if notice and await _find(request, code) is None:
        notice = None  # a link made up elsewhere says nothing about a case that does not exist
    return pages(request).render(
        request,
        "retention.html",
        {
            "active": "retention",
            "notice": translate.gettext(notice) % {"code": code} if notice else None,
            "due": [
                DueView(
                    code=row.code,
                    stage=stage_label(row.stage, translate),
                    why=translate.gettext(RULE_LABELS[row.rule])
                    % {"date": i18n.format_day(row.since.astimezone(zone).date(), locale=locale)},
                    due=i18n.format_day(max(row.due, now).astimezone(zone).date(), locale=locale),
                    due_iso=max(row.due, now).astimezone(zone).date().isoformat(),
                    overdue=row.due <= now,
                )
                for row in due
            ],
            "held": [
                HeldView(
                    code=row.code,
                    stage=stage_label(row.stage, translate),
                    review=i18n.format_day(row.review_on, locale=locale),
                    review_iso=row.review_on.isoformat(),
                    review_due=row.review_on <= today,
                )
                for row in held
            ],
            "closed": period(gettext_for(request).ngettext, config(request).retention.closed_days),
            "unenrolled": period(gettext_for(request).ngettext, config(request).retention.unenrolled_days),
        },
    )


async def _find(request: Request, code: str) -> Case | None:
    code = code.strip()
    return await casework.find_case(database(request), code=code) if 0 < len(code) <= 20 else None


async def _render_hold(
    request: Request,
    *,
    code: str,
    case: Case | None,
    values: dict[str, str] | None = None,
    error: str | None = None,
    error_values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    db = database(request)
    translate = gettext_for(request)
    locale = i18n.request_locale(request)
    hold = await retention.hold_of(db, case_id=case.id) if case is not None else None
    current = None
    if hold is not None and case is not None:
        people = await casework.staff_by_id(db, ids=[hold.placed_by] if hold.placed_by else [])
        current = {
            "reason": _reason(request, hold),
            "review": i18n.format_day(hold.review_on, locale=locale),
            "review_iso": hold.review_on.isoformat(),
            "placed": i18n.format_local_datetime(
                hold.placed_at, locale=locale, timezone=config(request).timezone
            ),
            "placed_by": staff_name(people.get(hold.placed_by or 0)),
        }
        # The reason may name a court case or a person: reading it is recorded.
        await record_audit(
            db,
            actor=signed_in_user(request).actor,
            action="hold.viewed",
            object_type="case",
            object_id=case.code,
            details={},
        )
        await db.commit()
    return pages(request).render(
        request,
        "legal_hold.html",
        {
            "active": "retention",
            "code": code,
            "case": case,
            "stage": stage_label(case.stage, translate) if case is not None else None,
            "current": current,
            "values": values or {"reason": "", "review_on": ""},
            "error": translate.gettext(error) % (error_values or {}) if error else None,
            "reason_max": HOLD_REASON_MAX,
            "reason_max_shown": format_decimal(HOLD_REASON_MAX, locale=locale),
            "min_review": (_today(request) + dt.timedelta(days=1)).isoformat(),
        },
        status_code=status_code,
    )


async def hold_form(request: Request) -> Response:
    """A case's hold: the form to put it on, or the hold it has (its reason read, and audited)."""
    code = request.query_params.get("case", "")[:40]
    if not code:
        return RedirectResponse(request.url_for("retention").path, status_code=303)
    case = await _find(request, code)
    if case is None:
        return await _render_hold(
            request, code=code, case=None, error=NO_SUCH_CASE, error_values={"code": code}, status_code=404
        )
    return await _render_hold(request, code=case.code, case=case)


def _done(request: Request, notice: str, code: str) -> Response:
    query = urlencode({"notice": notice, "case": code})
    return RedirectResponse(f"{request.url_for('retention').path}?{query}", status_code=303)


async def place(request: Request) -> Response:
    """Put a case on legal hold. Every refusal keeps what was typed, in full."""
    db = database(request)
    user = signed_in_user(request)
    form = await request.form()
    code = str(form.get("case", ""))[:40]
    values = {"reason": str(form.get("reason", "")), "review_on": str(form.get("review_on", ""))[:40]}
    case = await _find(request, code)
    if case is None:
        return await _render_hold(
            request,
            code=code,
            case=None,
            values=values,
            error=NO_SUCH_CASE,
            error_values={"code": code},
            status_code=400,
        )
    try:
        reason, review_on = check_hold(
            reason=values["reason"], review_on=values["review_on"], today=_today(request)
        )
    except HoldRefused as refused:
        return await _render_hold(
            request, code=case.code, case=case, values=values, error=refused.message, status_code=400
        )
    case_id, code = case.id, case.code
    existing: LegalHold | None = None
    try:
        await retention.place_hold(
            db,
            crypto(request),
            case=case,
            reason=reason,
            review_on=review_on,
            staff_id=user.staff_id,
            actor=user.actor,
            now=utcnow(),
        )
        await db.commit()
    except retention.HoldExists as held:
        existing = held.hold
    except IntegrityError:  # the same case held by a request that committed first
        await db.rollback()
        existing = await retention.hold_of(db, case_id=case_id)
        case = await _find(request, code) or case
    else:
        return _done(request, "held", code)
    same = existing is not None and (existing.review_on, existing.placed_by) == (review_on, user.staff_id)
    if same and existing is not None and _reason(request, existing) == reason:
        return _done(request, "held", code)  # the same form sent twice: done once
    review = i18n.format_day(existing.review_on, locale=i18n.request_locale(request)) if existing else ""
    return await _render_hold(
        request,
        code=code,
        case=case,
        values=values,
        error=ALREADY_HELD,
        error_values={"date": review},
        status_code=409,
    )


async def lift(request: Request) -> Response:
    """Lift a case's hold (audited); lifting one already lifted says so and changes nothing."""
    db = database(request)
    form = await request.form()
    code = str(form.get("case", ""))[:40]
    case = await _find(request, code)
    if case is None:
        return await _render_hold(
            request, code=code, case=None, error=NO_SUCH_CASE, error_values={"code": code}, status_code=400
        )
    lifted = await retention.lift_hold(db, case=case, actor=signed_in_user(request).actor)
    await db.commit()
    return _done(request, "lifted" if lifted else "not_held", case.code)


routes = [
    page("/retention", overview, name="retention", permission=Permission.LEGAL_HOLD),
    page("/retention/hold", hold_form, name="legal_hold_form", permission=Permission.LEGAL_HOLD),
    action("/retention/hold", place, name="legal_hold", permission=Permission.LEGAL_HOLD),
    action("/retention/lift", lift, name="legal_hold_lift", permission=Permission.LEGAL_HOLD),
]
