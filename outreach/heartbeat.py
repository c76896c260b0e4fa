"""The active sender's heartbeat: a marker rewritten every few seconds while it works, which the
console's operations page reads to say whether the worker is alive (storage.ops)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach.leader import DATABASE_LOST, wait_or_stop
from storage.ops import SENDER_HEARTBEAT, beat

log = logging.getLogger(__name__)

# How often the sender beats; the operations page calls it stopped after a few missed beats.
BEAT_EVERY = 10.0


def who() -> str:
    """The host and process that beats (no person's data), for telling replicas apart."""
    return f"{socket.gethostname()[:90]} pid {os.getpid()}"


async def beat_while_running(
    sessionmaker: async_sessionmaker[AsyncSession], stop: asyncio.Event, *, every: float = BEAT_EVERY
) -> None:
    detail = who()
    while not stop.is_set():
        try:
            async with sessionmaker() as session, session.begin():
                await beat(session, SENDER_HEARTBEAT, detail)
        except DATABASE_LOST as error:
            log.warning("could not write the sender's heartbeat (%s)", type(error).__name__)
        await wait_or_stop(stop, every)
