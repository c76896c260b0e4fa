"""The integration plan as a view model, built from rows made by hand: no database, no HTTP."""

from __future__ import annotations

import datetime as dt
import gettext
import uuid
import zoneinfo
from typing import Any

import pytest

from caseworker_console.viewmodels.plan import (
    CLOSED,
    LOCKED,
    NO_CONSENT,
    Access,
    Failed,
    Reader,
    access_of,
    build_forms,
    build_plan,
    needs_consent,
)
from programme.cycle import Stage
from storage.models import StaffUser
from storage.models_plan import PlanActivity, PlanGoal, PlanNeed, PlanReview
from storage.plan import Plan

BAKU = zoneinfo.ZoneInfo("Asia/Baku")
AT = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
PEOPLE = {4: StaffUser(id=4, username="amina", display_name="Amina K.")}


def agreed(**more: Any) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "changed_by": 4, "changed_at": AT, "agreed_via": "phone", **more}


NEED_A, NEED_B = PlanNeed(**agreed(rank=1)), PlanNeed(**agreed(rank=2, agreed_via=None, changed_by=None))
LONG = PlanGoal(**agreed(need_id=NEED_A.id, term="long"))
SHORT = PlanGoal(**agreed(need_id=NEED_A.id, term="short"))
COURSE = PlanActivity(
    **agreed(
        goal_id=SHORT.id,
        service_area="language",
        due_on=dt.date(2027, 1, 15),
        status="in_progress",
        who_enc=b"sealed",
    )
)
REVIEW = PlanReview(**agreed(reviewed_on=dt.date(2026, 12, 1)))
PLAN = Plan(needs=[NEED_A, NEED_B], goals=[LONG, SHORT], activities=[COURSE], reviews=[REVIEW])
TEXTS = {
    (NEED_A.id, "text_enc"): "Find work",
    (NEED_B.id, "text_enc"): "Housing",
    (LONG.id, "text_enc"): "A steady job",
    (SHORT.id, "text_enc"): "Speak Azerbaijani at work",
    (COURSE.id, "text_enc"): "Evening course",
    (COURSE.id, "who_enc"): "Language school",
    (REVIEW.id, "note_enc"): "Going well",
}


def reader(reveal: Any = None) -> Reader:
    return Reader(
        translate=gettext.NullTranslations(),
        locale="en",
        zone=BAKU,
        reveal=reveal or (lambda row, column: TEXTS[(row.id, column)]),
    )


def test_needs_by_rank_with_short_term_goals_first_and_who_agreed_how() -> None:
    needs, reviews = build_plan(PLAN, people=PEOPLE, reader=reader())
    assert [(need.rank, need.text) for need in needs] == [(1, "Find work"), (2, "Housing")]
    first = needs[0]
    assert [goal.text for goal in first.goals] == ["Speak Azerbaijani at work", "A steady job"]
    assert first.goals[0].term == "Short-term goal" and needs[1].goals == []
    assert first.agreement.by == "Amina K." and first.agreement.how == "By phone"
    assert first.agreement.at == "Dec 1, 2026, 12:00\u202fPM"
    assert needs[1].agreement.by is None and needs[1].agreement.how is None
    (course,) = first.goals[0].activities
    assert (course.text, course.who, course.area, course.status) == (
        "Evening course",
        "Language school",
        "Learning the Azerbaijani language",
        "In progress",
    )
    assert course.due_iso == "2027-01-15" and course.due == "Jan 15, 2027"
    assert [(review.on, review.note) for review in reviews] == [("Dec 1, 2026", "Going well")]


def test_a_reader_not_on_the_case_reads_every_written_text_as_hidden() -> None:
    needs, reviews = build_plan(PLAN, people=PEOPLE, reader=reader(lambda row, column: "Hidden"))
    texts = [needs[0].text, needs[0].goals[0].text, needs[0].goals[0].activities[0].who, reviews[0].note]
    assert texts == ["Hidden"] * 4


@pytest.mark.parametrize(
    ("stage", "consent", "access"),
    [
        ("new", True, Access.LOCKED),
        ("initial_assessment", True, Access.LOCKED),
        ("no_such_stage", True, Access.LOCKED),
        ("closed", False, Access.READ),
        ("closed", True, Access.READ),
        ("intervention_planning", False, Access.READ),
        ("intervention_planning", True, Access.OPEN),
        ("implementation", True, Access.OPEN),
        ("monitoring", False, Access.READ),
        ("monitoring", True, Access.OPEN),
    ],
)
def test_the_plan_opens_at_intervention_planning_under_a_consent_for_case_work(
    stage: str, consent: bool, access: Access
) -> None:
    found, note = access_of(stage, consent=consent)
    assert found is access and (note is None) == (access is Access.OPEN)
    # Why not, as the caseworker reads it.
    assert note == {Access.OPEN: None, Access.LOCKED: LOCKED}.get(
        access, CLOSED if stage == "closed" else NO_CONSENT
    )


def test_the_consent_decides_the_plan_only_from_intervention_planning_on() -> None:
    """Before it the plan is locked by the stage, closed it is read by the stage: the consent is
    looked up only where it decides (routes/plan.py)."""
    assert {stage.value for stage in Stage if needs_consent(stage.value)} == {
        "intervention_planning",
        "implementation",
        "final_assessment",
        "monitoring",
    }
    assert not needs_consent("no_such_stage")


def test_edit_forms_show_what_is_stored_except_the_one_that_failed() -> None:
    needs, _ = build_plan(PLAN, people=PEOPLE, reader=reader())
    blank = build_forms(needs, Failed(), gettext.NullTranslations())
    assert blank.edits[str(NEED_A.id)][0].value == "Find work"
    status = next(field for field in blank.activity if field.id == "status")
    assert [option.value for option in status.options if option.selected] == ["planned"]
    typed = {"need_id": str(NEED_B.id), "text": ""}
    failed = build_forms(
        needs, Failed("edit-need", typed, {"text": "This answer is needed."}), gettext.NullTranslations()
    )
    assert failed.edits[str(NEED_B.id)][0].value == "" and failed.edits[str(NEED_B.id)][0].error
    assert (
        failed.edits[str(NEED_A.id)][0].value == "Find work" and failed.edits[str(NEED_A.id)][0].error is None
    )
    assert failed.need[0].error is None
    activity = failed.edits[str(COURSE.id)]
    assert {field.id: field.value for field in activity}["who"] == "Language school"
