"""The worker's daily retention purge (storage.retention): at start, then every day, while this
worker is the elected one (it runs beside the sender, under the same election: intake.runtime).

It logs counts only: never a case code, a name or anything else about a person.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach.leader import DATABASE_LOST, wait_or_stop
from programme.retention import RetentionPolicy
from storage import retention
from storage.crypto import Crypto
from storage.engine import clear_erased
from storage.models import utcnow

log = logging.getLogger(__name__)

DAY = 24 * 60 * 60.0
# A run that failed (database gone for a moment) is tried again this soon, not a day later.
RETRY_AFTER = 15 * 60.0
# After each batch the purge rests at least PAUSE seconds, and REST times as long as the batch took:
# the bot in the same process keeps eight ninths of the time (measured with bench.purge).
PAUSE = 0.01
REST = 8.0


class RetentionWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        crypto: Crypto,
        *,
        policy: RetentionPolicy,
        interval: float = DAY,
        retry_after: float = RETRY_AFTER,
        scan: int = retention.PEOPLE_SCAN,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._crypto = crypto
        self._policy = policy
        self._interval = interval
        self._retry_after = retry_after
        self._scan = scan
        self._clock = clock
        self.runs = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
                wait = self._interval
            except DATABASE_LOST as error:
                log.warning("retention purge stopped (%s); it resumes later", type(error).__name__)
                wait = self._retry_after
            except Exception as error:
                # The sender beside it must keep running. Only the kind is logged: an error's text
                # may quote a row's values.
                log.error("retention purge failed (%s); it is tried again later", type(error).__name__)
                wait = self._retry_after
            await wait_or_stop(stop, wait)

    async def run_once(self) -> retention.PurgeReport:
        """One whole purge at the clock's time; what it removed, in counts."""
        report = await retention.purge(
            self._sessionmaker,
            self._crypto,
            policy=self._policy,
            now=self._clock(),
            scan=self._scan,
            pause=PAUSE,
            rest=REST,
        )
        self.runs += 1
        counts = report.counts()
        if counts["closed"] or counts["unenrolled"] or counts["attachments"]:
            # Erased personal data must not linger in SQLite's write-ahead log.
            await clear_erased(self._sessionmaker.kw["bind"])
        log.info(
            "retention purge: %s in %d batches (the longest %.0f ms)",
            ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items()),
            report.batches,
            report.longest_ms,
        )
        return report
