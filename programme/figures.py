"""The programme's figures: the funnel's steps, what they count, and the small-cell rule.

Only counts leave the database, and every count a person reads (page, CSV, XLSX) goes through
`masked()`:

1. A count under THRESHOLD (0 to 4) is shown as "<5", never as its value; a chart draws it as a
   bar of THRESHOLD's length, so its size cannot be read off the chart either.
2. Secondary suppression: in a breakdown shown with its total (closing reasons, attendance,
   campaign delivery, referrals by status, dialog steps), when exactly one category is masked the
   smallest other category is masked too, so the hidden one cannot be had by subtracting the
   others from the total. A masked total hides the whole breakdown's values.
3. Percentages are shown only between two unmasked counts.

What the rule does not cover, and is stated on the dashboard: the funnel's steps are cumulative
("how many reached this step"), so the drop-off between two unmasked steps can be read by
subtraction even when it is under five; and comparing the same figure under two filters (a
language, then every language) can isolate a small group. The figures are for programme managers
and funders, never published per person; narrow filters give mostly "<5".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from programme.text import N_

THRESHOLD = 5
MASK = "<5"


@dataclasses.dataclass(frozen=True, slots=True)
class Cell:
    """One count as it may be shown: its text, and whether it is hidden."""

    value: int
    masked: bool

    @property
    def text(self) -> str:
        return MASK if self.masked else str(self.value)

    @property
    def drawn(self) -> int:
        """The length a chart may give it: a masked count is drawn as THRESHOLD."""
        return THRESHOLD if self.masked else self.value


def masked(value: int) -> Cell:
    return Cell(value=value, masked=value < THRESHOLD)


def breakdown(counts: Mapping[str, int]) -> tuple[dict[str, Cell], Cell]:
    """Categories and their total, masked with secondary suppression (rule 2)."""
    cells = {key: masked(value) for key, value in counts.items()}
    total = masked(sum(counts.values()))
    if total.masked:
        return {key: Cell(value=cell.value, masked=True) for key, cell in cells.items()}, total
    hidden = [key for key, cell in cells.items() if cell.masked]
    shown = sorted((cell.value, key) for key, cell in cells.items() if not cell.masked)
    if len(hidden) == 1 and shown:
        _, smallest = shown[0]
        cells[smallest] = Cell(value=cells[smallest].value, masked=True)
    return cells, total


def share(part: Cell, whole: Cell) -> int | None:
    """A whole-number percentage, only between two shown counts (rule 3)."""
    if part.masked or whole.masked or whole.value == 0:
        return None
    return round(100 * part.value / whole.value)


@dataclasses.dataclass(frozen=True, slots=True)
class Step:
    key: str
    label: str
    meaning: str


# The funnel, in order. Each counts the cases (under the filters) that reached that step.
FUNNEL: Sequence[Step] = (
    Step(
        "screened",
        N_("Screened"),
        N_("A screening was answered in the bot or recorded by a caseworker."),
    ),
    Step(
        "provisionally_eligible",
        N_("Provisionally eligible"),
        N_("The bot's screening found the person eligible."),
    ),
    Step(
        "confirmed_eligible",
        N_("Confirmed eligible"),
        N_("A caseworker confirmed eligibility: the case reached the initial assessment."),
    ),
    Step("assessed", N_("Assessed"), N_("An initial assessment (Annex 1) was recorded.")),
    Step(
        "consented",
        N_("Consented"),
        N_("A consent (Annex 4) allowing case work was recorded."),
    ),
    Step("plan", N_("Plan"), N_("The integration plan has at least one need.")),
    Step("closed", N_("Closed"), N_("The case is closed.")),
)

ATTENDANCE_LABELS: dict[str, str] = {
    "attended": N_("Attended"),
    "no_show": N_("Did not come"),
    "booked": N_("Booked, not yet recorded"),
    "proposed": N_("Proposed, not yet answered"),
    "cancelled": N_("Cancelled"),
}

# A campaign's messages by outcome, as the campaign screens count them (outreach.campaigns.Figures).
DELIVERY_LABELS: dict[str, str] = {
    "sent": N_("Delivered to Telegram"),
    "failed": N_("Failed"),
    "blocked": N_("The person blocked the bot"),
    "opted_out": N_("The person sent /stop, or stopped taking part, before it went"),
    "uncertain": N_("Uncertain (the sender stopped mid-request)"),
    "cancelled": N_("Cancelled"),
    "remaining": N_("Not sent yet (waiting, being sent or paused)"),
}

# How long after the handoff a caseworker first wrote to the person.
REPLY_BUCKETS: Sequence[tuple[str, str, int | None]] = (
    ("hour", N_("Within an hour"), 3600),
    ("day", N_("Within a day"), 86400),
    ("three_days", N_("Within three days"), 3 * 86400),
    ("later", N_("Later"), None),
)
NO_REPLY = ("none", N_("No reply yet"))

# The bot's steps before the main menu, in the order a person meets them (bot/dialogs/).
DIALOG_STEPS: Sequence[tuple[str, str]] = (
    ("language", N_("Choosing a language")),
    ("privacy", N_("Privacy notice")),
    ("name", N_("Preferred name")),
    ("screening", N_("Screening questions")),
    ("interview_offer", N_("Offer of the interview")),
    ("interview", N_("Interview questions")),
    ("interview_summary", N_("Interview summary")),
    ("consent_age", N_("Consent: age")),
    ("consent_text", N_("Consent: the text")),
    ("consent_casework", N_("Consent: case work")),
    ("consent_publicity", N_("Consent: publicity")),
    ("consent_third_party", N_("Consent: a third party")),
)
# Each of those steps' dialog states as the bot stores them: today's name, then the name it had
# before each dialog owned its states (bot.renamed_states), which a person who has not written since
# still holds. tests/bot/test_renamed_states.py checks both against the bot.
DIALOG_STATES: Mapping[str, tuple[str, str]] = {
    "language": ("Language:choose", "Journey:language"),
    "privacy": ("Screening:privacy", "Journey:privacy"),
    "name": ("Screening:name", "Journey:name"),
    "screening": ("Screening:questions", "Journey:screening"),
    "interview_offer": ("Interview:offer", "Journey:interview_offer"),
    "interview": ("Interview:questions", "Journey:interview"),
    "interview_summary": ("Interview:summary", "Journey:interview_summary"),
    "consent_age": ("Consent:age", "Journey:consent_age"),
    "consent_text": ("Consent:text", "Journey:consent_text"),
    "consent_casework": ("Consent:casework", "Journey:consent_casework"),
    "consent_publicity": ("Consent:publicity", "Journey:consent_publicity"),
    "consent_third_party": ("Consent:third_party", "Journey:consent_third_party"),
}
# A dialog resting at one of those steps this long is counted as stopped there.
STALLED_AFTER_HOURS = 48

REFERRAL_STATUSES: dict[str, str] = {
    "sent": N_("Sent"),
    "accepted": N_("Accepted"),
    "done": N_("Done"),
    "declined": N_("Declined"),
}
# The moves a referral may make; done and declined are final.
REFERRAL_MOVES: dict[str, frozenset[str]] = {
    "sent": frozenset({"accepted", "declined"}),
    "accepted": frozenset({"done", "declined"}),
    "done": frozenset(),
    "declined": frozenset(),
}
OPEN_REFERRAL = frozenset({"sent", "accepted"})

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: object) -> object:
    """A spreadsheet cell that can never run as a formula: text starting with = + - @ tab or CR
    gets a leading apostrophe (OWASP's advice), so Excel and LibreOffice show it as text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
