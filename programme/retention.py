"""How long the programme keeps what it holds about a person, and when an erasure request is due.

Plain values, no I/O: the settings (`INTAKE_RETAIN_*`, `INTAKE_ERASURE_DUE_DAYS`) fill a
`RetentionPolicy`; the worker's purge (storage) and the texts that tell people how long their data
is kept (the consent text, the privacy notice) both read it, so the two cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from programme.cycle import Stage
from programme.text import N_

# Enrolled: a caseworker confirmed the person eligible and the case went on into the cycle proper
# (the initial needs assessment, which needs that confirmation, or any stage after it). Stages only
# move forward, except closing and reopening, which returns a case to the stage it closed from: so
# a case was enrolled when it is in one of these stages, or closed from one of them. A person whose
# cases never got that far (new, screening, or closed from those) was never enrolled.
ENROLLED_STAGES: frozenset[Stage] = frozenset(
    {
        Stage.INITIAL_ASSESSMENT,
        Stage.INTERVENTION_PLANNING,
        Stage.IMPLEMENTATION,
        Stage.FINAL_ASSESSMENT,
        Stage.MONITORING,
    }
)
BEFORE_ENROLMENT: frozenset[Stage] = frozenset({Stage.NEW, Stage.SCREENING})


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Each period in days. A case on legal hold is kept past its period until the hold is lifted."""

    # A closed case, counted from its closing: then the person and everything of theirs is erased,
    # leaving a tombstone (code, dates, closing reason).
    closed_days: int = 730
    # Screened (or interviewed) but never enrolled, counted from the person's last contact.
    unenrolled_days: int = 183
    # Files sent in the chat (photos, voice, documents), counted from when they were sent.
    attachment_days: int = 365
    # Processed-update marks and inbound webhook rows: only needed to tell a redelivery.
    updates_days: int = 7
    # The audit log (which holds no personal data).
    audit_days: int = 2190
    # An erasure request the person made after a caseworker took their case is carried out or
    # refused (with a reason told to them) within this many days.
    erasure_due_days: int = 30
    # Feedback and complaints (programme.feedback): the first answer is due within this many days;
    # closed feedback is erased this many days after its closing (the people's own is erased with
    # them before that, if they are).
    feedback_answer_days: int = 7
    feedback_kept_days: int = 365

    @property
    def closed(self) -> dt.timedelta:
        return dt.timedelta(days=self.closed_days)

    @property
    def unenrolled(self) -> dt.timedelta:
        return dt.timedelta(days=self.unenrolled_days)

    @property
    def attachments(self) -> dt.timedelta:
        return dt.timedelta(days=self.attachment_days)

    @property
    def updates(self) -> dt.timedelta:
        return dt.timedelta(days=self.updates_days)

    @property
    def audit(self) -> dt.timedelta:
        return dt.timedelta(days=self.audit_days)

    @property
    def erasure_due(self) -> dt.timedelta:
        return dt.timedelta(days=self.erasure_due_days)

    @property
    def feedback_answer(self) -> dt.timedelta:
        return dt.timedelta(days=self.feedback_answer_days)

    @property
    def feedback_kept(self) -> dt.timedelta:
        return dt.timedelta(days=self.feedback_kept_days)


DEFAULT_RETENTION = RetentionPolicy()


# A legal hold's written reason and review date (the console's hold form).
HOLD_REASON_MAX = 2000
# A review further ahead than this is most likely a typing error (2207 for 2027).
HOLD_REVIEW_MAX_DAYS = 5 * 366

HOLD_REASON_NEEDED = N_("Write why the case is held: the reason is what a later review reads.")
HOLD_REASON_TOO_LONG = N_("The reason can be at most 2,000 characters. Shorten it: nothing was saved.")
HOLD_DATE_NEEDED = N_("Give the review date as a date, for example 2027-06-30.")
HOLD_DATE_PAST = N_("The review date must be after today.")
HOLD_DATE_FAR = N_("The review date must be within five years.")


class HoldRefused(ValueError):
    """A hold form the programme does not accept; `message` is a msgid the console shows translated."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def check_hold(*, reason: str, review_on: str, today: dt.date) -> tuple[str, dt.date]:
    """The reason (spaces tidied) and review date of a legal hold, or HoldRefused."""
    text = " ".join(reason.split())
    if not text:
        raise HoldRefused(HOLD_REASON_NEEDED)
    if len(text) > HOLD_REASON_MAX:
        raise HoldRefused(HOLD_REASON_TOO_LONG)
    try:
        review = dt.date.fromisoformat(review_on.strip())
    except ValueError:
        raise HoldRefused(HOLD_DATE_NEEDED) from None
    if review <= today:
        raise HoldRefused(HOLD_DATE_PAST)
    if review > today + dt.timedelta(days=HOLD_REVIEW_MAX_DAYS):
        raise HoldRefused(HOLD_DATE_FAR)
    return text, review
