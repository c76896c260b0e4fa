"""How long the programme keeps what it holds about a person, and when an erasure request is due.

Plain values, no I/O: the settings (`INTAKE_RETAIN_*`, `INTAKE_ERASURE_DUE_DAYS`) fill a
`RetentionPolicy`; the worker's purge (storage) and the texts that tell people how long their data
is kept (the consent text, the privacy notice) both read it, so the two cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


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


DEFAULT_RETENTION = RetentionPolicy()
