"""The Annex 2 eligibility rule, configurable for organisations with a wider mandate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class EligibilityRule:
    must_be_yes: tuple[str, ...] = ("resides_for_reason", "has_permit")
    must_be_no: tuple[str, ...] = ("impairment",)
    needs_a_direction: bool = True


STANDARD_RULE = EligibilityRule()
# Asylum seekers, stateless persons, returnees, irregular migrants: no permit required.
WIDER_MANDATE_RULE = EligibilityRule(must_be_yes=("resides_for_reason",))


def is_eligible(answers: Mapping[str, Any], rule: EligibilityRule = STANDARD_RULE) -> bool:
    """Eligible ⇔ the yes-questions are yes, the no-questions are no and a direction is chosen.

    An unanswered no-question (Q4, asked only in person) does not count against the applicant:
    this is what makes the bot's result provisional.
    """
    if any(answers.get(question) != "yes" for question in rule.must_be_yes):
        return False
    if any(answers.get(question) == "yes" for question in rule.must_be_no):
        return False
    return not rule.needs_a_direction or bool(answers.get("directions"))
