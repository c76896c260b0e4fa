"""Ready replies as supervisors write them: a label in the console's languages, a text in each of
the bot's languages. Reading and checking the console's form, and which languages a reply lacks.

A text may hold placeholders (PLACEHOLDERS, such as {hours}), filled in the person's language when
the reply is sent; the form refuses any other name in braces. A reply goes to a person in their
language only: one without a text in it is not offered for their case (the console says which
languages a reply lacks), never sent in another language.
Plain Python, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from programme.organisation import LANGUAGES
from programme.text import N_
from texts.visible import clean_line, visible

# The console's languages, in which the label may be given.
LABEL_LANGUAGES: tuple[str, ...] = ("en", "az", "ru")
LABEL_MAX = 120
# A Telegram message holds 4,096 characters; escaping for HTML and the caseworker's line need room.
TEXT_MAX = 1000

LABEL_NEEDED = N_("Give the label in at least one of the console's languages.")
LABEL_TOO_LONG = N_("A label is at most 120 characters.")
TEXT_NEEDED = N_("Give the text in at least one of the bot's languages.")
TEXT_TOO_LONG = N_("A text is at most 1,000 characters.")
UNKNOWN_PLACEHOLDER = N_(
    "%(placeholder)s is not a placeholder a ready reply can hold: write %(known)s exactly, or the "
    "text without the braces."
)

# What a text may hold in braces, filled in the person's language when the reply is sent
# (wording.replies.ready_reply_text), and what the form says each is.
PLACEHOLDERS: dict[str, str] = {
    "hours": N_(
        "the programme's hours for each day of the week, as saved on the Organisation page, in the "
        "person's language; days without hours are said to be closed"
    ),
}
# Anything in braces on one line: a known name or a mistake the form names ({Hours}, { hours }).
_BRACED = re.compile(r"\{[^{}\n]*\}")

Message = tuple[str, dict[str, Any]]


def label_in(labels: Mapping[str, str], locale: str) -> str:
    """The label in the console's language, else the first given (English, Azerbaijani, Russian)."""
    return labels.get(locale) or next((labels[code] for code in LABEL_LANGUAGES if labels.get(code)), "")


def lacking(texts: Mapping[str, str]) -> list[str]:
    """The bot's languages a reply has no text in, in the bot's order."""
    return [code for code in LANGUAGES if not texts.get(code)]


def unknown_placeholders(text: str) -> list[str]:
    """What `text` holds in braces that is not exactly a placeholder, in the order written."""
    known = {"{" + name + "}" for name in PLACEHOLDERS}
    return list(dict.fromkeys(found for found in _BRACED.findall(text) if found not in known))


def read_form(
    form: Mapping[str, Any],
) -> tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, Message]]:
    """The labels and texts the form gives (empty ones left out), the values to show again, and a
    message per wrong field. A text keeps its lines; both lose invisible characters."""
    values: dict[str, str] = {}
    errors: dict[str, Message] = {}
    for code in LABEL_LANGUAGES:
        values[f"label_{code}"] = clean_line(str(form.get(f"label_{code}") or ""))
        if len(values[f"label_{code}"]) > LABEL_MAX:
            errors[f"label_{code}"] = (LABEL_TOO_LONG, {})
    for code in LANGUAGES:
        text = "\n".join(line.strip() for line in visible(str(form.get(f"text_{code}") or "")).splitlines())
        values[f"text_{code}"] = text.strip()
        if len(values[f"text_{code}"]) > TEXT_MAX:
            errors[f"text_{code}"] = (TEXT_TOO_LONG, {})
        elif unknown := unknown_placeholders(values[f"text_{code}"]):
            known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
            errors[f"text_{code}"] = (UNKNOWN_PLACEHOLDER, {"placeholder": unknown[0], "known": known})
    labels = {code: values[f"label_{code}"] for code in LABEL_LANGUAGES if values[f"label_{code}"]}
    texts = {code: values[f"text_{code}"] for code in LANGUAGES if values[f"text_{code}"]}
    if not labels:
        errors[f"label_{LABEL_LANGUAGES[0]}"] = (LABEL_NEEDED, {})
    if not texts:
        errors[f"text_{LANGUAGES[0]}"] = (TEXT_NEEDED, {})
    return labels, texts, values, errors
