"""What the bot adds to every campaign message: how to get no more of them, in the reader's language."""

from __future__ import annotations

import functools

from aiogram.utils.i18n import I18n

from bot.i18n import LANGUAGES, create_i18n
from programme.text import N_

OPT_OUT = N_("To get no more news from us, send /stop.")


@functools.cache
def _catalogs() -> I18n:
    return create_i18n()


def opt_out_line(language: str) -> str:
    """The /stop line in one of the bot's languages (English for a code it does not speak)."""
    return _catalogs().gettext(OPT_OUT, locale=language if language in LANGUAGES else "en")
