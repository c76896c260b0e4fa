"""Annex 4, consent to the use of personal information: the text, its version and the choices."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from programme.forms import Option
from programme.text import N_

# Bump when the wording changes: every record keeps the version (and hash) it was given under.
TEXT_VERSION = "2026-11"

TEXT = N_(
    "<b>Consent to use your information</b>\n\n"
    "{controller} runs the Integration Programme and is responsible for your information.\n\n"
    "We use what you tell us to help you: to plan support with you, to arrange meetings, and, "
    "if you agree, to ask state bodies and partner organisations to help solve your problem.\n\n"
    "Your rights:\n"
    "• You can withdraw your consent at any time by writing to us with your reason (/withdraw).\n"
    "• You can ask us to correct or change your information (/correct).\n"
    "• You can see everything we hold about you (/mydata).\n\n"
    "Next, you choose three things separately."
)

# The three separate choices, as the bot asks them and the paper form prints them.
CASEWORK_QUESTION = N_(
    "<b>1 of 3.</b> May we use your information for your case, and share it with state bodies and "
    "partner organisations when that helps to solve your problem?"
)
PUBLICITY_QUESTION = N_("<b>2 of 3.</b> May we use your story to help others learn about the programme?")
THIRD_PARTY_QUESTION = N_(
    "<b>3 of 3.</b> May another person, for example an interpreter, a lawyer or a psychologist, "
    "take part in your meetings?"
)

# The paper form (Annex 4) for signature, in the person's language.
PAPER_NAME = N_("Name")
PAPER_SIGNATURE = N_("Signature")
PAPER_DATE = N_("Date")
PAPER_GUARDIAN = N_("Parent or legal guardian signing for a child: name and relationship")
PAPER_VERSION = N_("Text version {version}")

# Who the text names when the organisation has not set INTAKE_DATA_CONTROLLER.
OUR_ORGANISATION = N_("Our organisation")

PUBLICITY_LEVELS: tuple[Option, ...] = (
    Option("none", N_("No, do not use my story")),
    Option("anonymised", N_("Yes, without my name, address or photo")),
    Option("partly", N_("Yes, a photo only with my age or country, or a false name")),
    Option("not_anonymised", N_("Yes, with my real name and photos")),
)


@dataclass(frozen=True, slots=True)
class Choices:
    casework: bool
    publicity: str
    third_party: bool


WITHDRAWN = Choices(casework=False, publicity="none", third_party=False)


def rendered(gettext: Callable[[str], str], controller: str) -> str:
    """The text as a person reads it, in the language of `gettext`, naming the data controller.

    The bot and the console both build it here, so the same text always has the same hash."""
    return gettext(TEXT).format(controller=controller or gettext(OUR_ORGANISATION))


def text_hash(rendered: str) -> str:
    """The fingerprint of the exact text a person was shown, in their language."""
    return hashlib.sha256(rendered.encode("utf-8")).hexdigest()
