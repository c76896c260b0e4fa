"""Annex 4, consent to the use of personal information: the text, its version and the choices."""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable
from dataclasses import dataclass

from programme.forms import Option
from programme.retention import DEFAULT_RETENTION, RetentionPolicy
from programme.text import N_
from texts.bidi import without_controls

# Bump when the wording changes: every record keeps the version (and hash) it was given under.
TEXT_VERSION = "2026-12"

TEXT = N_(
    "<b>Consent to use your information</b>\n\n"
    "{responsible}\n\n"
    "We use what you tell us to help you: to plan support with you, to arrange meetings and remind "
    "you of them, and, if you agree, to ask state bodies and partner organisations to help solve "
    "your problem.\n\n"
    "{retention}\n\n"
    "{rights}\n\n"
    "Next, you choose three things separately."
)

# The parts the consent text and the bot's privacy notice share, so the two always agree.
RESPONSIBLE = N_(
    "{controller} runs the Integration Programme and is responsible for your information. "
    "Questions about your information: {contact}."
)
# Where people ask about their data when the organisation has not set INTAKE_DATA_CONTACT.
CONTACT_HERE = N_("write to us here in this chat")
RETENTION = N_(
    "How long we keep your information:\n"
    "• after your case is closed: {closed}, then it is erased;\n"
    "• if you do not join the programme: {unenrolled} after your last message to us;\n"
    "• photos, voice messages and files you send in the chat: {attachments} after you send them.\n"
    "If you ask us to erase it, we do so, or tell you why we cannot, within {erasure_due}."
)
# /withdraw and "Withdraw my consent" (/consent) are one and the same stop: bot.dialogs.mydata.
RIGHTS = N_(
    "Your rights:\n"
    "• A copy of everything we hold about you: /mydata\n"
    "• Correct or change your information: /correct\n"
    "• Erase your information: /delete\n"
    "• Stop taking part at any time: /withdraw, and tell us why in a few words. This also withdraws "
    "your consent, as “Withdraw my consent” in /consent does: we stop using your information at once "
    "(no news, no reminders, no referrals to partners) and a caseworker closes your case."
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


Gettext = Callable[[str], str]
Ngettext = Callable[[str, str, int], str]

# An average month, so 183 days read "6 months" and 30 days "1 month".
DAYS_PER_MONTH = 365.25 / 12


def period(ngettext: Ngettext, days: int) -> str:
    """A retention period as a person reads it: in years or months when it is about that, else days."""
    if days >= 365 and days % 365 == 0:
        years = days // 365
        return ngettext("{count} year", "{count} years", years).format(count=years)
    months = round(days / DAYS_PER_MONTH)
    if months >= 1 and abs(days - months * DAYS_PER_MONTH) <= 3:
        return ngettext("{count} month", "{count} months", months).format(count=months)
    return ngettext("{count} day", "{count} days", days).format(count=days)


def data_protection(
    gettext: Gettext, ngettext: Ngettext, *, controller: str, contact: str, retention: RetentionPolicy
) -> dict[str, str]:
    """Who is responsible, whom to ask, how long data is kept and the person's rights, from the
    settings, in the language of `gettext`: the parts of the consent text and the privacy notice."""
    responsible = gettext(RESPONSIBLE).format(
        controller=html.escape(controller, quote=False) or gettext(OUR_ORGANISATION),
        contact=html.escape(contact, quote=False) or gettext(CONTACT_HERE),
    )
    kept = gettext(RETENTION).format(
        closed=period(ngettext, retention.closed_days),
        unenrolled=period(ngettext, retention.unenrolled_days),
        attachments=period(ngettext, retention.attachment_days),
        erasure_due=period(ngettext, retention.erasure_due_days),
    )
    return {"responsible": responsible, "retention": kept, "rights": gettext(RIGHTS)}


def rendered(
    gettext: Gettext,
    ngettext: Ngettext,
    *,
    controller: str,
    contact: str,
    retention: RetentionPolicy = DEFAULT_RETENTION,
) -> str:
    """The text as a person reads it, in the language of `gettext`, naming the data controller, the
    contact for data questions, the retention periods and the rights (all from the settings).

    The bot and the console both build it here, so the same text always has the same hash; a change
    of any setting it names makes another text, with another hash."""
    parts = data_protection(gettext, ngettext, controller=controller, contact=contact, retention=retention)
    return gettext(TEXT).format(**parts)


def text_hash(rendered: str) -> str:
    """The fingerprint of the exact words a person was shown, in their language; the direction
    marks around its left-to-right pieces (texts.bidi) are layout, not words, and are left out."""
    return hashlib.sha256(without_controls(rendered).encode("utf-8")).hexdigest()
