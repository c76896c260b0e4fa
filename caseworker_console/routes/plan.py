"""The integration plan tab: needs by urgency, goals, activities and progress reviews, each change
recorded with the beneficiary's agreement. Open once the case has entered intervention planning."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from caseworker_console import casework as work
from caseworker_console import formview, i18n
from caseworker_console.casetabs import Refused, audit_view, commit_change, tab_context
from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routing import action, identity_shown, page, request_case, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.viewmodels import plan as view
from caseworker_console.viewmodels.plan import LOCKED, Access, NeedView, ReviewView
from programme import plan as rules
from programme.forms import Form
from storage import casework
from storage import plan as store
from storage.models import utcnow


async def plan_access(request: Request) -> tuple[Access, str | None]:
    """How the {code} route's case's plan may be used now, and why not (a msgid)."""
    case = request_case(request)
    consent = view.needs_consent(case.stage) and await casework.has_casework_consent(
        database(request), case_id=case.id
    )
    return view.access_of(case.stage, consent=consent)


async def plan_views(request: Request) -> tuple[list[NeedView], list[ReviewView]]:
    """The case's plan in the reader's language: needs by rank with their goals and activities, and
    the progress reviews, newest first. The tab and the PDF show the same: for a reader who is not
    on the case (permissions.sees_identity) every text the caseworker wrote with the person is
    "Hidden", and nothing is decrypted."""
    db = database(request)
    translate = gettext_for(request)
    keys = crypto(request)
    hidden = None if identity_shown(request) else translate.gettext(formview.HIDDEN)

    def reveal(row: Any, column: str) -> str:
        return hidden if hidden is not None else store.text_of(keys, row, column)

    stored = await store.load_plan(db, case_id=request_case(request).id)
    rows = [*stored.needs, *stored.goals, *stored.activities, *stored.reviews]
    people = await casework.staff_by_id(db, ids=[row.changed_by for row in rows if row.changed_by])
    reader = view.Reader(
        translate=translate, locale=i18n.request_locale(request), zone=config(request).timezone, reveal=reveal
    )
    return view.build_plan(stored, people=people, reader=reader)


async def render(
    request: Request,
    *,
    failed: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The tab; `failed` names the form whose `values` and `errors` come back to be corrected."""
    translate = gettext_for(request)
    access, note = await plan_access(request)
    context = await tab_context(request, "plan")
    needs: list[NeedView] = []
    reviews: list[ReviewView] = []
    if access is not Access.LOCKED:
        needs, reviews = await plan_views(request)
    forms = view.build_forms(needs, view.Failed(failed, values or {}, errors or {}), translate)
    # Errors outside the form definitions: the agreement, a link to a need or goal, a date.
    other = {key: translate.gettext(msgid) for key, msgid in (errors or {}).items()}
    return pages(request).render(
        request,
        "plan.html",
        {
            **context,
            "locked": access is Access.LOCKED,
            "note": translate.gettext(note) if note else None,
            "can_change": context["can_write"] and access is Access.OPEN,
            "error": translate.gettext(error) if error else None,
            "saved": request.query_params.get("saved") == "1",
            "failed": failed,
            "values": values or {},
            "agreed_error": other.get("agreed"),
            "via_error": other.get("agreed_via"),
            "channels": list(view.labels(rules.AGREEMENT_CHANNELS, translate).items()),
            "edit_fields": forms.edits,
            "link_error": other.get("link"),
            "date_error": other.get("date"),
            "error_count": len(errors or {}),
            "needs": needs,
            "goals": [goal for need in needs for goal in need.goals],
            "reviews": reviews,
            "statuses": list(view.labels(rules.ACTIVITY_STATUSES, translate).items()),
            "need_fields": forms.need,
            "goal_fields": forms.goal,
            "activity_fields": forms.activity,
            "review_fields": forms.review,
            "today": dt.datetime.now(config(request).timezone).date().isoformat(),
        },
        status_code=status_code,
    )


async def plan_tab(request: Request) -> Response:
    db = database(request)
    access, _ = await plan_access(request)
    if access is Access.LOCKED:
        # Nothing of the person is shown, so nothing to audit: only why the plan is not open yet.
        response = await render(request, status_code=409)
    else:
        await audit_view(request, "plan")
        response = await render(request)
    await db.commit()
    return response


