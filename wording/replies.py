"""The line above a caseworker's reply: who is writing, in the reader's language.

A reply arrives in the same chat as the bot's own questions; the line says a person wrote it.
"""

from __future__ import annotations

from programme.text import N_
from wording.languages import locale_of, translator

FROM_CASEWORKER = N_("💬 Your caseworker:")


def caseworker_reply(text_html: str, *languages: str | None) -> str:
    """The reply (already HTML) under its label, in the first of `languages` the bot speaks."""
    say = translator(locale_of(*languages))
    return say(FROM_CASEWORKER) + "\n" + text_html
