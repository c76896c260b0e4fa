"""Outreach channels: where a flyer or a link was handed out, so each applicant's channel is known.

A channel's code is the deep link's start parameter (`https://t.me/<bot>?start=<code>`), so it
follows Telegram's rule for one: 1-64 of A-Z a-z 0-9 _ and -. It never changes once made, because
flyers with it are already printed; its name, kind and flyer languages may.
"""

from __future__ import annotations

import enum
import re
import secrets

CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Values Case.source already has for cases that came without a channel.
RESERVED_CODES = frozenset({"bot", "console"})
NAME_MAX = 120
# A figure under this is shown as "<5", so that a small group cannot be singled out.
SMALL_CELL = 5


class ChannelKind(enum.StrEnum):
    UNIVERSITY = "university"
    PUBLIC_SERVICE_CENTRE = "public_service_centre"
    HOSPITAL = "hospital"
    COMMUNITY_MEETING = "community_meeting"
    OTHER = "other"


class ChannelRefused(ValueError):
    """Input a channel cannot be made or changed with; `message` is a msgid the console translates."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def valid_code(code: str) -> bool:
    return CODE.fullmatch(code) is not None and code not in RESERVED_CODES


def new_code() -> str:
    """A code nobody can guess from another flyer's: 8 random URL-safe characters."""
    return secrets.token_urlsafe(6)


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def masked(count: int) -> str:
    """A figure as shown: counts under SMALL_CELL (zero too) are "<5"."""
    return f"<{SMALL_CELL}" if count < SMALL_CELL else str(count)