Change = Callable[[Request, FormData, dict[str, Any]], Awaitable[dict[str, Any] | str]]


async def _change(request: Request, name: str, form_def: Form, change: Change) -> Response:
    """Validate one plan form (with the agreement), run the change, audit it, bump the case's version.

    `change` returns the audit details, or an error key ("link", "date") when what the form points
    at is not part of this plan or its date is unreadable, or "referred" when a removal would take
    a referral's record with it.
    """
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    form = await request.form()
    raw = formview.submitted(form_def, form)
    answers, errors = rules.clean_change(
        form_def, raw, agreed=form.get("agreed"), agreed_via=form.get("agreed_via")
    )
    linked = ("need_id", "goal_id", "activity_id", "due_on", "reviewed_on", "agreed_via")
    echo = {**raw, **{key: form.get(key) for key in linked}}
    if errors:
        return await render(request, failed=name, values=echo, errors=errors, status_code=400)
    access, note = await plan_access(request)
    if access is not Access.OPEN:
        return await render(request, failed=name, values=echo, error=note or LOCKED, status_code=409)

    async def run() -> None:
        details = await change(request, form, answers)
        if details == "referred":
            raise Refused(rules.REFERRED)
        if isinstance(details, str):
            refused = {details: rules.NO_SUCH_PART if details == "link" else rules.NOT_A_DATE}
            raise Refused(errors=refused, status_code=400)
        await work.plan_changed(
            db, case=case, actor=user.actor, change=name, agreed_via=answers["agreed_via"], **details
        )

    return await commit_change(
        request,
        version=form.get("version"),
        change=run,
        render=functools.partial(render, failed=name),
        values=echo,
        tab="case_plan",
    )


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


async def add_need(request: Request) -> Response:
    async def change(request: Request, form: FormData, answers: dict[str, Any]) -> dict[str, Any] | str:
        need = await store.add_need(
            database(request),
            crypto(request),
            case=request_case(request),
            text=answers["text"],
            staff_id=signed_in_user(request).staff_id,
            at=utcnow(),
            via=answers["agreed_via"],
        )
        return {"need": str(need.id), "rank": need.rank}

    return await _change(request, "need", rules.NEED, change)


async def order_needs(request: Request) -> Response:
    async def change(request: Request, form: FormData, answers: dict[str, Any]) -> dict[str, Any] | str:
        db = database(request)
        current = (await store.load_plan(db, case_id=request_case(request).id)).needs
        by_id = {str(need.id): need for need in current}
        ranks = {need_id: form.get(f"rank-{need_id}") for need_id in by_id}
        order = rules.reorder(list(by_id), ranks)
        changed = await store.set_need_order(
            db,
            needs=[by_id[need_id] for need_id in order],
            staff_id=signed_in_user(request).staff_id,
            at=utcnow(),
            via=answers["agreed_via"],
        )
        return {"needs": order, "changed": changed}

    no_questions = Form(id="plan_order", version=1, title="", questions=())
    return await _change(request, "order", no_questions, change)


async def add_goal(request: Request) -> Response:
    async def change(request: Request, form: FormData, answers: dict[str, Any]) -> dict[str, Any] | str:
        db = database(request)
        case = request_case(request)
        need = await store.find_need(db, case=case, need_id=_text(form, "need_id"))
        if need is None:
            return "link"
        goal = await store.add_goal(
            db,
            crypto(request),
            case=case,
            need=need,
            term=answers["term"],
            text=answers["text"],
            staff_id=signed_in_user(request).staff_id,
            at=utcnow(),
            via=answers["agreed_via"],
        )
        return {"goal": str(goal.id), "need": str(need.id), "term": goal.term}

    return await _change(request, "goal", rules.GOAL, change)


