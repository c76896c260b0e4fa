"""The reminder rules (programme.reminders) at their edges: where quiet hours begin and end, when
they end for a time inside them, and the moments at which a reminder is or is not scheduled."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from programme.reminders import QuietHours, ReminderPolicy, due_times, parse_offsets, parse_quiet_hours

BAKU = zoneinfo.ZoneInfo("Asia/Baku")
NIGHT = QuietHours(dt.time(21), dt.time(9))
LUNCH = QuietHours(dt.time(13), dt.time(14))


def baku(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=BAKU).astimezone(dt.UTC)


@pytest.mark.parametrize(
    ("hours", "local", "quiet"),
    [
        (NIGHT, dt.time(20, 59), False),
        (NIGHT, dt.time(21), True),
        (NIGHT, dt.time(0), True),
        (NIGHT, dt.time(8, 59), True),
        (NIGHT, dt.time(9), False),
        (LUNCH, dt.time(12, 59), False),
        (LUNCH, dt.time(13), True),
        (LUNCH, dt.time(13, 59), True),
        (LUNCH, dt.time(14), False),
        (LUNCH, dt.time(14, 1), False),
        (LUNCH, dt.time(20), False),
        (LUNCH, dt.time(9), False),
    ],
)
def test_quiet_hours_begin_at_their_start_and_are_over_at_their_end(
    hours: QuietHours, local: dt.time, quiet: bool
) -> None:
    assert hours.contains(local) is quiet


def test_a_reminder_due_the_minute_quiet_hours_begin_goes_that_evening_before_them() -> None:
    assert NIGHT.before(baku(1, 21), BAKU) == baku(1, 20, 45)
    assert NIGHT.before(baku(1, 9), BAKU) == baku(1, 9)


@pytest.mark.parametrize(
    ("moment", "end"),
    [
        (baku(1, 22), baku(2, 9)),  # before midnight: the next morning
        (baku(2, 2), baku(2, 9)),  # after midnight: the same morning
        (baku(2, 21), baku(3, 9)),  # the minute they begin
        (baku(2, 9), baku(2, 9)),  # the minute they end: not quiet, the moment itself
        (baku(2, 15), baku(2, 15)),  # in the day: the moment itself
    ],
)
def test_the_end_of_the_quiet_hours_a_moment_falls_in(moment: dt.datetime, end: dt.datetime) -> None:
    assert NIGHT.end_after(moment, BAKU) == end


def test_the_end_of_daytime_quiet_hours_is_the_same_day() -> None:
    assert LUNCH.end_after(baku(2, 13, 30), BAKU) == baku(2, 14)
    assert LUNCH.end_after(baku(2, 13), BAKU) == baku(2, 14)


def test_in_the_hour_the_clocks_go_back_the_quiet_hours_end_after_the_moment_asked_about() -> None:
    """On 2026-10-25 in Berlin 02:00–03:00 is lived twice: at 02:10 of its second pass, quiet hours
    ending at 02:30 end at the second 02:30, not at the first, an hour before."""
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    quiet = QuietHours(dt.time(2), dt.time(2, 30))
    first_pass = dt.datetime(2026, 10, 25, 0, 10, tzinfo=dt.UTC)
    assert quiet.end_after(first_pass, berlin) == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
    second_pass = dt.datetime(2026, 10, 25, 1, 10, tzinfo=dt.UTC)
    assert quiet.end_after(second_pass, berlin) == dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)
    for hours in (quiet, NIGHT):
        for minute in range(24 * 60):
            moment = dt.datetime(2026, 10, 24, 12, tzinfo=dt.UTC) + dt.timedelta(minutes=minute)
            end = hours.end_after(moment, berlin)
            assert end >= moment and not hours.contains(end.astimezone(berlin).time()), moment


def test_a_reminder_due_the_moment_the_appointment_is_booked_is_not_scheduled() -> None:
    """Due the very moment of booking it would come on the heels of the booking's confirmation."""
    start = baku(2, 14)
    policy = ReminderPolicy(offsets=(dt.timedelta(hours=2),), quiet_hours=None)
    assert due_times(policy, starts_at=start, zone=BAKU, now=baku(2, 12)) == []
    assert due_times(policy, starts_at=start, zone=BAKU, now=baku(2, 11, 59)) == [(120, baku(2, 12))]


def test_no_reminder_at_the_start_itself() -> None:
    policy = ReminderPolicy(offsets=(dt.timedelta(0),), quiet_hours=None)
    assert due_times(policy, starts_at=baku(2, 14), zone=BAKU, now=baku(1, 14)) == []


def test_offsets_from_one_minute_to_thirty_days_and_empty_parts_skipped() -> None:
    assert parse_offsets("1m,, 30d") == (dt.timedelta(days=30), dt.timedelta(minutes=1))
    assert parse_offsets("720h, 2H") == (dt.timedelta(hours=720), dt.timedelta(hours=2))
    assert parse_offsets("2h,120m") == (dt.timedelta(hours=2),)


@pytest.mark.parametrize("off", ["", " off ", "None", "OFF"])
def test_quiet_hours_switched_off(off: str) -> None:
    assert parse_quiet_hours(off) is None


@pytest.mark.parametrize("wrong", ["21:00", "21:00-", "-09:00", "21:00 09:00"])
def test_quiet_hours_need_both_times(wrong: str) -> None:
    with pytest.raises(ValueError, match="local times"):
        parse_quiet_hours(wrong)


def test_quiet_hours_read_with_their_minutes() -> None:
    assert parse_quiet_hours(" 21:15 - 8:05 ") == QuietHours(dt.time(21, 15), dt.time(8, 5))


def test_daytime_quiet_hours_are_read_and_empty_ones_refused() -> None:
    assert parse_quiet_hours("13:00-14:30") == QuietHours(dt.time(13), dt.time(14, 30))
    with pytest.raises(ValueError, match="different from their end"):
        parse_quiet_hours("09:00-09:00")


@pytest.mark.parametrize("local", [dt.time(0), dt.time(8, 59), dt.time(9), dt.time(12), dt.time(23, 59)])
def test_quiet_hours_that_end_where_they_begin_hold_no_time(local: dt.time) -> None:
    """[09:00, 09:00) is empty, not the whole day (the settings refuse it; a direct value reads so)."""
    assert QuietHours(dt.time(9), dt.time(9)).contains(local) is False
