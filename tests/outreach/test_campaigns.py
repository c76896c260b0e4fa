"""Campaigns: segments on seeded data, quiet hours and spread, expansion in batches, the /stop line in
every language, fallback, pause/resume/cancel, and the schedule kept by the sender against the sandbox."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import uuid
import zoneinfo
from typing import Any

import pytest
from aiogram import Bot
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach import campaigns
from outreach.campaigns import (
    AppointmentFilter,
    CampaignStatus,
    QuietHours,
    Segment,
    Timeline,
    count_by_language,
    next_allowed,
    send_step,
)
from outreach.sender import Sender
from sandbox.client import SandboxClient
from storage import figures as store_figures
from storage.crypto import Crypto
from storage.models import Beneficiary, Case, OutboxMessage, utcnow
from storage.models_appointments import Appointment, Office
from storage.models_outreach import Campaign
from storage.models_plan import PlanActivity, PlanGoal, PlanNeed
from storage.outbox import Lane, Status
from storage.sealing import unseal_json
from tests.outreach.conftest import campaign_worker, drain, recipients
from wording.broadcast import OPT_OUT, opt_out_line
from wording.languages import LANGUAGES

BAKU = zoneinfo.ZoneInfo("Asia/Baku")  # UTC+4, no daylight saving
NIGHT = QuietHours(21 * 3600, 9 * 3600)


def baku(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=BAKU).astimezone(dt.UTC)


# ── quiet hours and spread, as pure functions ───────────────────────────────────────────────────


def test_a_time_in_the_quiet_hours_moves_to_their_end_and_others_stay() -> None:
    assert next_allowed(baku(2026, 12, 1, 22, 30), BAKU, NIGHT) == baku(2026, 12, 2, 9)
    assert next_allowed(baku(2026, 12, 1, 3, 0), BAKU, NIGHT) == baku(2026, 12, 1, 9)
    assert next_allowed(baku(2026, 12, 1, 21, 0), BAKU, NIGHT) == baku(2026, 12, 2, 9)
    assert next_allowed(baku(2026, 12, 1, 9, 0), BAKU, NIGHT) == baku(2026, 12, 1, 9)
    assert next_allowed(baku(2026, 12, 1, 20, 59, 59), BAKU, NIGHT) == baku(2026, 12, 1, 20, 59, 59)
    # To the microsecond: the last one before they begin is not in them.
    assert next_allowed(baku(2026, 12, 1, 21) - dt.timedelta(microseconds=1), BAKU, NIGHT) == baku(
        2026, 12, 1, 21
    ) - dt.timedelta(microseconds=1)
    assert next_allowed(
        baku(2026, 12, 1, 20, 59, 59) + dt.timedelta(microseconds=500_000), BAKU, NIGHT
    ) < baku(2026, 12, 1, 21)
    # Seconds count: half a second, or thirty, into the first minute of the quiet hours is in them.
    assert next_allowed(baku(2026, 12, 1, 21) + dt.timedelta(seconds=0.5), BAKU, NIGHT) == baku(
        2026, 12, 2, 9
    )
    assert next_allowed(baku(2026, 12, 1, 21, 0, 30), BAKU, NIGHT) == baku(2026, 12, 2, 9)
    lunch = QuietHours(13 * 3600, 14 * 3600)  # a window within one day
    assert next_allowed(baku(2026, 12, 1, 13, 30), BAKU, lunch) == baku(2026, 12, 1, 14)
    assert next_allowed(baku(2026, 12, 1, 22, 30), BAKU, None) == baku(2026, 12, 1, 22, 30)


def test_quiet_hours_that_end_where_they_begin_hold_no_time_and_cannot_be_changed() -> None:
    empty = QuietHours(9 * 3600, 9 * 3600)
    assert not [hour for hour in range(24) if empty.contains(baku(2026, 12, 1, hour).astimezone(BAKU))]
    assert next_allowed(baku(2026, 12, 1, 9), BAKU, empty) == baku(2026, 12, 1, 9)
    spread = Timeline(baku(2026, 12, 1, 8), BAKU, empty)
    assert [spread.at(n * 1800.0) for n in range(4)] == [
        baku(2026, 12, 1, 8 + n // 2, 30 * (n % 2)) for n in range(4)
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        NIGHT.start = 0  # type: ignore[misc]


BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")  # on 2026-10-25 03:00 CEST becomes 02:00 CET again


def test_in_the_hour_the_clocks_go_back_the_quiet_hours_end_after_the_moment_asked_about() -> None:
    """02:00–03:00 is lived twice: at 02:10 of the second pass, quiet hours that end at 02:30 end at
    its second 02:30, not the first, an hour before the moment asked about."""
    quiet = QuietHours(2 * 3600, 2 * 3600 + 1800)
    first_pass = dt.datetime(2026, 10, 25, 0, 10, tzinfo=dt.UTC)  # 02:10 CEST
    assert next_allowed(first_pass, BERLIN, quiet) == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
    second_pass = dt.datetime(2026, 10, 25, 1, 10, tzinfo=dt.UTC)  # 02:10 CET
    assert next_allowed(second_pass, BERLIN, quiet) == dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)
    for hours in (quiet, NIGHT, QuietHours(1 * 3600, 2 * 3600 + 1800), QuietHours(2 * 3600 + 1800, 4 * 3600)):
        for night in (
            dt.datetime(2026, 3, 28, 22, tzinfo=dt.UTC),
            dt.datetime(2026, 10, 24, 22, tzinfo=dt.UTC),
        ):
            for minute in range(0, 6 * 60, 3):  # both nights the clocks change
                at = night + dt.timedelta(minutes=minute)
                allowed = next_allowed(at, BERLIN, hours)
                assert allowed >= at and not hours.contains(allowed.astimezone(BERLIN)), at
                # The first such moment: every minute before it is quiet.
                waited = [
                    at + dt.timedelta(minutes=n) for n in range(int((allowed - at).total_seconds() // 60))
                ]
                assert all(hours.contains(moment.astimezone(BERLIN)) for moment in waited), at


def test_the_spread_counts_sending_time_only_and_never_lands_in_quiet_hours() -> None:
    # Two hours from 20:00: one hour before the quiet hours, the second from 09:00 next morning.
    timeline = Timeline(baku(2026, 12, 1, 20), BAKU, NIGHT)
    assert timeline.at(0) == baku(2026, 12, 1, 20)
    assert timeline.at(1800) == baku(2026, 12, 1, 20, 30)
    assert timeline.at(3600) == baku(2026, 12, 2, 9)
    assert timeline.at(5400) == baku(2026, 12, 2, 9, 30)
    # Twelve hours of sending time is a whole day's allowed time and a bit: the third morning.
    assert timeline.at(3600 + 12 * 3600 + 60) == baku(2026, 12, 3, 9, 1)
    with pytest.raises(ValueError, match="forward"):
        timeline.at(0)
    # A start inside the quiet hours begins when they end.
    assert Timeline(baku(2026, 12, 1, 23), BAKU, NIGHT).at(60) == baku(2026, 12, 2, 9, 1)
    hours = [Timeline(baku(2026, 12, 1, 18), BAKU, NIGHT).at(n * 360.0) for n in range(100)]
    assert all(not NIGHT.contains(at.astimezone(BAKU)) for at in hours)
    assert hours == sorted(hours)


def test_a_spread_over_the_nights_the_clocks_change_never_lands_in_quiet_hours() -> None:
    """Quiet hours that begin in the hour lived twice begin twice; quiet hours the clocks go back
    into (01:00–02:30: at 03:00 it is 02:00 again) begin again then."""
    for quiet in (QuietHours(2 * 3600, 2 * 3600 + 1800), QuietHours(1 * 3600, 2 * 3600 + 1800), NIGHT):
        for night in (
            dt.datetime(2026, 3, 28, 18, tzinfo=dt.UTC),
            dt.datetime(2026, 10, 24, 18, tzinfo=dt.UTC),
        ):
            for start in range(0, 8 * 60, 17):
                timeline = Timeline(night + dt.timedelta(minutes=start), BERLIN, quiet)
                times = [timeline.at(n * 60.0) for n in range(240)]
                assert times == sorted(times)
                assert not [at for at in times if quiet.contains(at.astimezone(BERLIN))], (
                    quiet,
                    night,
                    start,
                )


def test_the_step_shares_the_spread_but_never_outruns_the_rate() -> None:
    assert send_step(total=100, spread_seconds=3600, rate=25) == 36
    assert send_step(total=100_000, spread_seconds=3600, rate=25) == 1 / 25
    assert send_step(total=10, spread_seconds=0, rate=1000) == 1 / 1000


def test_a_segment_survives_its_trip_through_json_and_drops_what_it_does_not_know() -> None:
    segment = Segment(languages=("fa", "ru"), stages=("new", "none"), appointment=AppointmentFilter.NO_SHOW)
    assert Segment.from_data(segment.as_data()) == segment
    forged = {"languages": ["ru", "xx", 5], "stages": ["nope"], "active_within_days": "7", "appointment": "?"}
    assert Segment.from_data(forged) == Segment(languages=("ru",))


# ── segments on seeded data ─────────────────────────────────────────────────────────────────────


async def seed_people(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, uuid.UUID]:
    """Named people with what segments select on; their Telegram ids are never decrypted here."""
    now = utcnow()
    people: dict[str, Beneficiary] = {}

    def person(name: str, **fields: Any) -> Beneficiary:
        people[name] = Beneficiary(
            telegram_hash=secrets.token_hex(32), telegram_id_enc=secrets.token_bytes(40), **fields
        )
        return people[name]

    async with sessionmaker() as session, session.begin():
        office = Office(name="Baku office", address="Baku", latitude=40.4, longitude=49.9)
        session.add(office)
        ru_new = person("ru_new", language="ru", source="flyer-university", last_active_at=now)
        fa_plan = person("fa_plan", language="fa", last_active_at=now - dt.timedelta(days=40))
        person("en_nocase", language="en", last_active_at=now - dt.timedelta(days=3))
        az_noshow = person("az_noshow", language="az", source="hospital", last_active_at=now)
        person("none_language", language=None, last_active_at=now)
        person("stopped", language="ru", opted_out=True, last_active_at=now)
        person("blocked", language="ru", unreachable_at=now, last_active_at=now)
        session.add_all(people.values())
        await session.flush()
        case = Case(code="IP-2026-000001", beneficiary=ru_new, stage="new", language="ru")
        # Two cases for one person: still one recipient.
        planned = Case(code="IP-2026-000002", beneficiary=fa_plan, stage="implementation", language="fa")
        old = Case(code="IP-2026-000003", beneficiary=fa_plan, stage="closed", language="fa")
        missed = Case(code="IP-2026-000004", beneficiary=az_noshow, stage="screening", language="az")
        stopped = Case(code="IP-2026-000005", beneficiary=people["stopped"], stage="new")
        session.add_all([case, planned, old, missed, stopped])
        await session.flush()
        need = PlanNeed(case_id=planned.id, rank=1, text_enc=b"x")
        session.add(need)
        await session.flush()
        goal = PlanGoal(case_id=planned.id, need_id=need.id, term="short", text_enc=b"x")
        session.add(goal)
        await session.flush()
        for area in ("language", "employment_education"):
            session.add(PlanActivity(case_id=planned.id, goal_id=goal.id, text_enc=b"x", service_area=area))
        await session.flush()
        session.add_all(
            [
                Appointment(
                    case_id=case.id, office_id=office.id, type="intake", starts_at=now + dt.timedelta(days=2)
                ),
                Appointment(
                    case_id=missed.id,
                    office_id=office.id,
                    type="intake",
                    starts_at=now - dt.timedelta(days=2),
                    status="no_show",
                ),
                # Booked long ago and passed: not upcoming.
                Appointment(
                    case_id=planned.id,
                    office_id=office.id,
                    type="intake",
                    starts_at=now - dt.timedelta(days=9),
                ),
                Appointment(
                    case_id=stopped.id,
                    office_id=office.id,
                    type="intake",
                    starts_at=now + dt.timedelta(days=1),
                ),
            ]
        )
    return {name: beneficiary.id for name, beneficiary in people.items()}


async def members(
    sessionmaker: async_sessionmaker[AsyncSession], people: dict[str, uuid.UUID], segment: Segment
) -> set[str]:
    async with sessionmaker() as session:
        ids = set(
            (
                await session.execute(
                    select(Beneficiary.id).where(campaigns.segment_condition(segment, utcnow()))
                )
            ).scalars()
        )
        counts = await count_by_language(session, segment, utcnow())
    assert sum(counts.values()) == len(ids)
    return {name for name, beneficiary in people.items() if beneficiary in ids}


async def test_segments_select_the_seeded_people_and_never_those_who_stopped_or_blocked(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    people = await seed_people(sessionmaker)
    everyone = {"ru_new", "fa_plan", "en_nocase", "az_noshow", "none_language"}
    assert await members(sessionmaker, people, Segment()) == everyone
    assert await members(sessionmaker, people, Segment(languages=("ru", "fa"))) == {"ru_new", "fa_plan"}
    assert await members(sessionmaker, people, Segment(stages=("implementation",))) == {"fa_plan"}
    assert await members(sessionmaker, people, Segment(stages=("closed", "screening"))) == {
        "fa_plan",
        "az_noshow",
    }
    assert await members(sessionmaker, people, Segment(stages=("none",))) == {"en_nocase", "none_language"}
    assert await members(sessionmaker, people, Segment(service_areas=("language", "health_social"))) == {
        "fa_plan"
    }
    assert await members(sessionmaker, people, Segment(sources=("hospital", "direct"))) == {
        "az_noshow",
        "fa_plan",
        "en_nocase",
        "none_language",
    }
    assert await members(sessionmaker, people, Segment(active_within_days=7)) == everyone - {"fa_plan"}
    assert await members(sessionmaker, people, Segment(inactive_for_days=30)) == {"fa_plan"}
    upcoming = Segment(appointment=AppointmentFilter.UPCOMING)
    assert await members(sessionmaker, people, upcoming) == {"ru_new"}
    not_upcoming = Segment(appointment=AppointmentFilter.NOT_UPCOMING)
    assert await members(sessionmaker, people, not_upcoming) == everyone - {"ru_new"}
    assert await members(sessionmaker, people, Segment(appointment=AppointmentFilter.NO_SHOW)) == {
        "az_noshow"
    }
    combined = Segment(
        languages=("ru", "az"), appointment=AppointmentFilter.NOT_UPCOMING, active_within_days=1
    )
    assert await members(sessionmaker, people, combined) == {"az_noshow"}
    async with sessionmaker() as session:
        counts = await count_by_language(session, Segment(), utcnow())
    assert counts == {"ru": 1, "fa": 1, "en": 1, "az": 1, None: 1}


# ── expansion ───────────────────────────────────────────────────────────────────────────────────

TEXTS = {"en": "The office is open on Saturday.", "ru": "Офис открыт в субботу.", "fa": "دفتر شنبه باز است."}


def new_campaign(**fields: Any) -> Campaign:
    values: dict[str, Any] = {
        "name": "Saturday opening",
        "texts": TEXTS,
        "fallback_language": "en",
        "segment": Segment().as_data(),
        "starts_at": utcnow(),
        "quiet_from": None,
        "quiet_until": None,
        "spread_seconds": 0.0,
        "status": CampaignStatus.SCHEDULED,
        "expanded": 0,
        **fields,
    }
    return Campaign(**values)


async def add(sessionmaker: async_sessionmaker[AsyncSession], campaign: Campaign) -> Campaign:
    async with sessionmaker() as session, session.begin():
        session.add(campaign)
    return campaign


async def expand_all(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    campaign: Campaign,
    *,
    batch: int = 1000,
    rate: float = 1000,
    zone: zoneinfo.ZoneInfo = BAKU,
) -> list[int]:
    sizes = []
    while True:
        async with sessionmaker() as session, session.begin():
            made = await campaigns.expand_batch(
                session, crypto, campaign.id, zone=zone, rate=rate, bot_username="intake_bot", batch=batch
            )
        sizes.append(made)
        if made < batch:
            return sizes


def received_order(log: list[dict[str, Any]]) -> list[int]:
    """The chats of the sandbox's call log, in the order of its own stamps."""
    return [entry["chat_id"] for entry in sorted(log, key=lambda entry: entry["t"])]


