"""The integration plan tab: needs by urgency, goals, activities and progress reviews, each change
recorded with the beneficiary's agreement. Open once the case has entered intervention planning."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
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
from caseworker_console.views import staff_name
from programme import plan as rules
from programme.cycle import Stage, stage_of
from programme.forms import SERVICE_AREAS, Form
from programme.text import N_
from storage import casework
from storage import plan as store
from storage.models import utcnow

LOCKED = N_(
    "The integration plan opens once the case has moved on to intervention planning, which needs "
    "the beneficiary's consent to share their data for case work."
)
NO_CONSENT = N_(
    "The beneficiary's current consent does not allow case work: the plan can be read but not changed."
)
CLOSED = N_("This case is closed. Reopen it first.")


class Access(enum.Enum):
    LOCKED = "locked"  # before intervention planning: nothing to show
    READ = "read"  # closed, or consent for case work withdrawn: shown, not changed
    OPEN = "open"


async def plan_access(request: Request) -> tuple[Access, str | None]:
    case = request_case(request)
    try:
        stage = stage_of(case.stage)
    except ValueError:
        return Access.LOCKED, LOCKED
    if stage is Stage.CLOSED:
        return Access.READ, CLOSED
    if stage not in rules.PLAN_STAGES:
        return Access.LOCKED, LOCKED
    if not await casework.has_casework_consent(database(request), case_id=case.id):
        return Access.READ, NO_CONSENT
    return Access.OPEN, None


@dataclasses.dataclass(frozen=True)
class Agreement:
    by: str | None
    at: str
    how: str | None  # in person, by phone, through the bot; None for entries made before it was asked


@dataclasses.dataclass(frozen=True)
class ActivityView:
    id: str
    text: str
    area: str
    area_code: str
    due: str | None
    due_iso: str | None
    who: str | None
    status: str
    status_code: str
    agreement: Agreement


@dataclasses.dataclass(frozen=True)
class GoalView:
    id: str
    term: str
    term_code: str
    text: str
    agreement: Agreement
    activities: list[ActivityView]


@dataclasses.dataclass(frozen=True)
class NeedView:
    id: str
    rank: int
    text: str
    agreement: Agreement
    goals: list[GoalView]


@dataclasses.dataclass(frozen=True)
class ReviewView:
    on: str
    on_iso: str
    note: str
    agreement: Agreement


def _labels(options: Any, translate: Any) -> dict[str, str]:
    return {option.value: translate.gettext(option.label) for option in options}


async def plan_views(request: Request) -> tuple[list[NeedView], list[ReviewView]]:
    """The case's plan in the reader's language: needs by rank with their goals and activities, and
    the progress reviews, newest first. The tab and the PDF show the same: for a reader who is not
    on the case (permissions.sees_identity) every text the caseworker wrote with the person is
    "Hidden", and nothing is decrypted."""
    db = database(request)
    case = request_case(request)
    translate = gettext_for(request)
    locale = i18n.request_locale(request)
    zone = config(request).timezone
    keys = crypto(request)
    hidden = None if identity_shown(request) else translate.gettext(formview.HIDDEN)

    def text(row: Any, column: str) -> str:
        return hidden if hidden is not None else store.text_of(keys, row, column)

    stored = await store.load_plan(db, case_id=case.id)
    rows = [*stored.needs, *stored.goals, *stored.activities, *stored.reviews]
    people = await casework.staff_by_id(db, ids=[row.changed_by for row in rows if row.changed_by])
    terms = _labels(rules.GOAL_TERMS, translate)
    statuses = _labels(rules.ACTIVITY_STATUSES, translate)
    areas = _labels(SERVICE_AREAS, translate)
    channels = _labels(rules.AGREEMENT_CHANNELS, translate)

    def agreement(row: Any) -> Agreement:
        when = i18n.format_local_datetime(row.changed_at, locale=locale, timezone=zone)
        how = channels.get(row.agreed_via) if row.agreed_via else None
        return Agreement(by=staff_name(people.get(row.changed_by or 0)), at=when, how=how)

    def day(value: dt.date | None) -> str | None:
        return None if value is None else i18n.format_day(value, locale=locale)

    activities: dict[Any, list[ActivityView]] = {}
    for row in stored.activities:
        activities.setdefault(row.goal_id, []).append(
            ActivityView(
                id=str(row.id),
                text=text(row, "text_enc"),
                area=areas.get(row.service_area, row.service_area),
                area_code=row.service_area,
                due=day(row.due_on),
                due_iso=row.due_on.isoformat() if row.due_on else None,
                who=(text(row, "who_enc") or None) if row.who_enc is not None else None,
                status=statuses.get(row.status, row.status),
                status_code=row.status,
                agreement=agreement(row),
            )
        )
    goals: dict[Any, list[GoalView]] = {}
    # Short-term goals first under each need: they are what happens next.
    for row in sorted(stored.goals, key=lambda goal: goal.term != "short"):
        goals.setdefault(row.need_id, []).append(
            GoalView(
                id=str(row.id),
                term=terms.get(row.term, row.term),
                term_code=row.term,
                text=text(row, "text_enc"),
                agreement=agreement(row),
                activities=activities.get(row.id, []),
            )
        )
    needs = [
        NeedView(
            id=str(row.id),
            rank=position,
            text=text(row, "text_enc"),
            agreement=agreement(row),
            goals=goals.get(row.id, []),
        )
        for position, row in enumerate(stored.needs, start=1)
    ]
    reviews = [
        ReviewView(
            on=day(row.reviewed_on) or "",
            on_iso=row.reviewed_on.isoformat(),
            note=text(row, "note_enc"),
            agreement=agreement(row),
        )
        for row in stored.reviews
    ]
    return needs, reviews


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
    zone = config(request).timezone
    access, note = await plan_access(request)
    context = await tab_context(request, "plan")
    needs: list[NeedView] = []
    reviews: list[ReviewView] = []
    if access is not Access.LOCKED:
        needs, reviews = await plan_views(request)

    def form_fields(form: Form, name: str) -> list[formview.FieldView]:
        mine = failed == name
        return formview.fields(
            form,
            translate,
            values=(values or {}) if mine else {"status": "planned"},
            errors=(errors or {}) if mine else None,
        )

    def edit_form(form: Form, name: str, item_id: str, current: dict[str, Any]) -> list[formview.FieldView]:
        # The form of the entry that failed comes back with what was typed; the others as stored.
        mine = failed == name and (values or {}).get(f"{name.removeprefix('edit-')}_id") == item_id
        shown = (values or {}) if mine else current
        return formview.fields(form, translate, values=shown, errors=(errors or {}) if mine else None)

    edit_fields: dict[str, list[formview.FieldView]] = {}
    for need in needs:
        edit_fields[need.id] = edit_form(rules.EDIT_NEED, "edit-need", need.id, {"text": need.text})
        for goal in need.goals:
            current = {"term": goal.term_code, "text": goal.text}
            edit_fields[goal.id] = edit_form(rules.EDIT_GOAL, "edit-goal", goal.id, current)
            for activity in goal.activities:
                current = {
                    "text": activity.text,
                    "service_area": activity.area_code,
                    "who": activity.who or "",
                    "status": activity.status_code,
                }
                edit_fields[activity.id] = edit_form(
                    rules.EDIT_ACTIVITY, "edit-activity", activity.id, current
                )

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
            "channels": list(_labels(rules.AGREEMENT_CHANNELS, translate).items()),
            "edit_fields": edit_fields,
            "link_error": other.get("link"),
            "date_error": other.get("date"),
            "error_count": len(errors or {}),
            "needs": needs,
            "goals": [goal for need in needs for goal in need.goals],
            "reviews": reviews,
            "statuses": list(_labels(rules.ACTIVITY_STATUSES, translate).items()),
            "need_fields": form_fields(rules.NEED, "need"),
            "goal_fields": form_fields(rules.GOAL, "goal"),
            "activity_fields": form_fields(rules.ACTIVITY, "activity"),
            "review_fields": form_fields(rules.REVIEW, "review"),
            "today": dt.datetime.now(zone).date().isoformat(),
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
