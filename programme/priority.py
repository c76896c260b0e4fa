"""The programme's priority groups (docs/programme.md: women, children, elderly, persons with disabilities,
survivors of torture or trauma) and how a case comes to be in one; plain Python, no I/O.

The bot knows two of them from what the person said: under 18 (the consent's age question) and a
child here without a parent or guardian (the interview). Everything else a caseworker sets on the
case file. The queue orders by one clear flag, "in a priority group"; which groups stays sealed
with the caseworker's form, because naming them (a disability, trauma) is itself personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from programme.text import N_

FORM_ID = "priority_groups"
FORM_VERSION = 1

PRIORITY_GROUPS: dict[str, str] = {
    "children": N_("Child"),
    "women": N_("Woman"),
    "elderly": N_("Elderly person"),
    "disability": N_("Person with a disability"),
    "trauma": N_("Survivor of torture or trauma"),
}


def from_bot(*, under_18: bool, interview: Mapping[str, Any] | None) -> set[str]:
    """The groups the bot's stored answers show."""
    groups = set()
    if under_18 or (interview or {}).get("unaccompanied_child") == "yes":
        groups.add("children")
    return groups


def from_caseworker(answers: Mapping[str, Any] | None) -> set[str]:
    return {group for group in (answers or {}).get("groups", []) if group in PRIORITY_GROUPS}


def clean_groups(values: Iterable[str]) -> list[str] | None:
    """The groups a caseworker ticked, in the programme's order; None when one is not a group."""
    chosen = set(values)
    if not chosen <= PRIORITY_GROUPS.keys():
        return None
    return [group for group in PRIORITY_GROUPS if group in chosen]


def ordered(groups: Iterable[str]) -> list[str]:
    present = set(groups)
    return [group for group in PRIORITY_GROUPS if group in present]
