"""The programme's caseworker rules as plain Python: cycle, guards, termination reasons, forms."""

from __future__ import annotations

import dataclasses

import pytest

from programme import assessment, cycle
from programme.cycle import CaseFacts, Stage, TerminationReason, TransitionRefused
from programme.forms import SCREENING


def test_the_stages_run_in_the_programmes_order() -> None:
    assert [stage.value for stage in cycle.ORDER] == [
        "new",
        "screening",
        "initial_assessment",
        "intervention_planning",
        "implementation",
        "final_assessment",
        "monitoring",
        "closed",
    ]
    assert cycle.next_stage(Stage.NEW) is Stage.SCREENING
    assert cycle.next_stage(Stage.MONITORING) is None  # only closing follows
    assert cycle.next_stage(Stage.CLOSED) is None


def test_there_are_exactly_the_five_termination_reasons() -> None:
    assert [option.value for option in assessment.TERMINATION_REASONS] == [
        "withdrew",
        "goals_reached",
        "no_longer_eligible",
        "other_institution",
        "non_compliance",
    ]
    assert assessment.CLOSING.question("reason").option_values() == frozenset(TerminationReason)


def test_a_case_moves_forward_one_stage_at_a_time() -> None:
    facts = CaseFacts(stage=Stage.SCREENING, confirmed_eligible=True)
    cycle.check_advance(facts, Stage.INITIAL_ASSESSMENT)
    with pytest.raises(TransitionRefused):
        cycle.check_advance(facts, Stage.IMPLEMENTATION)
    with pytest.raises(TransitionRefused):
        cycle.check_advance(facts, Stage.NEW)
    with pytest.raises(TransitionRefused):
        cycle.check_advance(facts, Stage.CLOSED)  # closing has its own path, with a reason


@pytest.mark.parametrize(
    ("stage", "target", "why"),
    [
        (Stage.CLOSED, Stage.SCREENING, "This case is closed. Reopen it first."),
        (Stage.CLOSED, Stage.CLOSED, "This case is closed. Reopen it first."),
        (Stage.MONITORING, Stage.CLOSED, "A case closes only with one of the termination reasons."),
        (Stage.SCREENING, Stage.CLOSED, "A case closes only with one of the termination reasons."),
        (Stage.SCREENING, Stage.IMPLEMENTATION, "A case moves forward one stage at a time."),
    ],
)
def test_a_refused_move_says_which_rule_refused_it(stage: Stage, target: Stage, why: str) -> None:
    """The caseworker reads the reason: a closed case is reopened first, a case is closed with a
    reason, not moved to "closed"."""
    with pytest.raises(TransitionRefused) as refused:
        cycle.check_advance(CaseFacts(stage, confirmed_eligible=True, has_casework_consent=True), target)
    assert refused.value.message == why


def test_facts_that_do_not_mention_consent_mean_there_is_none() -> None:
    with pytest.raises(TransitionRefused):
        cycle.check_advance(
            CaseFacts(Stage.INITIAL_ASSESSMENT, confirmed_eligible=True), Stage.INTERVENTION_PLANNING
        )


