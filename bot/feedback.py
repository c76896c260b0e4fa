"""What a person is told when the programme answers their feedback, in their language: written by
the console and sent through the outbox (as bot.erasure is for erasure requests)."""

from __future__ import annotations

import html

from bot.proposals import translator
from programme.feedback import shown


def answered(*, locale: str, reference: str, answer: str) -> str:
    """The staff member's answer, as they wrote it (escaped: the message is sent as HTML), framed by
    a line in the person's language."""
    _ = translator(locale)
    return (
        _("An answer to your feedback {reference}:").format(reference=shown(reference))
        + "\n\n"
        + html.escape(answer)
    )
