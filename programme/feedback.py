"""Feedback and complaints from the people served: the kinds, who may read each, the statuses and
the reference number a person keeps (no I/O; storage.feedback keeps them, docs/programme.md
"Feedback and complaints" says why)."""

from __future__ import annotations

import enum
import secrets
import unicodedata

from programme.text import N_


class Kind(enum.StrEnum):
    THANKS = "thanks"  # a thank-you or a suggestion
    SERVICE = "service"  # a problem with the service: an appointment, a wait, a wrong answer
    STAFF = "staff"  # a complaint about how a staff member treated them
    AFRAID = "afraid"  # something they are afraid to say to their caseworker


KIND_LABELS: dict[Kind, str] = {
    Kind.THANKS: N_("A thank-you or a suggestion"),
    Kind.SERVICE: N_("A problem with the service (an appointment, a wait, a wrong answer)"),
    Kind.STAFF: N_("A complaint about how a staff member treated me"),
    Kind.AFRAID: N_("Something I am afraid to say to my caseworker"),
}


class Routing(enum.StrEnum):
    SUPERVISORS = "supervisors"
    FOCAL_POINTS = "focal_points"  # supervisors an administrator named focal points, no one else


def routing_of(kind: Kind) -> Routing:
    """A complaint about staff, or what the person is afraid to say, reaches the focal points only:
    never the case's caseworker, nor a supervisor who is not a focal point."""
    return Routing.FOCAL_POINTS if kind in (Kind.STAFF, Kind.AFRAID) else Routing.SUPERVISORS


class Status(enum.StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    CLOSED = "closed"


STATUS_LABELS: dict[Status, str] = {
    Status.NEW: N_("received, not yet read"),
    Status.IN_PROGRESS: N_("being looked at"),
    Status.ANSWERED: N_("answered"),
    Status.CLOSED: N_("closed"),
}

# The reference is digits only: every keyboard (Arabic, Cyrillic, Latin script) can type them, in
# whatever digits it has (read back by `read_reference`). Eight random digits: a hundred million
# numbers for a few thousand pieces of feedback, and wrong guesses are limited in the bot.
REFERENCE_DIGITS = 8
PREFIX = "FB-"


def new_reference() -> str:
    digits = "".join(secrets.choice("0123456789") for _ in range(REFERENCE_DIGITS))
    return PREFIX + digits


def shown(reference: str) -> str:
    """FB-48291736 as people read it: FB-4829-1736."""
    digits = reference.removeprefix(PREFIX)
    half = len(digits) // 2
    return f"{PREFIX}{digits[:half]}-{digits[half:]}"


def read_reference(typed: str) -> str | None:
    """The reference in what someone typed (any script's digits, spaces, dashes, with or without
    FB), or None when it cannot be one."""
    digits = ""
    for char in typed:
        value = unicodedata.decimal(char, None)
        if value is not None:
            digits += str(value)
    if len(digits) != REFERENCE_DIGITS or len(typed) > 40:
        return None
    return PREFIX + digits
