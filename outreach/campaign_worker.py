"""The worker's campaign loop, beside the sender: starts scheduled campaigns, expands them into the
outbox a batch at a time, and marks them done when every row is settled; at its start it fills the
city index of people the schema upgrade marked (storage.city)."""

from __future__ import annotations

import asyncio
import logging
import zoneinfo
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach.campaigns import DEFAULT_APPROVAL_BELOW, advance_statuses, expand_batch, to_expand
from outreach.leader import wait_or_stop
from storage import city, phone
from storage.crypto import Crypto
from storage.models import utcnow

log = logging.getLogger(__name__)


class CampaignWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        crypto: Crypto,
        *,
        zone: zoneinfo.ZoneInfo,
        rate: float,
        bot_username: Callable[[], Awaitable[str | None]],
        batch: int = 1000,
        interval: float = 1.0,
        approval_below: int = DEFAULT_APPROVAL_BELOW,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._crypto = crypto
        self._zone = zone
        self._rate = rate
        self._bot_username = bot_username
        self._batch = batch
        self._interval = interval
        self._approval_below = approval_below

    async def run(self, stop: asyncio.Event) -> None:
        # People who answered the interview before the city index existed get theirs before any
        # campaign is expanded (the migration could only mark them: it has no keys).
        await city.fill_pending(self._sessionmaker, self._crypto)
        # The same for the phone index the console searches (storage.phone).
        await phone.fill_pending(self._sessionmaker, self._crypto)
        while not stop.is_set():
            await self.run_once(stop)
            await wait_or_stop(stop, self._interval)

    async def run_once(self, stop: asyncio.Event | None = None) -> int:
        """One pass over every campaign; returns the outbox rows it made."""
        async with self._sessionmaker() as session, session.begin():
            await advance_statuses(session, now=utcnow())
            waiting = await to_expand(session, now=utcnow())
        made = 0
        if waiting:
            username = await self._bot_username()
        for campaign_id in waiting:
            while stop is None or not stop.is_set():
                async with self._sessionmaker() as session, session.begin():
                    count = await expand_batch(
                        session,
                        self._crypto,
                        campaign_id,
                        zone=self._zone,
                        rate=self._rate,
                        bot_username=username,
                        batch=self._batch,
                        approval_below=self._approval_below,
                    )
                made += count
                if count < self._batch:
                    log.info("campaign %s is in the outbox", campaign_id)
                    break
                await asyncio.sleep(0)  # the bot's own writes get their turn between batches
        if made:
            async with self._sessionmaker() as session, session.begin():
                await advance_statuses(session, now=utcnow())
        return made
