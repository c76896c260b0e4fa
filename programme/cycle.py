"""The case management cycle: its stages in order."""

from __future__ import annotations

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
