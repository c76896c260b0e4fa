"""What a person is told about their erasure request, in their language: written by the console and
sent through the outbox (wording.proposals has the same arrangement for proposed times)."""

from __future__ import annotations

import datetime as dt
import html
import zoneinfo

from wording.dates import date_label
from wording.languages import translator


def request_recorded(*, locale: str, due: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    _ = translator(locale)
    return _(
        "A caseworker already has your case, so a supervisor must check whether any of it must be "
        "kept by law. Your request is recorded: by {date} your data will be erased, or we will tell "
        "you here why it cannot be yet."
    ).format(date=date_label(due, zone, locale))


def erased(*, locale: str) -> str:
    _ = translator(locale)
    return _(
        "Your data has been erased, as you asked. If you write to us again, we will start from the beginning."
    )


def refused(*, locale: str, reason: str) -> str:
    """The supervisor's reason, as they wrote it (escaped: the message is sent as HTML)."""
    _ = translator(locale)
    return _(
        "We cannot erase your data yet. The supervisor who looked at your request wrote:\n\n"
        "{reason}\n\nYou can write to us here with any question about it."
    ).format(reason=html.escape(reason))