def test_a_cases_facts_cannot_be_changed_once_gathered() -> None:
    """The guards decide on the facts the caller gathered: nothing changes them on the way."""
    facts = CaseFacts(Stage.INITIAL_ASSESSMENT, confirmed_eligible=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.has_casework_consent = True  # type: ignore[misc]


def test_the_assessment_waits_for_a_confirmed_eligible_screening() -> None:
    for confirmed in (None, False):
        with pytest.raises(TransitionRefused):
            cycle.check_advance(
                CaseFacts(Stage.SCREENING, confirmed_eligible=confirmed), Stage.INITIAL_ASSESSMENT
            )


def test_no_intervention_planning_before_consent_to_share_data_for_case_work() -> None:
    without = CaseFacts(Stage.INITIAL_ASSESSMENT, confirmed_eligible=True, has_casework_consent=False)
    with pytest.raises(TransitionRefused) as refused:
        cycle.check_advance(without, Stage.INTERVENTION_PLANNING)
    assert "consent" in refused.value.message
    cycle.check_advance(
        CaseFacts(Stage.INITIAL_ASSESSMENT, confirmed_eligible=True, has_casework_consent=True),
        Stage.INTERVENTION_PLANNING,
    )


@pytest.mark.parametrize(
    ("stage", "eligible", "consent"),
    [
        (Stage.INITIAL_ASSESSMENT, None, True),
        (Stage.INTERVENTION_PLANNING, None, False),
        (Stage.IMPLEMENTATION, None, False),
        (Stage.FINAL_ASSESSMENT, None, False),
    ],
)
def test_each_guard_holds_its_own_step_and_no_later_one(
    stage: Stage, eligible: bool | None, consent: bool
) -> None:
    """Eligibility is confirmed on the way into the initial assessment and consent recorded on the way
    into planning; the steps after those do not ask again (a withdrawal closes the case instead)."""
    following = cycle.next_stage(stage)
    assert following is not None
    cycle.check_advance(
        CaseFacts(stage, confirmed_eligible=eligible, has_casework_consent=consent), following
    )


@pytest.mark.parametrize("reason", [None, "", "bored", "closed"])
def test_no_closing_without_one_of_the_reasons(reason: str | None) -> None:
    with pytest.raises(TransitionRefused):
        cycle.check_close(CaseFacts(Stage.IMPLEMENTATION), reason)


def test_closing_and_reopening() -> None:
    assert cycle.check_close(CaseFacts(Stage.MONITORING), "goals_reached") is TerminationReason.GOALS_REACHED
    with pytest.raises(TransitionRefused):
        cycle.check_close(CaseFacts(Stage.CLOSED), "goals_reached")
    closed = CaseFacts(Stage.CLOSED)
    assert cycle.reopen_stage(closed, "implementation") is Stage.IMPLEMENTATION
    assert cycle.reopen_stage(closed, "new") is Stage.SCREENING
    assert cycle.reopen_stage(closed, None) is Stage.SCREENING
    with pytest.raises(TransitionRefused):
        cycle.reopen_stage(CaseFacts(Stage.MONITORING), "implementation")
    with pytest.raises(TransitionRefused):
        cycle.stage_of("from-the-future")


def test_the_confirmation_reuses_the_bots_questions_and_adds_q4_and_the_decision() -> None:
    form = assessment.SCREENING_CONFIRMATION
    for question in SCREENING.questions:
        assert form.question(question.id) is question
    assert form.question("impairment").asked_in_bot is False
    assert {"eligible", "decision_reason", "venue"} <= {question.id for question in form.questions}


def test_a_decision_against_the_rule_or_the_bots_result_needs_a_reason() -> None:
    eligible = {
        "resides_for_reason": "yes",
        "has_permit": "yes",
        "directions": ["language"],
        "impairment": "no",
    }
    assert not assessment.decision_needs_reason({**eligible, "eligible": "yes"}, provisional=True)
    assert assessment.decision_needs_reason({**eligible, "eligible": "no"}, provisional=True)
    assert assessment.decision_needs_reason(
        {**eligible, "impairment": "yes", "eligible": "yes"}, provisional=True
    )
    assert not assessment.decision_needs_reason(
        {**eligible, "impairment": "yes", "eligible": "no"}, provisional=None
    )
    # The bot said no (say Q2), the caseworker found a permit in person: the rule agrees, the bot did not.
    assert assessment.decision_needs_reason({**eligible, "eligible": "yes"}, provisional=False)


def test_clean_form_validates_against_the_definition() -> None:
    answers, errors = assessment.clean_form(
        assessment.SCREENING_CONFIRMATION,
        {
            "resides_for_reason": "maybe",
            "has_permit": "yes",
            "directions": ["language", "bogus"],
            "eligible": "",
        },
    )
    assert errors == {
        "resides_for_reason": assessment.NOT_AN_OPTION,
        "directions": assessment.NOT_AN_OPTION,
        "impairment": assessment.MISSING,
        "eligible": assessment.MISSING,
        "venue": assessment.MISSING,
    }
    assert answers == {"has_permit": "yes"}
    long_answers, long_errors = assessment.clean_form(assessment.INITIAL_ASSESSMENT, {"summary": "x" * 5000})
    assert long_errors == {"summary": assessment.TOO_LONG}
    assert long_answers == {}
    assert assessment.clean_form(assessment.INITIAL_ASSESSMENT, {}) == ({}, {})  # every answer may wait


def test_annex_1_is_prefilled_from_what_the_bot_gathered_with_its_source() -> None:
    found = assessment.prefill_answers(
        {"screening": {"directions": ["language", "orientation"]}, "case": {"source": "bot"}}
    )
    assert found == {
        "services_wanted": (["orientation", "language"], "screening"),
        "referred_by": ("bot", "case"),
    }
    # The caseworker's confirmed answers take precedence over the bot's; unknown values are skipped.
    confirmed = assessment.prefill_answers(
        {"screening_confirmation": {"directions": ["language"]}, "screening": {"directions": ["bogus"]}}
    )
    assert confirmed == {"services_wanted": (["language"], "screening_confirmation")}
    assert assessment.prefill_answers({"case": {"source": "flyer"}}) == {}


def test_every_annex_1_question_is_in_exactly_one_section() -> None:
    placed = [qid for section in assessment.INITIAL_ASSESSMENT_SECTIONS for qid in section.question_ids]
    assert sorted(placed) == sorted(question.id for question in assessment.INITIAL_ASSESSMENT.questions)
