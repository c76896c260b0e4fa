"""Flood control per chat: beyond a burst, an update is answered once with a calm "please wait" and
the rest are dropped (no transaction of the dialog, no alert) until the chat's rate falls.

Counted in this process, before the update's transaction: a flooding chat costs a dictionary lookup
per update instead of a dialog step. In webhook mode an update has already been stored when it gets
here (Telegram is answered only once it is), so there the guard spares the handling, and the queue
row goes with the next claim. Several webhook replicas each count what reaches them, so a chat
spread over them gets the burst once per replica; that still bounds what one account can cost.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

# More than BURST updates of one chat within WINDOW seconds is a flood (a person typing fast, or
# tapping through a form, stays far below it).
BURST = 20
WINDOW = 10.0
# Chats remembered at most (the least recently seen are forgotten first).
MAX_CHATS = 50_000


_LIMIT = re.compile(r"\s*(\d{1,5})\s*/\s*(\d{1,5})\s*s\s*")


@dataclass(frozen=True, slots=True)
class FloodLimit:
    """More than `burst` updates of one chat within `window` seconds is a flood."""

    burst: int = BURST
    window: float = WINDOW


DEFAULT_FLOOD = FloodLimit()


def parse_flood_limit(value: str) -> FloodLimit | None:
    """INTAKE_FLOOD_LIMIT: "20/10s" (updates per seconds), or "off" (None)."""
    if value.strip().lower() == "off":
        return None
    match = _LIMIT.fullmatch(value)
    if match is None or int(match[1]) < 1 or int(match[2]) < 1:
        raise ValueError("expected updates per seconds, such as 20/10s, or off")
    return FloodLimit(burst=int(match[1]), window=float(match[2]))


class Verdict(Enum):
    HANDLE = "handle"  # within the rate
    WARN = "warn"  # the first update over it: answer "please wait", do nothing else
    DROP = "drop"  # over it, already warned: nothing at all


@dataclass(slots=True)
class _Chat:
    arrivals: deque[float]
    warned: bool = False
    # The language the person chose, seen on their last handled update: the "please wait" is
    # written in it without reading the database.
    language: str | None = field(default=None)


class FloodGuard:
    def __init__(
        self, limit: FloodLimit | None = FloodLimit(), *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.clock = clock
        self._chats: OrderedDict[int, _Chat] = OrderedDict()

    def check(self, chat_id: int) -> Verdict:
        """Count one update of `chat_id` and say what to do with it."""
        if self.limit is None:
            return Verdict.HANDLE
        burst, window = self.limit.burst, self.limit.window
        now = self.clock()
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat(deque(maxlen=burst + 1))
            if len(self._chats) > MAX_CHATS:
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(chat_id)
        chat.arrivals.append(now)
        while chat.arrivals and chat.arrivals[0] <= now - window:
            chat.arrivals.popleft()
        if len(chat.arrivals) <= burst:
            chat.warned = False
            return Verdict.HANDLE
        if chat.warned:
            return Verdict.DROP
        chat.warned = True
        return Verdict.WARN

    def remember_language(self, chat_id: int, language: str | None) -> None:
        chat = self._chats.get(chat_id) if self.limit is not None else None
        if chat is not None:
            chat.language = language

    def language(self, chat_id: int) -> str | None:
        chat = self._chats.get(chat_id)
        return chat.language if chat is not None else None
