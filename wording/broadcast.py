"""What every campaign message ends with: how to get no more of them, in the reader's language."""

from __future__ import annotations

from programme.text import N_
from wording.languages import locale_of, translator

OPT_OUT = N_("To get no more news from us, send /stop.")


def opt_out_line(language: str) -> str:
    """The /stop line in one of the bot's languages (English for a code it does not speak)."""
    return translator(locale_of(language))(OPT_OUT)