async def campaign_rows(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: uuid.UUID
) -> list[OutboxMessage]:
    async with sessionmaker() as session:
        statement = select(OutboxMessage).where(OutboxMessage.campaign_id == campaign_id)
        return list((await session.execute(statement.order_by(OutboxMessage.not_before))).scalars())


async def people_in(
    sessionmaker: async_sessionmaker[AsyncSession], languages: list[str | None]
) -> list[uuid.UUID]:
    async with sessionmaker() as session, session.begin():
        added = [
            Beneficiary(telegram_hash=secrets.token_hex(32), telegram_id_enc=b"x" * 40, language=language)
            for language in languages
        ]
        session.add_all(added)
    return [person.id for person in added]


async def test_every_language_gets_its_variant_or_the_fallback_and_the_stop_line_in_its_own_language(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    languages: list[str | None] = [*LANGUAGES, None]
    people = dict(zip(await people_in(sessionmaker, languages), languages, strict=True))
    button = {"kind": "start", "target": "saturday", "labels": {"en": "Book a visit", "ru": "Записаться"}}
    campaign = await add(sessionmaker, new_campaign(button=button))
    assert await expand_all(sessionmaker, crypto, campaign) == [len(languages)]
    rows = await campaign_rows(sessionmaker, campaign.id)
    assert {row.beneficiary_id for row in rows} == set(people)
    english_stop = opt_out_line("en")
    assert english_stop == OPT_OUT
    for row in rows:
        language = people[row.beneficiary_id]
        payload = unseal_json(crypto, row, "payload_enc")
        variant = language if language in TEXTS else "en"
        stop = opt_out_line(language or "en")
        assert payload["text"] == f"{TEXTS[variant]}\n\n{stop}"
        assert "/stop" in stop
        if language not in ("en", None):
            assert stop != english_stop, f"the /stop line is not translated into {language}"
        label = "Записаться" if variant == "ru" else "Book a visit"
        assert payload["reply_markup"] == {
            "inline_keyboard": [[{"text": label, "url": "https://t.me/intake_bot?start=saturday"}]]
        }
        assert (row.lane, row.status, row.attempts) == (Lane.BROADCAST, Status.PENDING, 0)


async def test_expansion_goes_in_batches_from_where_it_stopped_and_makes_one_row_each(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    ids = await people_in(sessionmaker, ["ru"] * 250)
    campaign = await add(sessionmaker, new_campaign(segment=Segment(languages=("ru",)).as_data()))
    # The first batch takes the segment; people who come after it are not in this campaign.
    async with sessionmaker() as session, session.begin():
        assert (
            await campaigns.expand_batch(
                session, crypto, campaign.id, zone=BAKU, rate=1000, bot_username=None, batch=100
            )
            == 100
        )
    await people_in(sessionmaker, ["ru"] * 5)
    assert await expand_all(sessionmaker, crypto, campaign, batch=100) == [100, 50]
    rows = await campaign_rows(sessionmaker, campaign.id)
    assert sorted(row.beneficiary_id for row in rows) == sorted(ids)
    async with sessionmaker() as session:
        stored = await session.get(Campaign, campaign.id)
        assert stored is not None
        assert (stored.planned, stored.expanded) == (250, 250)
        assert stored.expanded_at is not None
        # Expanded once: nothing more, however often asked.
        assert (
            await campaigns.expand_batch(
                session, crypto, campaign.id, zone=BAKU, rate=1000, bot_username=None
            )
            == 0
        )


async def test_rows_are_spread_over_sending_time_and_none_is_due_in_quiet_hours(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    await people_in(sessionmaker, ["en"] * 40)
    start = baku(2026, 12, 1, 19)
    campaign = await add(
        sessionmaker,
        new_campaign(starts_at=start, quiet_from=NIGHT.start, quiet_until=NIGHT.end, spread_seconds=4 * 3600),
    )
    await expand_all(sessionmaker, crypto, campaign, batch=7)
    times = [row.not_before for row in await campaign_rows(sessionmaker, campaign.id)]
    assert len(times) == 40
    assert all(not NIGHT.contains(at.astimezone(BAKU)) for at in times)
    # Six minutes apart; two hours before 21:00 (20 rows), the rest from 09:00 next morning.
    assert times[0] == start
    assert times[19] == baku(2026, 12, 1, 20, 54)
    assert times[20] == baku(2026, 12, 2, 9)
    assert times[39] == baku(2026, 12, 2, 10, 54)


async def test_pause_holds_the_rows_resume_sends_them_and_cancel_drops_what_is_left(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    await people_in(sessionmaker, ["en"] * 10)
    later = utcnow() + dt.timedelta(hours=1)
    campaign = await add(sessionmaker, new_campaign(spread_seconds=3600))
    await expand_all(sessionmaker, crypto, campaign)

    async def statuses() -> list[str]:
        return [row.status for row in await campaign_rows(sessionmaker, campaign.id)]

    async def change(action: Any, **options: Any) -> bool:
        async with sessionmaker() as session, session.begin():
            locked = await campaigns.lock(session, campaign.id)
            assert locked is not None
            return bool(await action(session, locked, **options))

    assert await change(campaigns.pause)
    assert await statuses() == [Status.PAUSED] * 10
    assert not await change(campaigns.pause)
    assert await change(campaigns.resume, zone=BAKU)
    rows = await campaign_rows(sessionmaker, campaign.id)
    assert [row.status for row in rows] == [Status.PENDING] * 10
    # The first row's time had come while paused: due now. The others keep their spread.
    assert rows[-1].not_before > later - dt.timedelta(minutes=7)
    async with sessionmaker() as session, session.begin():
        await session.execute(
            OutboxMessage.__table__.update().where(OutboxMessage.id == rows[0].id).values(status=Status.SENT)
        )
    assert await change(campaigns.cancel)
    assert await statuses() == [Status.SENT] + [Status.CANCELLED] * 9
    async with sessionmaker() as session:
        figures = await campaigns.figures(session, campaign.id)
        stored = await session.get(Campaign, campaign.id)
    assert (figures.sent, figures.cancelled, figures.remaining, figures.total) == (1, 9, 0, 10)
    assert stored is not None and stored.status == CampaignStatus.CANCELLED
    assert not await change(campaigns.resume, zone=BAKU)


async def test_a_paused_campaign_is_expanded_into_held_rows(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    await people_in(sessionmaker, ["en"] * 3)
    campaign = await add(sessionmaker, new_campaign(status=CampaignStatus.PAUSED))
    await expand_all(sessionmaker, crypto, campaign)
    assert [row.status for row in await campaign_rows(sessionmaker, campaign.id)] == [Status.PAUSED] * 3


# ── through the sender, against the sandbox ─────────────────────────────────────────────────────


@pytest.mark.slow
async def test_the_sender_keeps_the_quiet_hours_and_the_spread_and_the_campaign_ends_done(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    people = await recipients(phone, sessionmaker, crypto, 6)
    utc = zoneinfo.ZoneInfo("UTC")
    # Quiet hours that began an hour ago and end three seconds from now (office time: UTC here).
    now = utcnow()
    end = now + dt.timedelta(seconds=3)
    quiet_from = (now - dt.timedelta(hours=1)).astimezone(utc)
    second_of_day = end.hour * 3600 + end.minute * 60 + end.second
    end = end.replace(microsecond=0)
    campaign = await add(
        sessionmaker,
        new_campaign(
            quiet_from=quiet_from.hour * 3600 + quiet_from.minute * 60 + quiet_from.second,
            quiet_until=second_of_day,
            spread_seconds=3.0,
        ),
    )
    worker = campaign_worker(sessionmaker, crypto)
    assert await worker.run_once() == 6
    sender = Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05)
    await drain(sender, sessionmaker)
    log = [entry for entry in await phone.call_log() if entry["method"] == "sendMessage" and entry["ok"]]
    assert sorted(entry["chat_id"] for entry in log) == sorted(user for user, _ in people)
    # Each placed after the quiet hours, half a second apart (3 s shared by 6)...
    rows = await campaign_rows(sessionmaker, campaign.id)
    planned = [row.not_before for row in rows]
    assert planned[0] >= end, "a message was placed in the quiet hours"
    assert planned[-1] - planned[0] >= dt.timedelta(seconds=2.5)
    # ... and sent in that order (as the sandbox received them), none before its time.
    chat_of = {beneficiary_id: user for user, beneficiary_id in people}
    assert received_order(log) == [chat_of[row.beneficiary_id] for row in rows]
    assert all(row.sent_at is not None and row.sent_at >= row.not_before for row in rows)
    await worker.run_once()
    async with sessionmaker() as session:
        stored = await session.get(Campaign, campaign.id)
        figures = await campaigns.figures(session, campaign.id)
        count = (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()
    assert stored is not None and stored.status == CampaignStatus.DONE
    assert (figures.sent, figures.total, count) == (6, 6, 6)


async def test_results_per_language_count_the_language_each_message_was_sent_in(
    phone: SandboxClient, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    people = await recipients(phone, sessionmaker, crypto, 4)
    languages = ["ru", "ru", "fa", "fa"]
    async with sessionmaker() as session, session.begin():
        for (_, beneficiary_id), language in zip(people, languages, strict=True):
            await session.execute(
                update(Beneficiary).where(Beneficiary.id == beneficiary_id).values(language=language)
            )
    campaign = await add(sessionmaker, new_campaign())
    await expand_all(sessionmaker, crypto, campaign)
    # Queued in Russian; before it is sent, the person switches the bot to Persian.
    switched_user, switched = people[0]
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Beneficiary).where(Beneficiary.id == switched).values(language="fa"))
    await drain(Sender(bot, sessionmaker, crypto, rate=25, idle_interval=0.05), sessionmaker)
    [message] = await phone.bot_messages(switched_user)
    assert message["text"].startswith(TEXTS["ru"])
    async with sessionmaker() as session:
        by_language = await campaigns.figures_by_language(session, campaign.id)
        russian = await store_figures.campaign_delivery(
            session, where=store_figures.FigureFilter(language="ru")
        )
        persian = await store_figures.campaign_delivery(
            session, where=store_figures.FigureFilter(language="fa")
        )
    assert {language: (f.sent, f.total) for language, f in by_language.items()} == {
        "ru": (2, 2),
        "fa": (2, 2),
    }
    assert russian.outcomes == {(Status.SENT, None): 2}
    assert persian.outcomes == {(Status.SENT, None): 2}
