"""Sign-in throttling in this console process: per source address, and per account from one address.

An account's own lock (storage: failed_logins, locked_until) counts failures from everywhere, so on
its own anyone who knows a username could keep it locked. Here failures are also remembered per
source address and per (account, address): an address that keeps failing is refused before any
password is checked, and a name locked by guesses from one address still signs in from another.
The account-wide lock stays, at a higher count, against guesses spread over many addresses.
Kept in memory: nothing is stored about who tried, and a restart forgets it (the account-wide lock
is in the database and survives).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

# Failures from one address, whatever the names, before it is refused for the rest of the window.
SOURCE_FAILURES = 20
# Failures of one account from one address before that address is refused for that account.
PAIR_FAILURES = 6
WINDOW_SECONDS = 15 * 60
# Addresses and pairs remembered at most; the oldest are forgotten first.
MAX_TRACKED = 10_000


class _Failures:
    """Failure times per key within the window, for at most MAX_TRACKED keys."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._times: OrderedDict[object, deque[float]] = OrderedDict()

    def _recent(self, key: object) -> deque[float] | None:
        times = self._times.get(key)
        if times is None:
            return None
        horizon = self.clock() - self.window
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._times[key]
            return None
        return times

    def blocked(self, key: object) -> bool:
        times = self._recent(key)
        return times is not None and len(times) >= self.limit

    def add(self, key: object) -> None:
        times = self._recent(key)
        if times is None:
            times = self._times[key] = deque(maxlen=self.limit)
            while len(self._times) > MAX_TRACKED:
                self._times.popitem(last=False)
        else:
            self._times.move_to_end(key)
        times.append(self.clock())

    def clear(self, key: object) -> None:
        self._times.pop(key, None)

    def clear_where(self, matches: Callable[[object], bool]) -> None:
        for key in [key for key in self._times if matches(key)]:
            del self._times[key]


class SignInThrottle:
    def __init__(
        self,
        *,
        source_failures: int = SOURCE_FAILURES,
        pair_failures: int = PAIR_FAILURES,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sources = _Failures(source_failures, window, clock)
        self._pairs = _Failures(pair_failures, window, clock)

    def source_blocked(self, source: str) -> bool:
        """Too many failures from this address: refuse without checking any password."""
        return self._sources.blocked(source)

    def pair_blocked(self, username: str, source: str) -> bool:
        """Too many failures of this account from this address: answered as a wrong password."""
        return self._pairs.blocked((username, source))

    def failed(self, username: str, source: str) -> None:
        self._sources.add(source)
        self._pairs.add((username, source))

    def succeeded(self, username: str, source: str) -> None:
        self._pairs.clear((username, source))

    def forget(self, username: str) -> None:
        """An administrator unlocked the account: no address is held back from it any longer."""
        self._pairs.clear_where(lambda key: isinstance(key, tuple) and key[0] == username)