async def add_activity(request: Request) -> Response:
    async def change(request: Request, form: FormData, answers: dict[str, Any]) -> dict[str, Any] | str:
        db = database(request)
        case = request_case(request)
        goal = await store.find_goal(db, case=case, goal_id=_text(form, "goal_id"))
        if goal is None:
            return "link"
        due_on, wrong = rules.parse_date(form.get("due_on"), required=False)
        if wrong:
            return "date"
        activity = await store.add_activity(
            db,
            crypto(request),
            case=case,
            goal=goal,
            text=answers["text"],
            service_area=answers["service_area"],
            due_on=due_on,
            who=answers.get("who"),
            status=answers["status"],
            staff_id=signed_in_user(request).staff_id,
            at=utcnow(),
            via=answers["agreed_via"],
        )
        return {
            "activity": str(activity.id),
            "goal": str(goal.id),
            "service_area": activity.service_area,
            "status": activity.status,
        }

    return await _change(request, "activity", rules.ACTIVITY, change)


async def activity_status(request: Request) -> Response:
    async def change(request: Request, form: FormData, answers: dict[str, Any]) -> dict[str, Any] | str:
        db = database(request)
        found = await store.find_activity(
            db, case=request_case(request), activity_id=_text(form, "activity_id")
        )
        if found is None:
            return "link"
        before = found.status
        await store.set_activity_status(
            db,
            activity=found,
            status=answers["status"],
            staff_id=signed_in_user(request).staff_id,
            at=utcnow(),
            via=answers["agreed_via"],
        )
        return {"activity": str(found.id), "from": before, "to": found.status}

    return await _change(request, "status", rules.ACTIVITY_STATUS, change)


async def add_review(request: Request) -> Response:
    async def change(request: Request, form: FormData, answers: dict[str, Any]) -> dict[str, Any] | str:
        reviewed_on, wrong = rules.parse_date(form.get("reviewed_on"), required=True)
        if wrong or reviewed_on is None:
            return "date"
        review = await store.add_review(
            database(request),
            crypto(request),
            case=request_case(request),
            reviewed_on=reviewed_on,
            note=answers["note"],
            staff_id=signed_in_user(request).staff_id,
            at=utcnow(),
            via=answers["agreed_via"],
        )
        return {"review": str(review.id)}

    return await _change(request, "review", rules.REVIEW, change)


async def edit_need(request: Request) -> Response:
    async def change(request: Request, form: FormData, answers: dict[str, Any]) -> dict[str, Any] | str:
        db = database(request)
        need = await store.find_need(db, case=request_case(request), need_id=_text(form, "need_id"))
        if need is None:
            return "link"
        await store.edit_need(
            db,
            crypto(request),
            need=need,
            text=answers["text"],
            staff_id=signed_in_user(request).staff_id,
            at=utcnow(),
            via=answers["agreed_via"],
        )
        return {"need": str(need.id)}

    return await _change(request, "edit-need", rules.EDIT_NEED, change)


async def edit_goal(request: Request) -> Response:
    async def change(request: Request, form: FormData, answers: dict[str, Any]) -> dict[str, Any] | str:
        db = database(request)
        goal = await store.find_goal(db, case=request_case(request), goal_id=_text(form, "goal_id"))
        if goal is None:
            return "link"
        before = goal.term
        await store.edit_goal(
            db,
            crypto(request),
            goal=goal,
            term=answers["term"],
            text=answers["text"],
            staff_id=signed_in_user(request).staff_id,
            at=utcnow(),
            via=answers["agreed_via"],
        )
        return {"goal": str(goal.id), "from": before, "to": goal.term}

    return await _change(request, "edit-goal", rules.EDIT_GOAL, change)


async def edit_activity(request: Request) -> Response:
    async def change(request: Request, form: FormData, answers: dict[str, Any]) -> dict[str, Any] | str:
        db = database(request)
        found = await store.find_activity(
            db, case=request_case(request), activity_id=_text(form, "activity_id")
        )
        if found is None:
            return "link"
        due_on, wrong = rules.parse_date(form.get("due_on"), required=False)
        if wrong:
            return "date"
        before = found.status
        await store.edit_activity(
            db,
            crypto(request),
            activity=found,
            text=answers["text"],
            service_area=answers["service_area"],
            due_on=due_on,
            who=answers.get("who"),
            status=answers["status"],
            staff_id=signed_in_user(request).staff_id,
            at=utcnow(),
            via=answers["agreed_via"],
        )
        return {
            "activity": str(found.id),
            "service_area": found.service_area,
            "from": before,
            "to": found.status,
        }

    return await _change(request, "edit-activity", rules.EDIT_ACTIVITY, change)


