"""Alerts on the staff's own phones: their kinds, who may choose them off, and what they say.

Plain rules, no I/O. A lock screen shows a message to anyone near the phone, so an alert says only
its kind, the case code and a link to the console page: never a name, an answer or what was written.
An alert about feedback says not even its kind or reference number (for anonymous feedback the
number is all that leads to it): only that one waits, and a link to the feedback list.
The texts are the console's (its catalog, en/az/ru: the staff member reads them in the language
they chose for the console); the worker renders them (outreach.staff_alerts).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import html
import re
import zoneinfo
from typing import Protocol

from programme.reminders import QuietHours, parse_offsets
from programme.text import N_, NP_, Plural


class Kind(enum.StrEnum):
    """What an alert is about; `URGENT`, `CRISIS` and `ESCALATED` ignore quiet hours."""

    URGENT = "urgent"  # someone asked for urgent help (/urgent, the menu's button)
    CRISIS = "crisis_words"  # words of crisis in what someone wrote
    ESCALATED = "escalated"  # an urgent alert nobody opened in time, to every supervisor
    MESSAGE = "message"  # a new message in a handoff, on the case
    WAITING = "waiting"  # a handoff waiting unassigned longer than the setting
    # feedback past its due time without a first answer, to those who may read it (no case)
    FEEDBACK_OVERDUE = "feedback_overdue"


# The bot's alerts on a case (storage.journey.raise_alert) that go to phones; an adverse event is
# recorded in the console by the staff who already know of it.
URGENT_KINDS = frozenset({Kind.URGENT, Kind.CRISIS})
IGNORE_QUIET_HOURS = frozenset({Kind.URGENT, Kind.CRISIS, Kind.ESCALATED})

# The console page each kind's link opens (the case code is put in).
PAGES: dict[Kind, str] = {
    Kind.URGENT: "/cases/{code}/adverse#alerts",
    Kind.CRISIS: "/cases/{code}/adverse#alerts",
    Kind.ESCALATED: "/cases/{code}/adverse#alerts",
    Kind.MESSAGE: "/cases/{code}/conversation",
    Kind.WAITING: "/cases/{code}",
    Kind.FEEDBACK_OVERDUE: "/feedback",  # the list: an item's address holds its reference
}

TEXTS: dict[Kind, str | Plural] = {
    Kind.URGENT: N_("🚨 Urgent help asked for, case {code}."),
    Kind.CRISIS: N_("🚨 Words of crisis written, case {code}."),
    Kind.ESCALATED: NP_(
        "🚨 An urgent alert nobody opened within {minutes} minute, case {code}.",
        "🚨 An urgent alert nobody opened within {minutes} minutes, case {code}.",
    ),
    Kind.MESSAGE: N_("✉️ A new message, case {code}."),
    Kind.WAITING: NP_(
        "⏳ A handoff has waited more than {minutes} minute for a caseworker, case {code}.",
        "⏳ A handoff has waited more than {minutes} minutes for a caseworker, case {code}.",
    ),
    Kind.FEEDBACK_OVERDUE: NP_(
        "⏳ Feedback or a complaint has waited more than {days} day for a first answer.",
        "⏳ Feedback or a complaint has waited more than {days} days for a first answer.",
    ),
}
OPEN = N_("Open it in the console:")


class Translations(Protocol):
    """A catalog (gettext.NullTranslations or Babel's) in the reader's console language."""

    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
DEFAULT_ESCALATE_AFTER = dt.timedelta(minutes=15)
DEFAULT_WAITING_AFTER = dt.timedelta(hours=4)
DEFAULT_FEEDBACK_ANSWER = dt.timedelta(days=7)


@dataclasses.dataclass(frozen=True, slots=True)
class AlertPolicy:
    """The organisation's settings: when an unopened urgent alert goes to every supervisor, when
    an unassigned handoff is said to wait too long (None: never), and the time feedback is given
    for its first answer (its due time, INTAKE_FEEDBACK_ANSWER_DAYS)."""

    escalate_after: dt.timedelta = DEFAULT_ESCALATE_AFTER
    waiting_after: dt.timedelta | None = DEFAULT_WAITING_AFTER
    feedback_answer: dt.timedelta = DEFAULT_FEEDBACK_ANSWER


@dataclasses.dataclass(frozen=True, slots=True)
class Choice:
    """One account's choice of alerts, and its quiet hours (None: none)."""

    urgent: bool = True
    messages: bool = True
    waiting: bool = True
    feedback: bool = True
    quiet: QuietHours | None = None

    def wants(self, kind: Kind) -> bool:
        if kind in URGENT_KINDS:
            return self.urgent
        if kind is Kind.MESSAGE:
            return self.messages
        if kind is Kind.WAITING:
            return self.waiting
        if kind is Kind.FEEDBACK_OVERDUE:
            return self.feedback
        return True  # an escalation goes to every supervisor: it cannot be chosen off

    def receives(self, kind: Kind, now: dt.datetime, zone: zoneinfo.ZoneInfo) -> bool:
        """Whether this account gets an alert of `kind` at `now`: chosen, and outside its quiet
        hours unless the alert is urgent."""
        if not self.wants(kind):
            return False
        if kind in IGNORE_QUIET_HOURS or self.quiet is None:
            return True
        return not self.quiet.contains(now.astimezone(zone).time().replace(tzinfo=None))


def parse_duration(text: str, *, allow_off: bool) -> dt.timedelta | None:
    """ "15m", "4h", "1d" → a duration; "off" → None where `allow_off`."""
    if allow_off and text.strip().lower() in ("off", "none"):
        return None
    try:
        found = parse_offsets(text)
    except ValueError:
        found = ()
    if len(found) != 1 or "," in text:
        raise ValueError(f"{text.strip()!r} is not a duration like 15m, 4h or 1d (1 minute to 30 days)")
    return found[0]


def clock(text: str | None) -> dt.time | None:
    """ "21:30" → 21:30; None or "" → None; anything else raises ValueError."""
    if not text:
        return None
    if _CLOCK.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not a time like 21:30")
    return dt.time.fromisoformat(text)


def quiet_hours(start: str | None, end: str | None) -> QuietHours | None:
    """Quiet hours from two stored times; None when either is missing or they are equal."""
    first, last = clock(start), clock(end)
    if first is None or last is None or first == last:
        return None
    return QuietHours(first, last)


def render(
    kind: Kind,
    *,
    code: str,
    base_url: str,
    translate: Translations,
    policy: AlertPolicy,
) -> str:
    """The alert's text (Telegram HTML) in the reader's console language: kind, case code (none
    for feedback), link."""
    after = policy.escalate_after if kind is Kind.ESCALATED else policy.waiting_after
    minutes = int((after or dt.timedelta(0)).total_seconds() // 60)
    days = policy.feedback_answer.days
    text = TEXTS[kind]
    if isinstance(text, Plural):
        count = days if kind is Kind.FEEDBACK_OVERDUE else minutes
        line = translate.ngettext(text.singular, text.plural, count)
    else:
        line = translate.gettext(text)
    line = line.format(code=code, minutes=minutes, days=days)
    link = base_url.rstrip("/") + PAGES[kind].format(code=code)
    return f"{html.escape(line)}\n{html.escape(translate.gettext(OPEN))} {html.escape(link)}"
