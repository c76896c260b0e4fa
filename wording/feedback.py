"""What a person is told when the programme answers their feedback, and the one question asked after
their case closed, in their language: written by the console and sent through the outbox (as
wording.erasure is for erasure requests)."""

from __future__ import annotations

import html
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from programme.feedback import shown
from programme.text import N_
from wording.languages import translator


def answered(*, locale: str, reference: str, answer: str) -> str:
    """The staff member's answer, as they wrote it (escaped: the message is sent as HTML), framed by
    a line in the person's language."""
    _ = translator(locale)
    return (
        _("An answer to your feedback {reference}:").format(reference=shown(reference))
        + "\n\n"
        + html.escape(answer)
    )


class SatisfactionTap(CallbackData, prefix="sat"):
    """A press of the question asked after a case closed: its own token (22 characters), not the
    dialog's, so it arriving mid-dialog leaves the step's buttons live; and the rating."""

    token: str
    rating: str


class CommentTap(CallbackData, prefix="satc"):
    """ "Add a comment" under the thanks for an answer to that question: the question's token."""

    token: str


RATING_LABELS: dict[str, str] = {
    "yes": N_("Yes, it helped me"),
    "partly": N_("Partly"),
    "no": N_("No"),
}


def satisfaction_question(*, locale: str, token: str) -> tuple[str, dict[str, Any]]:
    """The one question after a case closed, in the person's language, with its buttons."""
    _ = translator(locale)
    text = _("Your case is closed. Was the programme helpful to you? You do not have to answer.")
    markup = {
        "inline_keyboard": [
            [{"text": _(label), "callback_data": SatisfactionTap(token=token, rating=rating).pack()}]
            for rating, label in RATING_LABELS.items()
        ]
    }
    return text, markup


def comment_offer(*, locale: str, token: str) -> InlineKeyboardMarkup:
    """The one button under the thanks for a rating: an optional comment, given as feedback."""
    _ = translator(locale)
    button = InlineKeyboardButton(
        text="✍️ " + _("Add a comment"), callback_data=CommentTap(token=token).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button]])
