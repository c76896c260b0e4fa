"""The message that tells a person a caseworker proposed a time, in the person's language.

Written by the console and sent through the outbox; its two buttons carry the proposal's own
token (wording.taps.Tap), which bot.dialogs.proposals checks against the stored proposal, so
a forged or outdated button changes nothing.
"""

from __future__ import annotations

import datetime as dt
import html
import zoneinfo
from typing import Any

from programme.appointments import APPOINTMENT_TYPES
from wording.dates import date_label, time_label
from wording.languages import marked_lines, piece, translator
from wording.taps import tap_data

ACCEPT, OTHER = "pa", "po"
# Proposal tokens are longer than a dialog step's (bot.conversation.Conversation.buttons).
TOKEN_BYTES = 12


def when(start: dt.datetime, zone: zoneinfo.ZoneInfo, locale: str) -> str:
    _ = translator(locale)
    return _("{date} at {time}").format(
        date=date_label(start, zone, locale), time=time_label(start, zone, locale)
    )


def proposal_message(
    *,
    locale: str,
    token: str,
    appointment_type: str,
    office_name: str,
    office_address: str,
    starts_at: dt.datetime,
    zone: zoneinfo.ZoneInfo,
    moving: dt.datetime | None,
) -> tuple[str, dict[str, Any]]:
    """The text (HTML) and inline keyboard of a proposal; `moving`: the time it would replace."""
    _ = translator(locale)
    if moving is not None:
        heading = _("<b>Your caseworker proposes to move your appointment</b>")
        before = "\n" + _("Now: {when}").format(when=when(moving, zone, locale))
    else:
        heading = _("<b>Your caseworker proposes an appointment</b>")
        before = ""
    text = marked_lines(
        "\n".join(
            [
                heading,
                "",
                "📋 " + _(APPOINTMENT_TYPES[appointment_type]),
                "🏢 " + piece(html.escape(office_name), locale),
                "📍 " + piece(html.escape(office_address), locale),
                "🗓 " + when(starts_at, zone, locale) + before,
                "",
                _("Does this time suit you?"),
            ]
        ),
        locale,
    )
    rows = [[("✅ " + _("Accept"), ACCEPT)], [("🗓 " + _("Choose another time"), OTHER)]]
    markup = {
        "inline_keyboard": [
            [{"text": label, "callback_data": tap_data(token, value)} for label, value in row] for row in rows
        ]
    }
    return text, markup


def withdrawn_message(*, locale: str, starts_at: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    _ = translator(locale)
    return _("The time proposed to you for {when} is withdrawn. Nothing else has changed.").format(
        when=when(starts_at, zone, locale)
    )
