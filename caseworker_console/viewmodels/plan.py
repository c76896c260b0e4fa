"""A case's integration plan as it is shown (the tab and its PDF): needs by rank with their goals
and activities, the progress reviews, each with who agreed it and how, and the tab's forms (each
entry's edit form with what is stored, the one that failed with what was typed)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import gettext
import zoneinfo
from collections.abc import Callable, Mapping
from typing import Any

from caseworker_console import formview, i18n
from caseworker_console.views import staff_name
from programme import plan as rules
from programme.cycle import Stage, stage_of
from programme.forms import SERVICE_AREAS, Form
from programme.text import N_
from storage.models import StaffUser
from storage.plan import Plan

LOCKED = N_(
    "The integration plan opens once the case has moved on to intervention planning, which needs "
    "the beneficiary's consent to share their data for case work."
)
NO_CONSENT = N_(
    "The beneficiary's current consent does not allow case work: the plan can be read but not changed."
)
CLOSED = N_("This case is closed. Reopen it first.")
# A stored entry's sealed text, by its row and column ("Hidden" for a reader not on the case).
Reveal = Callable[[Any, str], str]


class Access(enum.Enum):
    LOCKED = "locked"  # before intervention planning: nothing to show
    READ = "read"  # closed, or consent for case work withdrawn: shown, not changed
    OPEN = "open"


def needs_consent(stage: str) -> bool:
    """Whether the plan's access at this stage depends on the consent (it is open by stage)."""
    try:
        return stage_of(stage) in rules.PLAN_STAGES
    except ValueError:
        return False


def access_of(stage: str, *, consent: bool) -> tuple[Access, str | None]:
    """How the plan may be used at this stage under this consent, and why not (a msgid)."""
    try:
        known = stage_of(stage)
    except ValueError:
        return Access.LOCKED, LOCKED
    if known is Stage.CLOSED:
        return Access.READ, CLOSED
    if known not in rules.PLAN_STAGES:
        return Access.LOCKED, LOCKED
    if not consent:
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


def labels(options: Any, translate: gettext.NullTranslations) -> dict[str, str]:
    return {option.value: translate.gettext(option.label) for option in options}


@dataclasses.dataclass(frozen=True)
class Reader:
    """Who reads the plan: their language, the office clock, and how sealed texts read for them."""

    translate: gettext.NullTranslations
    locale: str
    zone: zoneinfo.ZoneInfo
    reveal: Reveal


def build_plan(
    stored: Plan, *, people: Mapping[int, StaffUser], reader: Reader
) -> tuple[list[NeedView], list[ReviewView]]:
    """Needs by rank with their goals (short-term first) and activities, and the reviews as stored."""
    agreement = _agreements(people, reader)
    activities: dict[Any, list[ActivityView]] = {}
    for row in stored.activities:
        activities.setdefault(row.goal_id, []).append(activity_view(row, agreement(row), reader))
    terms = labels(rules.GOAL_TERMS, reader.translate)
    goals: dict[Any, list[GoalView]] = {}
    # Short-term goals first under each need: they are what happens next.
    for row in sorted(stored.goals, key=lambda goal: goal.term != "short"):
        goals.setdefault(row.need_id, []).append(
            GoalView(
                id=str(row.id),
                term=terms.get(row.term, row.term),
                term_code=row.term,
                text=reader.reveal(row, "text_enc"),
                agreement=agreement(row),
                activities=activities.get(row.id, []),
            )
        )
    needs = [
        NeedView(
            id=str(row.id),
            rank=position,
            text=reader.reveal(row, "text_enc"),
            agreement=agreement(row),
            goals=goals.get(row.id, []),
        )
        for position, row in enumerate(stored.needs, start=1)
    ]
    reviews = [
        ReviewView(
            on=i18n.format_day(row.reviewed_on, locale=reader.locale),
            on_iso=row.reviewed_on.isoformat(),
            note=reader.reveal(row, "note_enc"),
            agreement=agreement(row),
        )
        for row in stored.reviews
    ]
    return needs, reviews


def _agreements(people: Mapping[int, StaffUser], reader: Reader) -> Callable[[Any], Agreement]:
    channels = labels(rules.AGREEMENT_CHANNELS, reader.translate)

    def agreement(row: Any) -> Agreement:
        when = i18n.format_local_datetime(row.changed_at, locale=reader.locale, timezone=reader.zone)
        how = channels.get(row.agreed_via) if row.agreed_via else None
        return Agreement(by=staff_name(people.get(row.changed_by or 0)), at=when, how=how)

    return agreement


def activity_view(row: Any, agreement: Agreement, reader: Reader) -> ActivityView:
    areas = labels(SERVICE_AREAS, reader.translate)
    statuses = labels(rules.ACTIVITY_STATUSES, reader.translate)
    due: dt.date | None = row.due_on
    return ActivityView(
        id=str(row.id),
        text=reader.reveal(row, "text_enc"),
        area=areas.get(row.service_area, row.service_area),
        area_code=row.service_area,
        due=None if due is None else i18n.format_day(due, locale=reader.locale),
        due_iso=due.isoformat() if due else None,
        who=(reader.reveal(row, "who_enc") or None) if row.who_enc is not None else None,
        status=statuses.get(row.status, row.status),
        status_code=row.status,
        agreement=agreement,
    )


@dataclasses.dataclass(frozen=True)
class Failed:
    """The form that failed (by name: "need", "edit-goal", ...), with what was typed and why."""

    name: str | None = None
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    errors: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class PlanForms:
    need: list[formview.FieldView]
    goal: list[formview.FieldView]
    activity: list[formview.FieldView]
    review: list[formview.FieldView]
    # Each entry's edit form, by the entry's id.
    edits: dict[str, list[formview.FieldView]]


def build_forms(needs: list[NeedView], failed: Failed, translate: gettext.NullTranslations) -> PlanForms:
    """The tab's forms: a new entry's blank (an activity "planned"), each entry's edit form as
    stored; the one that failed comes back with what was typed and its errors."""

    def new(form: Form, name: str) -> list[formview.FieldView]:
        mine = failed.name == name
        shown = failed.values if mine else {"status": "planned"}
        return formview.fields(form, translate, values=shown, errors=failed.errors if mine else None)

    def edit(form: Form, name: str, item_id: str, current: dict[str, Any]) -> list[formview.FieldView]:
        mine = failed.name == name and failed.values.get(f"{name.removeprefix('edit-')}_id") == item_id
        shown = failed.values if mine else current
        return formview.fields(form, translate, values=shown, errors=failed.errors if mine else None)

    edits: dict[str, list[formview.FieldView]] = {}
    for need in needs:
        edits[need.id] = edit(rules.EDIT_NEED, "edit-need", need.id, {"text": need.text})
        for goal in need.goals:
            current = {"term": goal.term_code, "text": goal.text}
            edits[goal.id] = edit(rules.EDIT_GOAL, "edit-goal", goal.id, current)
            for activity in goal.activities:
                current = {
                    "text": activity.text,
                    "service_area": activity.area_code,
                    "who": activity.who or "",
                    "status": activity.status_code,
                }
                edits[activity.id] = edit(rules.EDIT_ACTIVITY, "edit-activity", activity.id, current)
    return PlanForms(
        need=new(rules.NEED, "need"),
        goal=new(rules.GOAL, "goal"),
        activity=new(rules.ACTIVITY, "activity"),
        review=new(rules.REVIEW, "review"),
        edits=edits,
    )
