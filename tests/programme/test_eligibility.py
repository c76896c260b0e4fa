"""The Annex 2 eligibility rule, each condition both ways: what makes someone eligible, and each
single answer that must make them not eligible (the bot's provisional result depends on it)."""

from __future__ import annotations

import dataclasses

import pytest

from programme.eligibility import STANDARD_RULE, WIDER_MANDATE_RULE, EligibilityRule, is_eligible

ELIGIBLE = {"resides_for_reason": "yes", "has_permit": "yes", "directions": ["language"]}


def test_yes_yes_and_a_direction_is_eligible_and_an_unasked_impairment_does_not_count() -> None:
    assert is_eligible(ELIGIBLE) is True
    assert is_eligible({**ELIGIBLE, "impairment": "no"}) is True


@pytest.mark.parametrize(
    "change",
    [
        {"resides_for_reason": "no"},
        {"resides_for_reason": None},
        {"has_permit": "no"},
        {"has_permit": "YES"},
        {"impairment": "yes"},
        {"directions": []},
        {"directions": None},
    ],
)
def test_any_one_answer_against_it_makes_someone_not_eligible(change: dict) -> None:
    assert is_eligible({**ELIGIBLE, **change}) is False


def test_a_missing_yes_question_is_not_a_yes() -> None:
    assert is_eligible({"has_permit": "yes", "directions": ["language"]}) is False
    assert is_eligible({"resides_for_reason": "yes", "directions": ["language"]}) is False


def test_the_wider_mandate_needs_no_permit_but_keeps_the_other_conditions() -> None:
    assert is_eligible({**ELIGIBLE, "has_permit": "no"}, WIDER_MANDATE_RULE) is True
    assert is_eligible({**ELIGIBLE, "resides_for_reason": "no"}, WIDER_MANDATE_RULE) is False
    assert is_eligible({**ELIGIBLE, "impairment": "yes"}, WIDER_MANDATE_RULE) is False
    assert is_eligible({**ELIGIBLE, "directions": []}, WIDER_MANDATE_RULE) is False


def test_a_rule_that_needs_no_direction_accepts_none() -> None:
    rule = EligibilityRule(needs_a_direction=False)
    assert is_eligible({**ELIGIBLE, "directions": []}, rule) is True
    assert is_eligible({**ELIGIBLE, "directions": [], "has_permit": "no"}, rule) is False
    assert STANDARD_RULE.needs_a_direction is True


def test_the_shared_rules_cannot_be_changed_in_place() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        STANDARD_RULE.must_be_yes = ()  # type: ignore[misc]