NOTHING_ASKED = Form(id="plan_delete", version=1, title="", questions=())


async def delete_need(request: Request) -> Response:
    """Remove a need with its goals and activities; the audit keeps which rows went, and when."""

    async def change(request: Request, form: FormData, answers: dict[str, Any]) -> dict[str, Any] | str:
        need = await store.find_need(
            database(request), case=request_case(request), need_id=_text(form, "need_id")
        )
        if need is None:
            return "link"
        goals = (await store.load_plan(database(request), case_id=need.case_id)).goals
        mine = [goal.id for goal in goals if goal.need_id == need.id]
        if await store.has_referrals(database(request), goals=mine):
            return "referred"
        need_id, rank = str(need.id), need.rank
        goals, activities = await store.delete_need(database(request), need=need)
        return {"need": need_id, "rank": rank, "goals": goals, "activities": activities}

    return await _change(request, "delete-need", NOTHING_ASKED, change)


async def delete_goal(request: Request) -> Response:
    async def change(request: Request, form: FormData, answers: dict[str, Any]) -> dict[str, Any] | str:
        goal = await store.find_goal(
            database(request), case=request_case(request), goal_id=_text(form, "goal_id")
        )
        if goal is None:
            return "link"
        if await store.has_referrals(database(request), goals=[goal.id]):
            return "referred"
        goal_id, need_id, term = str(goal.id), str(goal.need_id), goal.term
        activities = await store.delete_goal(database(request), goal=goal)
        return {"goal": goal_id, "need": need_id, "term": term, "activities": activities}

    return await _change(request, "delete-goal", NOTHING_ASKED, change)


async def delete_activity(request: Request) -> Response:
    async def change(request: Request, form: FormData, answers: dict[str, Any]) -> dict[str, Any] | str:
        found = await store.find_activity(
            database(request), case=request_case(request), activity_id=_text(form, "activity_id")
        )
        if found is None:
            return "link"
        if await store.has_referrals(database(request), activities=[found.id]):
            return "referred"
        details = {
            "activity": str(found.id),
            "goal": str(found.goal_id),
            "service_area": found.service_area,
            "status": found.status,
        }
        await store.delete_activity(database(request), activity=found)
        return details

    return await _change(request, "delete-activity", NOTHING_ASKED, change)


def _write(path: str, endpoint: Callable[[Request], Awaitable[Response]], name: str) -> Any:
    return action(f"/cases/{{code}}/plan/{path}", endpoint, name=name, permission=Permission.CASE_WRITE)


routes = [
    page("/cases/{code}/plan", plan_tab, name="case_plan", permission=Permission.CASE_READ),
    action("/cases/{code}/plan/needs", add_need, name="case_plan_need", permission=Permission.CASE_WRITE),
    action(
        "/cases/{code}/plan/needs/order",
        order_needs,
        name="case_plan_order",
        permission=Permission.CASE_WRITE,
    ),
    action("/cases/{code}/plan/goals", add_goal, name="case_plan_goal", permission=Permission.CASE_WRITE),
    action(
        "/cases/{code}/plan/activities",
        add_activity,
        name="case_plan_activity",
        permission=Permission.CASE_WRITE,
    ),
    action(
        "/cases/{code}/plan/activities/status",
        activity_status,
        name="case_plan_status",
        permission=Permission.CASE_WRITE,
    ),
    action(
        "/cases/{code}/plan/reviews", add_review, name="case_plan_review", permission=Permission.CASE_WRITE
    ),
    _write("needs/edit", edit_need, "case_plan_need_edit"),
    _write("needs/delete", delete_need, "case_plan_need_delete"),
    _write("goals/edit", edit_goal, "case_plan_goal_edit"),
    _write("goals/delete", delete_goal, "case_plan_goal_delete"),
    _write("activities/edit", edit_activity, "case_plan_activity_edit"),
    _write("activities/delete", delete_activity, "case_plan_activity_delete"),
]
