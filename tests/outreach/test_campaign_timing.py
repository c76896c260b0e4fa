"""A campaign's timing after a pause and through failures: resumed rows keep the spread over what is
left of its window (or their share of it), nothing goes out in quiet hours, and the estimated finish
counts quiet hours and the spread."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import itertools
import math
import uuid
import zoneinfo
from typing import Any

import pytest
from aiogram import Bot
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach import campaigns
from outreach.campaigns import CampaignStatus
from outreach.sender import Sender
from sandbox.client import SandboxClient
from storage.crypto import Crypto
from storage.models import OutboxMessage, utcnow
from storage.models_outreach import Campaign
from storage.outbox import Lane, Status
from tests.outreach.conftest import campaign_worker, copies_per_chat, drain, recipients
from tests.outreach.test_campaigns import (
    BAKU,
    NIGHT,
    add,
    baku,
    campaign_rows,
    expand_all,
    new_campaign,
    people_in,
    received_order,
)

UTC = zoneinfo.ZoneInfo("UTC")
MINUTE = dt.timedelta(minutes=1)


async def change(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: uuid.UUID, action: Any, **options: Any
) -> bool:
    async with sessionmaker() as session, session.begin():
        locked = await campaigns.lock(session, campaign_id)
        assert locked is not None
        return bool(await action(session, locked, **options))


async def mark_sent(sessionmaker: async_sessionmaker[AsyncSession], rows: list[OutboxMessage]) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([row.id for row in rows]))
            .values(status=Status.SENT, sent_at=rows[-1].not_before)
        )


def in_night(at: dt.datetime) -> bool:
    return NIGHT.contains(at.astimezone(BAKU))


# ── resuming, with a clock the test sets ────────────────────────────────────────────────────────


async def paused_evening_campaign(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> tuple[Campaign, list[OutboxMessage]]:
    """40 people over 4 hours of sending time from 19:00 with quiet hours 21:00–09:00: six minutes
    apart, 19:00–20:54 and 09:00–10:54 next morning (the window ends at 11:00); the first 10 were
    sent (by 19:54), then it was paused. Returns the campaign and the 30 rows left, in order."""
    await people_in(sessionmaker, ["en"] * 40)
    campaign = await add(
        sessionmaker,
        new_campaign(
            starts_at=baku(2026, 12, 1, 19),
            quiet_from=NIGHT.start,
            quiet_until=NIGHT.end,
            spread_seconds=4 * 3600,
        ),
    )
    await expand_all(sessionmaker, crypto, campaign)
    rows = await campaign_rows(sessionmaker, campaign.id)
    assert rows[9].not_before == baku(2026, 12, 1, 19, 54) and rows[-1].not_before == baku(
        2026, 12, 2, 10, 54
    )
    await mark_sent(sessionmaker, rows[:10])
    assert await change(sessionmaker, campaign.id, campaigns.pause)
    return campaign, rows[10:]


async def resumed_times(
    sessionmaker: async_sessionmaker[AsyncSession], campaign: Campaign, left: list[OutboxMessage]
) -> list[dt.datetime]:
    """The new times of the rows left, in their former order (which resuming keeps)."""
    by_id = {row.id: row for row in await campaign_rows(sessionmaker, campaign.id)}
    assert {by_id[row.id].status for row in left} == {Status.PENDING}
    times = [by_id[row.id].not_before for row in left]
    assert times == sorted(times)
    assert not any(in_night(at) for at in times)
    return times


async def test_resumed_in_its_window_the_rest_is_spread_over_what_is_left_of_it(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    campaign, left = await paused_evening_campaign(sessionmaker, crypto)
    # Resumed at 20:30: 30 minutes before the quiet hours and two hours after them are left of the
    # window, 150 minutes for 30 people: five minutes apart, not all at once at 20:30.
    assert await change(sessionmaker, campaign.id, campaigns.resume, zone=BAKU, now=baku(2026, 12, 1, 20, 30))
    times = await resumed_times(sessionmaker, campaign, left)
    assert times[:7] == [baku(2026, 12, 1, 20, 30) + n * 5 * MINUTE for n in range(6)] + [
        baku(2026, 12, 2, 9)
    ]
    assert times[-1] == baku(2026, 12, 2, 10, 55)
    assert {b - a for a, b in itertools.pairwise(times[7:])} == {5 * MINUTE}


async def test_resumed_in_the_quiet_hours_the_rest_starts_when_they_end(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    campaign, left = await paused_evening_campaign(sessionmaker, crypto)
    # 23:00: the two hours of the window left are the next morning's, four minutes apart.
    assert await change(sessionmaker, campaign.id, campaigns.resume, zone=BAKU, now=baku(2026, 12, 1, 23))
    times = await resumed_times(sessionmaker, campaign, left)
    assert times == [baku(2026, 12, 2, 9) + n * 4 * MINUTE for n in range(30)]


async def test_resumed_after_its_window_the_rest_gets_its_share_of_the_spread(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    campaign, left = await paused_evening_campaign(sessionmaker, crypto)
    # Noon next day, the window ended at 11:00: 30 of 40 people get 3 of the 4 hours, from now.
    assert await change(sessionmaker, campaign.id, campaigns.resume, zone=BAKU, now=baku(2026, 12, 2, 12))
    times = await resumed_times(sessionmaker, campaign, left)
    assert times == [baku(2026, 12, 2, 12) + n * 6 * MINUTE for n in range(30)]


async def test_a_share_of_the_spread_that_runs_into_the_night_goes_on_in_the_morning(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    campaign, left = await paused_evening_campaign(sessionmaker, crypto)
    # Resumed at 19:00 two days on: two hours of the share before 21:00, the last hour after 09:00.
    assert await change(sessionmaker, campaign.id, campaigns.resume, zone=BAKU, now=baku(2026, 12, 3, 19))
    times = await resumed_times(sessionmaker, campaign, left)
    assert times[19] == baku(2026, 12, 3, 20, 54) and times[20] == baku(2026, 12, 4, 9)


async def test_resumed_before_its_start_the_campaign_keeps_its_times(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    await people_in(sessionmaker, ["en"] * 12)
    start = baku(2026, 12, 1, 19)
    campaign = await add(
        sessionmaker,
        new_campaign(starts_at=start, quiet_from=NIGHT.start, quiet_until=NIGHT.end, spread_seconds=3 * 3600),
    )
    await expand_all(sessionmaker, crypto, campaign)
    planned = [row.not_before for row in await campaign_rows(sessionmaker, campaign.id)]
    assert await change(sessionmaker, campaign.id, campaigns.pause)
    assert await change(
        sessionmaker, campaign.id, campaigns.resume, zone=BAKU, now=start - 3600 * dt.timedelta(seconds=1)
    )
    rows = await campaign_rows(sessionmaker, campaign.id)
    assert [row.not_before for row in rows] == planned
    async with sessionmaker() as session:
        stored = await session.get(Campaign, campaign.id)
    assert stored is not None and stored.status == CampaignStatus.SCHEDULED


async def test_a_campaign_paused_while_it_is_prepared_resumes_once_every_row_is_made(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    """Rows made after a resume would keep the original schedule while the held ones got the new
    one: the resume waits until the worker has made them all, then spreads them all."""
    await people_in(sessionmaker, ["en"] * 12)
    start = baku(2026, 12, 1, 10)
    campaign = await add(sessionmaker, new_campaign(starts_at=start, spread_seconds=6 * 3600))
    async with sessionmaker() as session, session.begin():
        await campaigns.expand_batch(
            session, crypto, campaign.id, zone=BAKU, rate=1000, bot_username="intake_bot", batch=5
        )
    assert await change(sessionmaker, campaign.id, campaigns.pause)
    resumed_at = baku(2026, 12, 1, 13)  # half of the six hours left: 12 rows over three hours
    assert not await change(sessionmaker, campaign.id, campaigns.resume, zone=BAKU, now=resumed_at)

    await expand_all(sessionmaker, crypto, campaign, batch=5)
    rows = await campaign_rows(sessionmaker, campaign.id)
    assert len(rows) == 12 and {row.status for row in rows} == {Status.PAUSED}
    assert await change(sessionmaker, campaign.id, campaigns.resume, zone=BAKU, now=resumed_at)
    times = [row.not_before for row in await campaign_rows(sessionmaker, campaign.id)]
    assert times == [resumed_at + n * dt.timedelta(minutes=15) for n in range(12)]


# ── resuming, through the sender against the sandbox ────────────────────────────────────────────


def second_of_day(at: dt.datetime) -> int:
    return at.hour * 3600 + at.minute * 60 + at.second


async def sleep_until(at: dt.datetime) -> None:
    await asyncio.sleep(max(0.0, (at - utcnow()).total_seconds()))


@pytest.mark.slow
async def test_a_campaign_paused_and_resumed_keeps_its_spread_and_the_quiet_hours(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    people = await recipients(phone, sessionmaker, crypto, 12)
    # Office time is UTC here. From a whole second T: 12 people over 9.6 s of sending time (0.8 s
    # apart), quiet hours from T+5 to T+7, so the window ends at T+11.6.
    start = dt.datetime.fromtimestamp(math.ceil(utcnow().timestamp()) + 1, dt.UTC)
    quiet_from, quiet_until = start + dt.timedelta(seconds=5), start + dt.timedelta(seconds=7)
    window_end = start + dt.timedelta(seconds=11.6)
    campaign = await add(
        sessionmaker,
        new_campaign(
            starts_at=start,
            quiet_from=second_of_day(quiet_from),
            quiet_until=second_of_day(quiet_until),
            spread_seconds=9.6,
        ),
    )
    worker = campaign_worker(sessionmaker, crypto)
    assert await worker.run_once() == 12
    stop = asyncio.Event()
    sender = Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05, zone=UTC)
    running = asyncio.create_task(sender.run(stop))
    try:
        # Paused at T+1 (after T and T+0.8), resumed at T+4: the rows of T+1.6, 2.4 and 3.2 came due
        # while it was paused, and must not go out together.
        await sleep_until(start + dt.timedelta(seconds=1))
        assert await change(sessionmaker, campaign.id, campaigns.pause)
        resumed = start + dt.timedelta(seconds=4)
        await sleep_until(resumed)
        assert await change(sessionmaker, campaign.id, campaigns.resume, zone=UTC, now=resumed)
    finally:
        stop.set()
        await running
    await drain(sender, sessionmaker, within=30)
    log = [entry for entry in await phone.call_log() if entry["method"] == "sendMessage" and entry["ok"]]
    assert sorted(await copies_per_chat(phone)) == sorted(user for user, _ in people)
    assert set((await copies_per_chat(phone)).values()) == {1}
    # The times each row was given (the resumption placed the ten left again), in order.
    rows = await campaign_rows(sessionmaker, campaign.id)
    planned = [row.not_before for row in rows]
    assert planned[:2] == [start, start + dt.timedelta(seconds=0.8)]  # sent before the pause
    after = planned[2:]
    assert not [at for at in planned if quiet_from <= at < quiet_until]
    # The ten left share the 5.6 s of sending time left (T+4 to T+5, T+7 to T+11.6): 0.56 s apart,
    # the first at once, the last in the window's last step; never bunched.
    assert after[0] == resumed
    assert window_end - dt.timedelta(seconds=1.2) <= after[-1] <= window_end
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(after)]
    assert min(gaps) >= 0.3, gaps
    # Sent in that order (as the sandbox received them), none before its time.
    chat_of = {beneficiary_id: user for user, beneficiary_id in people}
    assert received_order(log) == [chat_of[row.beneficiary_id] for row in rows]
    assert all(row.sent_at is not None and row.sent_at >= row.not_before for row in rows)
    await worker.run_once()
    async with sessionmaker() as session:
        stored = await session.get(Campaign, campaign.id)
        figures = await campaigns.figures(session, campaign.id)
    assert stored is not None and stored.status == CampaignStatus.DONE
    assert (figures.sent, figures.total) == (12, 12)


@pytest.mark.slow
async def test_retries_of_a_burst_of_failures_before_the_quiet_hours_wait_for_their_end(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    people = await recipients(phone, sessionmaker, crypto, 20)
    # Office time is UTC here. From a whole second T, five a second (the campaign's pace), quiet
    # hours from T+3 to T+6: 15 are due before them, 5 from T+6.
    start = dt.datetime.fromtimestamp(math.ceil(utcnow().timestamp()) + 1, dt.UTC)
    quiet_from, quiet_until = start + dt.timedelta(seconds=3), start + dt.timedelta(seconds=6)
    campaign = await add(
        sessionmaker,
        new_campaign(
            starts_at=start, quiet_from=second_of_day(quiet_from), quiet_until=second_of_day(quiet_until)
        ),
    )
    worker = campaign_worker(sessionmaker, crypto, rate=5)
    assert await worker.run_once() == 20
    planned = {row.id: row.not_before for row in await campaign_rows(sessionmaker, campaign.id)}
    stop = asyncio.Event()
    sender = Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05, zone=UTC)
    running = asyncio.create_task(sender.run(stop))
    try:
        # Server errors at T+2 (retried 2 s later: inside the quiet hours), then 429s at T+2.6 whose
        # pause of a second holds the sends due meanwhile into them.
        await sleep_until(start + dt.timedelta(seconds=1.9))
        await phone.inject_fault("500", count=3, method="sendMessage")
        await sleep_until(start + dt.timedelta(seconds=2.5))
        await phone.inject_fault("429", count=2, retry_after=1, method="sendMessage")
        await sleep_until(quiet_until)
    finally:
        stop.set()
        await running
    await drain(sender, sessionmaker, within=30)
    log = [entry for entry in await phone.call_log() if entry["method"] == "sendMessage"]
    refused = collections.Counter(entry["error_code"] for entry in log if not entry["ok"])
    assert refused == {500: 3, 429: 2}  # the burst did happen
    copies = await copies_per_chat(phone)
    assert sorted(copies) == sorted(user for user, _ in people) and set(copies.values()) == {1}
    await worker.run_once()
    async with sessionmaker() as session:
        stored = await session.get(Campaign, campaign.id)
        figures = await campaigns.figures(session, campaign.id)
    retried = [row for row in await campaign_rows(sessionmaker, campaign.id) if row.attempts > 1]
    assert stored is not None and stored.status == CampaignStatus.DONE
    assert (figures.sent, figures.failed, figures.uncertain, figures.total) == (20, 0, 0, 20)
    assert len(retried) >= 4 and all(row.sent_at >= quiet_until for row in retried)
    rows = await campaign_rows(sessionmaker, campaign.id)
    # Nothing was placed in the quiet hours, nothing went before its time; those the pause of a
    # second from T+2.6 held past T+3 waited for their end.
    assert not [row for row in rows if quiet_from <= row.not_before < quiet_until]
    assert all(row.sent_at is not None and row.sent_at >= row.not_before for row in rows)
    held = [row for row in rows if start + dt.timedelta(seconds=2.6) <= planned[row.id] < quiet_from]
    assert held and all(row.not_before >= quiet_until for row in held)
    # As the sandbox received them: every one sent before the quiet hours came before every other.
    chat_of = {beneficiary_id: user for user, beneficiary_id in people}
    early = {chat_of[row.beneficiary_id] for row in rows if row.not_before < quiet_from}
    order = received_order([entry for entry in log if entry["ok"]])
    assert set(order[: len(early)]) == early


# ── the estimated finish ────────────────────────────────────────────────────────────────────────


async def campaign_with_rows(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    sent_at: list[dt.datetime],
    due: list[dt.datetime],
) -> Campaign:
    """A campaign with quiet hours 21:00–09:00 whose rows were sent at `sent_at` and are due at `due`."""
    people = await people_in(sessionmaker, ["en"] * (len(sent_at) + len(due)))
    campaign = await add(
        sessionmaker,
        new_campaign(status=CampaignStatus.RUNNING, quiet_from=NIGHT.start, quiet_until=NIGHT.end),
    )
    rows = [{"status": Status.SENT, "not_before": at, "sent_at": at} for at in sent_at] + [
        {"status": Status.PENDING, "not_before": at, "sent_at": None} for at in due
    ]
    async with sessionmaker() as session, session.begin():
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    "id": uuid.uuid4(),
                    "beneficiary_id": person,
                    "lane": int(Lane.BROADCAST),
                    "method": "sendMessage",
                    "payload_enc": b"x",
                    "attempts": 0,
                    "created_at": baku(2026, 12, 1, 8),
                    "campaign_id": campaign.id,
                    **row,
                }
                for person, row in zip(people, rows, strict=True)
            ],
        )
    return campaign


async def test_the_estimated_finish_skips_the_quiet_hours_at_the_pace_of_the_last_minute(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = baku(2026, 12, 1, 20, 30)
    # 25 sent in the last minute, 3,000 left, all due now (no spread): 120 minutes of sending, 30
    # before 21:00 and 90 after 09:00, not 22:30 in the night.
    campaign = await campaign_with_rows(
        sessionmaker, sent_at=[now - dt.timedelta(seconds=2 * n + 1) for n in range(25)], due=[now] * 3000
    )
    async with sessionmaker() as session:
        finish = await campaigns.estimated_finish(session, campaign, zone=BAKU, now=now)
    assert finish == baku(2026, 12, 2, 10, 30)


async def test_the_estimated_finish_is_the_spread_when_the_pace_keeps_up_and_the_morning_at_night(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = baku(2026, 12, 1, 20, 30)
    spread = [baku(2026, 12, 1, 20, 40), baku(2026, 12, 2, 9, 30)]
    campaign = await campaign_with_rows(sessionmaker, sent_at=[now - MINUTE / 2], due=spread)
    async with sessionmaker() as session:
        assert await campaigns.estimated_finish(session, campaign, zone=BAKU, now=now) == spread[-1]
    # Nothing sent lately and the last row overdue at 23:00: the morning, not 23:00.
    campaign = await campaign_with_rows(sessionmaker, sent_at=[], due=[baku(2026, 12, 1, 20, 50)])
    async with sessionmaker() as session:
        finish = await campaigns.estimated_finish(session, campaign, zone=BAKU, now=baku(2026, 12, 1, 23))
    assert finish == baku(2026, 12, 2, 9)


# ── a row back from a retry after its campaign was paused or cancelled ──────────────────────────


async def test_a_row_back_for_a_retry_after_a_pause_waits_with_its_campaign_and_after_a_cancel_is_cancelled(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    await recipients(phone, sessionmaker, crypto, 3)
    campaign = await add(sessionmaker, new_campaign(status=CampaignStatus.RUNNING))
    await expand_all(sessionmaker, crypto, campaign)

    async def set_status(status: str) -> None:
        # Only the campaign: its rows were out with the sender when it changed, and came back
        # pending from a 5xx, as the pause or the cancel could not catch them.
        async with sessionmaker() as session, session.begin():
            await session.execute(update(Campaign).where(Campaign.id == campaign.id).values(status=status))

    async def statuses() -> list[str]:
        return [row.status for row in await campaign_rows(sessionmaker, campaign.id)]

    sender = Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05)
    await set_status(CampaignStatus.PAUSED)
    assert await sender.run_once() == 3
    assert await statuses() == [Status.PAUSED] * 3
    assert await change(sessionmaker, campaign.id, campaigns.resume, zone=UTC)
    assert await statuses() == [Status.PENDING] * 3
    await set_status(CampaignStatus.CANCELLED)
    assert await sender.run_once() == 3
    assert await statuses() == [Status.CANCELLED] * 3
    assert [entry for entry in await phone.call_log() if entry["method"] == "sendMessage"] == []
    assert {row.attempts for row in await campaign_rows(sessionmaker, campaign.id)} == {0}
