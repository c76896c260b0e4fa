"""Reminder times (offsets, quiet hours, passed ones), and the scheduler on both databases with a clock
the test sets: each due reminder into the outbox once, drops for cancelled, closed and past ones,
the no-show follow-up once."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections import Counter

import pytest
from aiogram.utils.i18n import I18n
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialogs.reminders import ReminderTap, reminder_message
from intake.settings import SettingsError, load_settings
from outreach.reminders import HOLD, Scheduler
from programme.reminders import QuietHours, ReminderPolicy, due_times, parse_offsets, parse_quiet_hours
from storage.appointments import accept_proposal, book_appointment, cancel_appointment, propose
from storage.crypto import Crypto
from storage.models import Case, OutboxMessage
from storage.models_appointments import Appointment, AppointmentProposal, Office
from storage.models_reminders import Reminder
from storage.outbox import Lane, Status
from storage.reminders import add_no_show_follow_ups, drop_case_reminders
from storage.sealing import unseal_json
from tests.bot.test_appointments import add_office, new_case
from tests.conftest import Clock

BAKU = zoneinfo.ZoneInfo("Asia/Baku")
HOUR = dt.timedelta(hours=1)


def baku(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=BAKU).astimezone(dt.UTC)


# ── when (plain Python) ─────────────────────────────────────────────────────────────────────────


def test_the_default_reminders_are_24_and_2_hours_before() -> None:
    start = baku(12, 2, 14)
    assert due_times(ReminderPolicy(), starts_at=start, zone=BAKU, now=baku(11, 24, 12)) == [
        (1440, baku(12, 1, 14)),
        (120, baku(12, 2, 12)),
    ]


def test_a_reminder_due_in_quiet_hours_goes_out_before_they_begin_never_after() -> None:
    now = baku(11, 24, 12)
    # 09:30: two hours before is 07:30, inside 21:00–09:00: the evening before, before 21:00.
    assert due_times(ReminderPolicy(), starts_at=baku(12, 2, 9, 30), zone=BAKU, now=now) == [
        (1440, baku(12, 1, 9, 30)),
        (120, baku(12, 1, 20, 45)),
    ]
    # Before midnight (23:00) and after it (01:00) both move to 20:45 of the evening they began.
    late = ReminderPolicy(offsets=(dt.timedelta(hours=11),))
    assert due_times(late, starts_at=baku(12, 2, 10), zone=BAKU, now=now) == [(660, baku(12, 1, 20, 45))]
    early = ReminderPolicy(offsets=(dt.timedelta(hours=9),))
    assert due_times(early, starts_at=baku(12, 2, 10), zone=BAKU, now=now) == [(540, baku(12, 1, 20, 45))]
    # Two reminders moved onto the same time are one.
    both = ReminderPolicy(offsets=(dt.timedelta(hours=3), dt.timedelta(hours=2)))
    assert due_times(both, starts_at=baku(12, 2, 10), zone=BAKU, now=now) == [(180, baku(12, 1, 20, 45))]
    # Off: the exact times; daytime quiet hours work the same way.
    off = ReminderPolicy(quiet_hours=None)
    assert [due for _, due in due_times(off, starts_at=baku(12, 2, 9, 30), zone=BAKU, now=now)] == [
        baku(12, 1, 9, 30),
        baku(12, 2, 7, 30),
    ]
    lunch = ReminderPolicy(offsets=(HOUR,), quiet_hours=QuietHours(dt.time(13), dt.time(14)))
    assert due_times(lunch, starts_at=baku(12, 2, 14, 30), zone=BAKU, now=now) == [(60, baku(12, 2, 12, 45))]
    quiet = ReminderPolicy().quiet_hours
    assert quiet is not None
    for hour in range(24):
        start = baku(12, 2, hour)
        for _, due in due_times(ReminderPolicy(), starts_at=start, zone=BAKU, now=now):
            assert due < start
            assert not quiet.contains(due.astimezone(BAKU).time())


def test_a_reminder_whose_time_passed_at_booking_is_not_scheduled() -> None:
    start = baku(12, 2, 14)
    policy = ReminderPolicy()
    assert due_times(policy, starts_at=start, zone=BAKU, now=start - 3 * HOUR) == [(120, baku(12, 2, 12))]
    assert due_times(policy, starts_at=start, zone=BAKU, now=start - HOUR) == []
    # Booked at 21:30 for 09:30: the reminder moved to 20:45 has passed too.
    assert due_times(policy, starts_at=baku(12, 2, 9, 30), zone=BAKU, now=baku(12, 1, 21, 30)) == []


def test_offsets_and_quiet_hours_are_read_from_their_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_offsets("24h, 2h,90m,2d") == (
        dt.timedelta(days=2),
        dt.timedelta(hours=24),
        dt.timedelta(hours=2),
        dt.timedelta(minutes=90),
    )
    assert parse_offsets("") == ()
    for wrong in ("2x", "0m", "31d", "h"):
        with pytest.raises(ValueError, match=r"offset|between"):
            parse_offsets(wrong)
    assert parse_quiet_hours("off") is None
    assert parse_quiet_hours("22:30-07:00") == QuietHours(dt.time(22, 30), dt.time(7))
    for wrong in ("25:00-01:00", "21-09", "09:00-09:00"):
        with pytest.raises(ValueError, match=r"local times|different"):
            parse_quiet_hours(wrong)
    monkeypatch.setenv("INTAKE_REMINDER_OFFSETS", "48h,1h")
    monkeypatch.setenv("INTAKE_REMINDER_QUIET_HOURS", "off")
    policy = load_settings().reminder_policy()
    assert policy == ReminderPolicy(offsets=(dt.timedelta(hours=48), HOUR), quiet_hours=None)
    monkeypatch.setenv("INTAKE_REMINDER_OFFSETS", "tomorrow")
    with pytest.raises(SettingsError, match=r"^INTAKE_REMINDER_OFFSETS is invalid"):
        load_settings()


# ── the schedule and the scheduler (both databases) ─────────────────────────────────────────────


def day_after_tomorrow(now: dt.datetime, hour: int) -> dt.datetime:
    day = now.astimezone(BAKU).date() + dt.timedelta(days=2)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=BAKU).astimezone(dt.UTC)


async def booked(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
    starts_at: dt.datetime,
    telegram_id: int = 1,
) -> tuple[Office, Case, Appointment]:
    """An appointment booked at `now` (its reminders scheduled from then)."""
    async with sessionmaker() as session, session.begin():
        office = (await session.execute(select(Office))).scalar_one_or_none() or await add_office(session)
        case = await new_case(session, crypto, telegram_id)
        appointment = await book_appointment(
            session, case=case, office=office, appointment_type="first", starts_at=starts_at, now=now
        )
        assert appointment is not None
        return office, case, appointment


async def reminders_of(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Reminder]:
    async with sessionmaker() as session:
        return list((await session.execute(select(Reminder).order_by(Reminder.due_at))).scalars())


async def outbox(sessionmaker: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessionmaker() as session:
        return list(
            (await session.execute(select(OutboxMessage).order_by(OutboxMessage.created_at))).scalars()
        )


def scheduler(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, i18n: I18n, clock: Clock
) -> Scheduler:
    render = functools.partial(reminder_message, i18n)
    return Scheduler(sessionmaker, crypto, render, default_timezone="Asia/Baku", clock=clock)


async def test_booking_schedules_the_reminders_and_cancelling_or_moving_drops_them(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    start = day_after_tomorrow(now, 14)
    office, case, first = await booked(sessionmaker, crypto, now, start)
    assert [(r.kind, r.offset_minutes, r.due_at, r.status) for r in await reminders_of(sessionmaker)] == [
        ("before", 1440, start - 24 * HOUR, "pending"),
        ("before", 120, start - 2 * HOUR, "pending"),
    ]
    async with sessionmaker() as session, session.begin():
        old = await session.get(Appointment, first.id)
        case = await session.get(Case, case.id)
        assert old is not None and case is not None
        moved = await book_appointment(
            session,
            case=case,
            office=office,
            appointment_type="first",
            starts_at=start + HOUR,
            replaces=old,
            now=now,
        )
        assert moved is not None
    by_appointment = Counter((r.appointment_id, r.status, r.reason) for r in await reminders_of(sessionmaker))
    assert by_appointment == {(first.id, "dropped", "cancelled"): 2, (moved.id, "pending", None): 2}
    async with sessionmaker() as session, session.begin():
        await cancel_appointment(session, case=case, appointment=await session.get(Appointment, moved.id))
    assert {r.status for r in await reminders_of(sessionmaker)} == {"dropped"}


async def test_each_due_reminder_goes_into_the_outbox_once_even_after_a_restart(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    i18n: I18n,
    now: dt.datetime,
) -> None:
    start = day_after_tomorrow(now, 14)
    _, case, appointment = await booked(sessionmaker, crypto, now, start)
    clock = Clock(start - 24 * HOUR - dt.timedelta(seconds=1))
    assert await scheduler(sessionmaker, crypto, i18n, clock).run_once() == 0
    assert await outbox(sessionmaker) == []
    clock.now += dt.timedelta(seconds=1)
    first = scheduler(sessionmaker, crypto, i18n, clock)
    assert await first.run_once() == 1
    assert await first.run_once() == 0
    assert await scheduler(sessionmaker, crypto, i18n, clock).run_once() == 0  # a restarted worker
    [row] = await outbox(sessionmaker)
    assert (row.lane, row.status, row.beneficiary_id) == (Lane.REMINDER, Status.PENDING, case.beneficiary_id)
    payload = unseal_json(crypto, row, "payload_enc")
    assert "Reminder of your appointment" in payload["text"] and "Office A street 1, Baku" in payload["text"]
    assert case.code not in payload["text"]
    buttons = [button for line in payload["reply_markup"]["inline_keyboard"] for button in line]
    reminder = (await reminders_of(sessionmaker))[0]
    assert [ReminderTap.unpack(button["callback_data"]) for button in buttons] == [
        ReminderTap(token=reminder.tap_token or "", action=action) for action in "ycr"
    ]
    assert all(len(button["callback_data"].encode()) <= 64 for button in buttons)
    assert (reminder.status, reminder.outbox_id) == ("enqueued", row.id)
    clock.now = start - 2 * HOUR
    assert await first.run_once() == 1
    assert [r.status for r in await reminders_of(sessionmaker)] == ["enqueued", "enqueued"]
    assert len(await outbox(sessionmaker)) == 2
    assert appointment.id == reminder.appointment_id


async def test_cancelling_drops_a_reminder_already_in_the_outbox_but_not_yet_sent(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    i18n: I18n,
    now: dt.datetime,
) -> None:
    start = day_after_tomorrow(now, 14)
    _, case, appointment = await booked(sessionmaker, crypto, now, start)
    assert await scheduler(sessionmaker, crypto, i18n, Clock(start - 24 * HOUR)).run_once() == 1
    async with sessionmaker() as session, session.begin():
        await cancel_appointment(
            session, case=case, appointment=await session.get(Appointment, appointment.id)
        )
    [row] = await outbox(sessionmaker)
    assert (row.status, row.error) == (Status.CANCELLED, "reminder cancelled")
    assert [(r.status, r.reason) for r in await reminders_of(sessionmaker)] == [("dropped", "cancelled")] * 2


async def test_a_closed_case_and_a_past_appointment_get_no_reminder(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    i18n: I18n,
    now: dt.datetime,
) -> None:
    start = day_after_tomorrow(now, 14)
    _, closed, _ = await booked(sessionmaker, crypto, now, start, telegram_id=1)
    await booked(sessionmaker, crypto, now, start + HOUR, telegram_id=2)
    async with sessionmaker() as session, session.begin():
        # Closed behind the console's back: the scheduler looks at the stage when a reminder is due.
        await session.execute(update(Case).where(Case.id == closed.id).values(stage="closed"))
    # The worker was away until both appointments had begun.
    assert await scheduler(sessionmaker, crypto, i18n, Clock(start + 2 * HOUR)).run_once() == 4
    assert Counter((r.status, r.reason) for r in await reminders_of(sessionmaker)) == {
        ("dropped", "superseded"): 2,  # the earlier of each appointment's two, due together
        ("dropped", "closed"): 1,
        ("dropped", "past"): 1,
    }
    assert await outbox(sessionmaker) == []
    # Closing through the console drops the pending ones at once (casework.close calls this).
    _, case, _ = await booked(sessionmaker, crypto, now, start - HOUR, telegram_id=3)
    async with sessionmaker() as session, session.begin():
        assert await drop_case_reminders(session, case_id=case.id, reason="closed") == 2


async def test_a_no_show_gets_one_kind_follow_up_held_while_a_caseworker_is_active(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    i18n: I18n,
    now: dt.datetime,
) -> None:
    _, _, missed = await booked(sessionmaker, crypto, now, now - HOUR)  # in the past: no reminders
    assert await reminders_of(sessionmaker) == []
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Appointment).values(status="no_show"))
        await session.execute(update(Case).values(caseworker_active=True))
    clock = Clock(now)
    assert await scheduler(sessionmaker, crypto, i18n, clock).run_once() == 1  # held
    [held] = await reminders_of(sessionmaker)
    assert (held.kind, held.status, held.due_at) == ("no_show", "pending", now + HOLD)
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Case).values(caseworker_active=False))  # handed back to the bot
    clock.now = now + HOLD
    for _ in range(2):  # a second round and a restarted worker add nothing
        await scheduler(sessionmaker, crypto, i18n, clock).run_once()
    [row] = await outbox(sessionmaker)
    text = unseal_json(crypto, row, "payload_enc")["text"]
    assert "We missed you" in text and "new time" in text
    [follow_up] = await reminders_of(sessionmaker)
    assert (follow_up.status, follow_up.appointment_id) == ("enqueued", missed.id)
    async with sessionmaker() as session:
        count = select(func.count()).select_from(Reminder).where(Reminder.kind == "no_show")
        assert (await session.execute(count)).scalar_one() == 1


async def test_a_no_show_is_followed_up_within_seven_days_of_the_appointment_and_not_after(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, now: dt.datetime
) -> None:
    """docs/bot.md: a no-show marked in the console within 7 days gets its kind message; an older
    one (marked late, or the worker was away) gets none."""
    week = dt.timedelta(days=7)
    minute = dt.timedelta(minutes=1)
    missed = {}
    for telegram_id, ago in enumerate((week - minute, week, week + minute), start=1):
        _, _, appointment = await booked(sessionmaker, crypto, now - ago - HOUR, now - ago, telegram_id)
        missed[ago] = appointment.id
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Appointment).values(status="no_show"))
        assert await add_no_show_follow_ups(session, now=now) == 2
    followed = {
        reminder.appointment_id for reminder in await reminders_of(sessionmaker) if reminder.kind == "no_show"
    }
    assert followed == {missed[week - minute], missed[week]}


async def test_no_follow_up_for_someone_who_booked_again_already(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    i18n: I18n,
    now: dt.datetime,
) -> None:
    office, case, _ = await booked(sessionmaker, crypto, now, now - HOUR)
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Appointment).values(status="no_show"))
        again = await book_appointment(
            session,
            case=await session.get(Case, case.id),
            office=await session.get(Office, office.id),
            appointment_type="first",
            starts_at=day_after_tomorrow(now, 11),
            now=now,
        )
        assert again is not None
    await scheduler(sessionmaker, crypto, i18n, Clock(now)).run_once()
    follow_up = next(r for r in await reminders_of(sessionmaker) if r.kind == "no_show")
    assert (follow_up.status, follow_up.reason) == ("dropped", "rebooked")
    assert await outbox(sessionmaker) == []


async def test_a_time_a_caseworker_proposed_gets_its_reminders_once_accepted(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    start = day_after_tomorrow(now, 14)
    office, case, old = await booked(sessionmaker, crypto, now, start)
    async with sessionmaker() as session, session.begin():
        proposal = await propose(
            session,
            case=case,
            office=office,
            appointment_type="first",
            starts_at=start + HOUR,
            replaces=old,
            staff_id=None,
            token="p" * 22,
            now=now,
        )
        assert proposal is not None
    # A time only proposed holds a seat, not reminders.
    assert {r.appointment_id for r in await reminders_of(sessionmaker)} == {old.id}
    async with sessionmaker() as session, session.begin():
        proposal = await session.get(AppointmentProposal, proposal.id)
        accepted = await accept_proposal(
            session, proposal=proposal, case=await session.get(Case, case.id), now=now
        )
        assert accepted is not None
    assert Counter((r.appointment_id, r.status, r.due_at) for r in await reminders_of(sessionmaker)) == {
        (old.id, "dropped", start - 24 * HOUR): 1,
        (old.id, "dropped", start - 2 * HOUR): 1,
        (accepted.id, "pending", start + HOUR - 24 * HOUR): 1,
        (accepted.id, "pending", start + HOUR - 2 * HOUR): 1,
    }


async def test_booking_an_early_appointment_moves_its_late_reminder_before_quiet_hours(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    day = now.astimezone(BAKU).date() + dt.timedelta(days=2)
    start = dt.datetime.combine(day, dt.time(9, 30), tzinfo=BAKU)
    await booked(sessionmaker, crypto, now, start.astimezone(dt.UTC))
    evening_before = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(20, 45), tzinfo=BAKU)
    assert [(r.offset_minutes, r.due_at) for r in await reminders_of(sessionmaker)] == [
        (1440, start - 24 * HOUR),
        (120, evening_before),  # not 07:30 on the day: that is inside 21:00–09:00
    ]


async def test_a_reminder_late_in_quiet_hours_waits_for_the_morning_or_is_dropped_if_that_is_too_late(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    i18n: I18n,
    now: dt.datetime,
) -> None:
    # Three days on: the 08:00 appointment's day-before reminder, moved out of the quiet hours to
    # 21:00 two evenings before, is still ahead whatever the time of day the test runs at.
    day = now.astimezone(BAKU).date() + dt.timedelta(days=3)
    nine_thirty = dt.datetime.combine(day, dt.time(9, 30), tzinfo=BAKU).astimezone(dt.UTC)
    await booked(sessionmaker, crypto, now, nine_thirty, telegram_id=1)
    async with sessionmaker() as session, session.begin():
        early = Office(
            name="Early office",
            address="Early street 1, Baku",
            latitude=40.4,
            longitude=49.8,
            opening_hours={},
            holidays=[],
            appointment_types=["first"],
        )
        session.add(early)
        await session.flush()
        case = await new_case(session, crypto, 2)
        eight = dt.datetime.combine(day, dt.time(8), tzinfo=BAKU).astimezone(dt.UTC)
        assert await book_appointment(
            session, case=case, office=early, appointment_type="first", starts_at=eight, now=now
        )
    # The worker comes back at 23:00 the evening before, with every reminder of both due.
    late = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(23), tzinfo=BAKU).astimezone(dt.UTC)
    quiet = Scheduler(
        sessionmaker,
        crypto,
        functools.partial(reminder_message, i18n),
        default_timezone="Asia/Baku",
        quiet_hours=QuietHours(dt.time(21), dt.time(9)),
        clock=Clock(late),
    )
    await quiet.run_once()
    morning = dt.datetime.combine(day, dt.time(9), tzinfo=BAKU).astimezone(dt.UTC)
    by_start = {}
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Appointment.starts_at, Reminder.status, Reminder.due_at).join(
                Reminder, Reminder.appointment_id == Appointment.id
            )
        )
        for starts_at, status, due_at in rows:
            by_start.setdefault(starts_at, set()).add((status, due_at))
    # Both reminders of each were due: the later one only. 09:30: it waits for 09:00; 08:00: the
    # morning would be too late, and the night is no time for it: dropped, with the reason.
    assert by_start[nine_thirty] == {("dropped", nine_thirty - 24 * HOUR), ("pending", morning)}
    assert {status for status, _ in by_start[eight]} == {"dropped"}
    async with sessionmaker() as session:
        reasons = (
            await session.execute(
                select(Reminder.reason).join(Appointment).where(Appointment.starts_at == eight)
            )
        ).scalars()
        assert sorted(reasons) == ["quiet hours", "superseded"]
    assert await outbox(sessionmaker) == []
