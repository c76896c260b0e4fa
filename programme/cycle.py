"""The case management cycle: its stages in order, the moves allowed between them, and their guards."""

from __future__ import annotations

import dataclasses
import enum

from programme.text import N_


class Stage(enum.StrEnum):
    NEW = "new"
    SCREENING = "screening"
    INITIAL_ASSESSMENT = "initial_assessment"
    INTERVENTION_PLANNING = "intervention_planning"
    IMPLEMENTATION = "implementation"
    FINAL_ASSESSMENT = "final_assessment"
    MONITORING = "monitoring"
    CLOSED = "closed"


# The guidelines' names, for staff: the console shows them; a beneficiary reads the plain words of
# bot/dialogs/mycopy.py instead, and the bot's catalogs do not hold these.
STAGE_LABELS: dict[Stage, str] = {
    Stage.NEW: N_("New"),
    Stage.SCREENING: N_("Screening"),
    Stage.INITIAL_ASSESSMENT: N_("Initial needs assessment"),
    Stage.INTERVENTION_PLANNING: N_("Intervention planning"),
    Stage.IMPLEMENTATION: N_("Implementation of the plan"),
    Stage.FINAL_ASSESSMENT: N_("Final assessment"),
    Stage.MONITORING: N_("Monitoring"),
    Stage.CLOSED: N_("Closed"),
}

# The order of the cycle (docs/programme.md); a case moves forward one stage at a time.
ORDER: tuple[Stage, ...] = tuple(Stage)


class TerminationReason(enum.StrEnum):
    """The five reasons a case may close for (docs/programme.md: exactly these)."""

    WITHDREW = "withdrew"
    GOALS_REACHED = "goals_reached"
    NO_LONGER_ELIGIBLE = "no_longer_eligible"
    OTHER_INSTITUTION = "other_institution"
    NON_COMPLIANCE = "non_compliance"


TERMINATION_LABELS: dict[TerminationReason, str] = {
    TerminationReason.WITHDREW: N_(
        "The beneficiary no longer wants to take part and has said so in writing, with reasons"
    ),
    TerminationReason.GOALS_REACHED: N_("The plan reached all its goals and both agree to close"),
    TerminationReason.NO_LONGER_ELIGIBLE: N_(
        "The beneficiary's status changed and they are no longer eligible"
    ),
    TerminationReason.OTHER_INSTITUTION: N_(
        "Another institution is responsible, given their legal status or needs"
    ),
    TerminationReason.NON_COMPLIANCE: N_("The beneficiary does not comply with the service's rules"),
}


class TransitionRefused(ValueError):
    """A move the cycle does not allow; `message` is a msgid the console shows translated."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclasses.dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the guards need to know about a case, gathered by the caller (this module does no I/O)."""

    stage: Stage
    # The caseworker's Annex 2 decision: None until screening is confirmed.
    confirmed_eligible: bool | None = None
    # A current Annex 4 consent that allows sharing data for case work and referrals.
    has_casework_consent: bool = False


def stage_of(value: str) -> Stage:
    """A stored stage; an unknown value (written by a newer version) refuses every move."""
    try:
        return Stage(value)
    except ValueError:
        raise TransitionRefused(
            N_("This case is in a stage this version of the console does not know.")
        ) from None


def next_stage(stage: Stage) -> Stage | None:
    """The stage after this one in the cycle; None for monitoring (only closing follows) and closed."""
    if stage in (Stage.MONITORING, Stage.CLOSED):
        return None
    return ORDER[ORDER.index(stage) + 1]


def check_advance(facts: CaseFacts, target: Stage) -> None:
    """Refuse (TransitionRefused) a forward move the cycle or its guards do not allow."""
    if facts.stage is Stage.CLOSED:
        raise TransitionRefused(N_("This case is closed. Reopen it first."))
    if target is Stage.CLOSED:
        raise TransitionRefused(N_("A case closes only with one of the termination reasons."))
    if next_stage(facts.stage) is not target:
        raise TransitionRefused(N_("A case moves forward one stage at a time."))
    if target is Stage.INITIAL_ASSESSMENT and facts.confirmed_eligible is not True:
        raise TransitionRefused(
            N_("The initial assessment starts once a caseworker has confirmed the person is eligible.")
        )
    if target is Stage.INTERVENTION_PLANNING and not facts.has_casework_consent:
        # docs/programme.md: consent (Annex 4) comes before any plan.
        raise TransitionRefused(
            N_(
                "Intervention planning needs the beneficiary's consent to share their data for case work. "
                "Record the consent first."
            )
        )


def check_close(facts: CaseFacts, reason: str | None) -> TerminationReason:
    """The termination reason to close with, or TransitionRefused: never a close without a reason."""
    if facts.stage is Stage.CLOSED:
        raise TransitionRefused(N_("This case is already closed."))
    try:
        return TerminationReason(reason or "")
    except ValueError:
        raise TransitionRefused(N_("Choose one of the termination reasons to close the case.")) from None


def reopen_stage(facts: CaseFacts, closed_from: str | None) -> Stage:
    """The stage a closed case returns to: the one it was closed from, or screening if unknown."""
    if facts.stage is not Stage.CLOSED:
        raise TransitionRefused(N_("Only a closed case can be reopened."))
    try:
        stage = Stage(closed_from or "")
    except ValueError:
        return Stage.SCREENING
    # A case closed while new has been looked at since: it goes back to screening.
    return Stage.SCREENING if stage in (Stage.NEW, Stage.CLOSED) else stage
