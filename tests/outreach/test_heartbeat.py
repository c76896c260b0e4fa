"""The active sender's heartbeat: rewritten while it runs, naming the host and process, and left as
it was once it stops (what the operations page reads as stopped)."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach.heartbeat import beat_while_running, who
from storage import ops


async def beats(sessionmaker: async_sessionmaker[AsyncSession]) -> list:
    async with sessionmaker() as session:
        marker = await ops.marker(session, ops.SENDER_HEARTBEAT)
        return [] if marker is None else [marker.at, marker.detail]


async def test_the_sender_beats_while_it_runs(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(beat_while_running(sessionmaker, stop, every=0.05))
    async with asyncio.timeout(10):
        while not (first := await beats(sessionmaker)):  # noqa: ASYNC110 - the task writes on its own
            await asyncio.sleep(0.02)
        while (later := await beats(sessionmaker))[0] == first[0]:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    stop.set()
    await running
    assert first[1] == later[1] == who()
    assert later[0] > first[0]
    last = await beats(sessionmaker)
    await asyncio.sleep(0.2)
    assert await beats(sessionmaker) == last  # stopped: no more beats
