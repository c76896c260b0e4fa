"""The line above a caseworker's reply: who is writing, in the reader's language; and a ready
reply's text with its placeholders filled in the reader's language.

A reply arrives in the same chat as the bot's own questions; the line says a person wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from programme.appointments import Interval
from programme.ready_replies import PLACEHOLDERS
from programme.text import N_
from wording.hours import opening_hours
from wording.languages import locale_of, translator

_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")

FROM_CASEWORKER = N_("💬 Your caseworker:")


def caseworker_reply(text_html: str, *languages: str | None) -> str:
    """The reply (already HTML) under its label, in the first of `languages` the bot speaks."""
    say = translator(locale_of(*languages))
    return say(FROM_CASEWORKER) + "\n" + text_html


def ready_reply_text(text: str, locale: str, *, hours: Mapping[int, Sequence[Interval]]) -> str:
    """A ready reply's text (a supervisor's, in the reader's language `locale`) as it is sent and
    previewed: {hours} becomes the programme's hours as saved now (wording.hours, a line for each
    set of days). Braces around anything else are left as written (the form refuses them)."""
    values = {"hours": lambda: opening_hours(hours, locale)}
    return _PLACEHOLDER.sub(lambda found: values[found[1]](), text)
