"""The integration plan as data: its parts, their value lists and the checks on a change to them.

docs/programme.md: needs ordered by urgency, goals agreed with the beneficiary (short and long term),
activities done with the beneficiary with dates and status, progress reviews; a change to the plan
needs the beneficiary's agreement. The console renders these forms; this module does no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from programme.assessment import LONG_TEXT, clean_form
from programme.cycle import Stage
from programme.forms import SERVICE_AREAS, Form, Kind, Option, Question
from programme.text import N_

# Stages in which the plan is built and followed; the cycle's guard (consent for case work) lets a
# case into the first of them, so reaching one means the plan may be made.
PLAN_STAGES: frozenset[Stage] = frozenset(
    {Stage.INTERVENTION_PLANNING, Stage.IMPLEMENTATION, Stage.FINAL_ASSESSMENT, Stage.MONITORING}
)

GOAL_TERMS: tuple[Option, ...] = (
    Option("short", N_("Short-term goal")),
    Option("long", N_("Long-term goal")),
)

ACTIVITY_STATUSES: tuple[Option, ...] = (
    Option("planned", N_("Planned")),
    Option("in_progress", N_("In progress")),
    Option("done", N_("Done")),
    Option("cancelled", N_("Cancelled")),
)

NEED = Form(
    id="plan_need",
    version=1,
    title=N_("Add a need"),
    questions=(Question("text", Kind.TEXT, N_("Need"), max_length=1000),),
)

GOAL = Form(
    id="plan_goal",
    version=1,
    title=N_("Add a goal"),
    questions=(
        Question("term", Kind.CHOICE, N_("Term"), options=GOAL_TERMS),
        Question("text", Kind.TEXT, N_("Goal"), max_length=1000),
    ),
)

ACTIVITY = Form(
    id="plan_activity",
    version=1,
    title=N_("Add an activity"),
    questions=(
        Question("text", Kind.TEXT, N_("Activity, done together with the beneficiary"), max_length=1000),
        Question("service_area", Kind.CHOICE, N_("Service area"), options=SERVICE_AREAS),
        Question("who", Kind.TEXT, N_("Who takes part"), required=False, max_length=200),
        Question("status", Kind.CHOICE, N_("Status"), options=ACTIVITY_STATUSES),
    ),
)

ACTIVITY_STATUS = Form(
    id="plan_activity_status",
    version=1,
    title=N_("Change the status"),
    questions=(Question("status", Kind.CHOICE, N_("Status"), options=ACTIVITY_STATUSES),),
)

REVIEW = Form(
    id="plan_review",
    version=1,
    title=N_("Record a progress review"),
    questions=(Question("note", Kind.TEXT, N_("How the plan is going"), max_length=LONG_TEXT),),
)

# How the beneficiary agreed to a change (issue 4: the agreement is recorded, with how and when).
AGREEMENT_CHANNELS: tuple[Option, ...] = (
    Option("in_person", N_("In person")),
    Option("phone", N_("By phone")),
    Option("bot", N_("In a message through the bot")),
)

EDIT_NEED = Form(
    id="plan_need_edit",
    version=1,
    title=N_("Change the need"),
    questions=NEED.questions,
)

EDIT_GOAL = Form(
    id="plan_goal_edit",
    version=1,
    title=N_("Change the goal"),
    questions=GOAL.questions,
)

EDIT_ACTIVITY = Form(
    id="plan_activity_edit",
    version=1,
    title=N_("Change the activity"),
    questions=ACTIVITY.questions,
)

NOT_AGREED = N_("Tick this once the beneficiary has agreed to the change.")
NO_CHANNEL = N_("Say how the beneficiary agreed.")
REFERRED = N_(
    "A referral to a partner was made from this part of the plan, so it cannot be removed: "
    "mark the activity cancelled instead."
)
NOT_A_DATE = N_("Give a date (year, month and day).")
NO_SUCH_PART = N_("Choose one of this plan's entries.")
# Dates far outside a plan's life are typing mistakes, not plans.
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2100, 12, 31)


def parse_date(value: Any, *, required: bool) -> tuple[dt.date | None, str | None]:
    """An ISO date (what a date input sends): (date, None), or (None, error msgid)."""
    if not isinstance(value, str) or not value.strip():
        return None, (NOT_A_DATE if required else None)
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        return None, NOT_A_DATE
    if not EARLIEST <= day <= LATEST:
        return None, NOT_A_DATE
    return day, None


def clean_change(
    form: Form, raw: Mapping[str, Any], *, agreed: Any, agreed_via: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate a change to the plan: its answers, and the beneficiary's agreement to it and how it
    was given (answers["agreed_via"])."""
    answers, errors = clean_form(form, raw)
    if agreed != "yes":
        errors["agreed"] = NOT_AGREED
    if agreed_via in {option.value for option in AGREEMENT_CHANNELS}:
        answers["agreed_via"] = agreed_via
    else:
        errors["agreed_via"] = NO_CHANNEL
    return answers, errors


def reorder(current: Sequence[str], ranks: Mapping[str, Any]) -> list[str]:
    """Need ids in their new order, from the rank given for each (1 = most urgent).

    A need given a new rank ends up at that place, the others keeping their order around it (as
    moving a card in a pile); a missing or unreadable rank leaves a need where it was.
    """
    moved: list[tuple[int, int, str]] = []
    staying: list[str] = []
    for was, need_id in enumerate(current, start=1):
        try:
            rank = int(str(ranks.get(need_id)).strip())
        except ValueError:
            rank = was
        if rank == was:
            staying.append(need_id)
        else:
            moved.append((rank, was, need_id))
    order = list(staying)
    for rank, _, need_id in sorted(moved):
        order.insert(min(max(rank, 1), len(order) + 1) - 1, need_id)
    return order
