"""Appointments: slot computation, seats that never overbook, and booking end to end through the sandbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import zoneinfo
from collections import Counter

import pytest
from babel.dates import format_date, get_day_names, get_month_names
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import calendar
from bot.i18n import in_reading_order
from programme.appointments import Schedule, day_slots, free_days, free_slots
from sandbox.client import SandboxClient
from storage.appointments import book_appointment, cancel_appointment, ensure_demo_office
from storage.crypto import Crypto
from storage.journey import ensure_case
from storage.models import Case, DialogState, utcnow
from storage.models_appointments import Appointment, Office, SlotBooking
from storage.queries import get_or_create_beneficiary
from tests.bot.test_journey import prompt, screened, step_of, tap_and_wait, type_and_wait
from tests.bot.test_screening import Translate
from texts.bidi import RLM, isolate
from wording import dates
from wording.languages import RIGHT_TO_LEFT, format_locale
from wording.taps import Tap

BAKU = zoneinfo.ZoneInfo("Asia/Baku")
MENU = "What would you like to do? Choose from the menu below."
ALL_DAYS = {str(weekday): [["09:00", "12:00"]] for weekday in range(7)}


def baku(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BAKU).astimezone(dt.UTC)


def schedule(**changes: object) -> Schedule:
    values: dict[str, object] = {
        "timezone": "Asia/Baku",
        "hours": {weekday: ((dt.time(9), dt.time(13)), (dt.time(14), dt.time(18))) for weekday in range(5)},
        "holidays": frozenset(),
        "slot_minutes": 30,
        "capacity": 1,
    }
    return Schedule(**{**values, **changes})  # type: ignore[arg-type]


# ── slot computation (plain Python) ─────────────────────────────────────────────────────────────

MONDAY = dt.date(2026, 11, 23)
SUNDAY_BEFORE = baku(2026, 11, 22, 12)


def test_a_baku_day_has_its_opening_hours_in_slots_converted_to_utc() -> None:
    slots = day_slots(schedule(), MONDAY)
    assert len(slots) == 16  # 4 hours in the morning, 4 in the afternoon, 30 minutes each
    assert slots[0] == dt.datetime(2026, 11, 23, 5, 0, tzinfo=dt.UTC)  # 09:00 at UTC+4
    assert slots[7] == baku(2026, 11, 23, 12, 30) and slots[8] == baku(2026, 11, 23, 14)
    assert day_slots(schedule(), MONDAY + dt.timedelta(days=5)) == []  # Saturday: closed


def test_slots_that_began_holidays_and_closed_days_are_never_free() -> None:
    now = baku(2026, 11, 23, 10, 5)
    assert free_slots(schedule(), MONDAY, booked={}, now=now)[0] == baku(2026, 11, 23, 10, 30)
    holiday = schedule(holidays=frozenset({MONDAY}))
    assert free_slots(holiday, MONDAY, booked={}, now=SUNDAY_BEFORE) == []
    assert free_slots(schedule(), MONDAY - dt.timedelta(days=7), booked={}, now=SUNDAY_BEFORE) == []
    days = free_days(holiday, 2026, 11, booked={}, now=SUNDAY_BEFORE)
    assert MONDAY not in days and dt.date(2026, 11, 24) in days
    assert all(day.weekday() < 5 and day > MONDAY for day in days)


def test_a_slot_is_free_until_every_seat_of_it_is_taken() -> None:
    nine = baku(2026, 11, 23, 9)
    two_seats = schedule(capacity=2)
    assert nine in free_slots(two_seats, MONDAY, booked={nine: 1}, now=SUNDAY_BEFORE)
    assert nine not in free_slots(two_seats, MONDAY, booked={nine: 2}, now=SUNDAY_BEFORE)
    full = dict.fromkeys(day_slots(two_seats, MONDAY), 2)
    assert MONDAY not in free_days(two_seats, 2026, 11, booked=full, now=SUNDAY_BEFORE)


def test_berlin_slots_follow_the_wall_clock_across_daylight_saving_time() -> None:
    berlin = schedule(
        timezone="Europe/Berlin",
        hours={6: ((dt.time(1), dt.time(4)),), 0: ((dt.time(9), dt.time(10)),)},
        slot_minutes=60,
    )
    # 29 March 2026: at 02:00 the clocks jump to 03:00, so there is no 02:00 slot.
    assert day_slots(berlin, dt.date(2026, 3, 29)) == [
        dt.datetime(2026, 3, 29, 0, 0, tzinfo=dt.UTC),  # 01:00 CET
        dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC),  # 03:00 CEST
    ]
    assert day_slots(berlin, dt.date(2026, 3, 23)) == [dt.datetime(2026, 3, 23, 8, tzinfo=dt.UTC)]
    assert day_slots(berlin, dt.date(2026, 3, 30)) == [dt.datetime(2026, 3, 30, 7, tzinfo=dt.UTC)]


def test_the_calendar_offers_only_free_days_and_starts_the_week_as_the_locale_does() -> None:
    free = {dt.date(2026, 11, 24)}
    rows = calendar.month_rows(2026, 11, free, "en_US")
    assert [label for label, _ in rows[0]] == [
        get_day_names("short", locale="en_US")[day] for day in (6, 0, 1, 2, 3, 4, 5)
    ]
    tappable = [(label, value) for row in rows[1:] for label, value in row if value != calendar.NOOP]
    assert tappable == [("24", "d20261124")]
    assert sum(label == calendar.NO_SLOT for row in rows for label, _ in row) == 29
    assert calendar.month_title(2026, 11, "ru").startswith("ноябрь")
    assert calendar.parse_day("d20261131") is None and calendar.parse_month("m202613") is None


# ── seats (both databases) ──────────────────────────────────────────────────────────────────────


async def add_office(session: AsyncSession, name: str = "Office A", **changes: object) -> Office:
    values: dict[str, object] = {
        "name": name,
        "address": f"{name} street 1, Baku",
        "latitude": 40.4,
        "longitude": 49.8,
        "opening_hours": ALL_DAYS,
        "holidays": [],
        "slot_minutes": 30,
        "capacity": 1,
        "appointment_types": ["first", "assessment", "review", "other"],
    }
    office = Office(**{**values, **changes})
    session.add(office)
    await session.flush()
    return office


async def new_case(session: AsyncSession, crypto: Crypto, telegram_id: int) -> Case:
    beneficiary = await get_or_create_beneficiary(session, crypto, telegram_id=telegram_id)
    return await ensure_case(session, beneficiary=beneficiary)


async def test_two_transactions_racing_for_the_last_seat_book_it_once(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    start = (utcnow() + dt.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    async with sessionmaker() as session, session.begin():
        office = await add_office(session, capacity=2)
        first, second, third = [await new_case(session, crypto, number) for number in (1, 2, 3)]
        assert await book_appointment(
            session, case=first, office=office, appointment_type="first", starts_at=start
        )

    async def attempt(case: Case) -> bool:
        async with sessionmaker() as session, session.begin():
            booked = await book_appointment(
                session, case=case, office=office, appointment_type="first", starts_at=start
            )
            await asyncio.sleep(0.05)  # hold the transaction open so the other one overlaps it
            return booked is not None

    results = await asyncio.gather(attempt(second), attempt(third))
    assert sorted(results) == [False, True]
    async with sessionmaker() as session:
        seats = (await session.execute(select(SlotBooking.seat).order_by(SlotBooking.seat))).scalars().all()
        statuses = Counter((await session.execute(select(Appointment.status))).scalars())
    assert seats == [0, 1]
    assert statuses == {"booked": 2}


async def test_cancelling_gives_the_seat_back_and_rescheduling_moves_it_in_one_transaction(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    start = (utcnow() + dt.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    later = start + dt.timedelta(hours=1)
    async with sessionmaker() as session, session.begin():
        office = await ensure_demo_office(session)
        assert (await ensure_demo_office(session)).id == office.id  # seeding twice adds nothing
        case = await new_case(session, crypto, 7)
        old = await book_appointment(
            session, case=case, office=office, appointment_type="review", starts_at=start
        )
        assert old is not None
        new = await book_appointment(
            session, case=case, office=office, appointment_type="review", starts_at=later, replaces=old
        )
        assert new is not None and old.status == "cancelled" and new.replaces_id == old.id
        await cancel_appointment(session, case=case, appointment=new)
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(SlotBooking))).scalar_one() == 0
        statuses = (await session.execute(select(Appointment.status))).scalars().all()
    assert statuses == ["cancelled", "cancelled"]


# ── end to end through the sandbox ──────────────────────────────────────────────────────────────


async def offices(
    sessionmaker: async_sessionmaker[AsyncSession], *changes: dict[str, object]
) -> list[Office]:
    async with sessionmaker() as session, session.begin():
        return [
            await add_office(session, f"Office {'AB'[index]}", **change)
            for index, change in enumerate(changes)
        ]


def target_day(now: dt.datetime, days_ahead: int = 2) -> dt.date:
    """The Baku date `days_ahead` after the one the bot's clock (set to `now`) stands at."""
    return now.astimezone(BAKU).date() + dt.timedelta(days=days_ahead)


async def latest_keyboard(phone: SandboxClient, user: int) -> dict:
    await phone.wait_idle(user)
    return [
        m for m in await phone.bot_messages(user) if (m.get("reply_markup") or {}).get("inline_keyboard")
    ][-1]


def values_of(message: dict) -> dict[str, str]:
    """Button label → tap value of a message."""
    return {
        button["text"]: Tap.unpack(button["callback_data"]).value
        for row in message["reply_markup"]["inline_keyboard"]
        for button in row
    }


async def open_month(phone: SandboxClient, t: Translate, user: int, day: dt.date, locale: str = "en") -> dict:
    """Page the calendar to the month of `day` and return that calendar message."""
    title = calendar.month_title(day.year, day.month, locale)
    for _page in range(4):
        message = await latest_keyboard(phone, user)
        if message["text"].startswith(title):
            return message
        await phone.press(user, t("Next month ▶️", locale))
    raise AssertionError(f"no calendar page {title}")


async def to_booking(phone: SandboxClient, t: Translate, locale: str = "en", label: str = "English") -> int:
    user = await screened(phone, t, locale=locale, label=label)
    await tap_and_wait(phone, user, t("Later", locale), t(MENU, locale))
    await tap_and_wait(phone, user, t("📅 Appointments", locale), t("You have no appointments yet.", locale))
    await tap_and_wait(
        phone, user, "📅 " + t("Book an appointment", locale), t("What is the appointment for?", locale)
    )
    return user


async def choose_slot(
    phone: SandboxClient, t: Translate, user: int, day: dt.date, hour: int, locale: str = "en"
) -> None:
    await open_month(phone, t, user, day, locale)
    await tap_and_wait(phone, user, calendar.day_label(day, locale), t("Choose a time.", locale))
    start = dt.datetime.combine(day, dt.time(hour), tzinfo=BAKU)
    await phone.press(user, dates.time_label(start, BAKU, locale))


slow = pytest.mark.slow


@slow
@pytest.mark.parametrize(
    ("locale", "label"), [("en", "English"), ("fa", "فارسی / دری"), ("ps", "پښتو"), ("ur", "اردو")]
)
async def test_a_person_books_with_the_calendar_in_their_language_and_sees_where_the_office_is(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    locale: str,
    label: str,
    now: dt.datetime,
) -> None:
    await offices(sessionmaker, {}, {"appointment_types": ["review"]})
    user = await to_booking(phone, t, locale, label)
    day = target_day(now)
    # Only Office A offers a first meeting: no office step, straight to where it is and the calendar.
    await tap_and_wait(
        phone, user, t("First meeting", locale), t("Choose a day. Days marked · have no free time.", locale)
    )
    venue = next(m for m in await phone.bot_messages(user) if m["kind"] == "venue")
    assert venue["venue"]["title"] == "Office A" and venue["venue"]["address"] == "Office A street 1, Baku"
    page = await open_month(phone, t, user, day, locale)
    assert get_month_names("wide", locale=format_locale(locale))[day.month] in page["text"]
    first_row = [button["text"] for button in page["reply_markup"]["inline_keyboard"][0]]
    header = calendar.weekday_header(locale)
    if header is None:  # Pashto, Urdu: no weekday row (docs/bot.md), only the days' numbers
        assert locale in ("ps", "ur")
        assert all(label.isdigit() or label in (calendar.NO_SLOT, calendar.PADDING) for label in first_row)
    else:  # a right-to-left reader's week starts on the right
        assert first_row == in_reading_order([header], locale)[0]
    await tap_and_wait(phone, user, calendar.day_label(day, locale), t("Choose a time.", locale))
    chosen = next(
        m for m in reversed(await phone.bot_messages(user)) if t("Choose a time.", locale) in m["text"]
    )
    # The day chosen is named in full, its weekday with it: where there is no weekday row, the
    # person sees here which day of the week they tapped.
    weekday = format_date(day, "EEEE", locale=format_locale(locale))
    assert chosen["text"].startswith(dates.date_label(day, BAKU, locale)) and weekday in chosen["text"]
    if locale in RIGHT_TO_LEFT:  # the office's Latin name in its own line, laid out from the right
        assert f"\n{RLM}🏢 {isolate('Office A')}\n" in chosen["text"]
    start = dt.datetime.combine(day, dt.time(10), tzinfo=BAKU)
    await phone.press(user, dates.time_label(start, BAKU, locale))
    check = await phone.wait_for_bot_message(
        user, contains=t("<b>Please check your appointment</b>", locale)[3:-4]
    )
    assert (
        t("First meeting", locale) in check["text"]
        and dates.time_label(dt.datetime.combine(day, dt.time(10), tzinfo=BAKU), BAKU, locale)
        in check["text"]
    )
    await tap_and_wait(phone, user, "✅ " + t("Confirm", locale), t("Your appointment is booked.", locale))
    await phone.wait_for_bot_message(user, contains=t(MENU, locale))  # back where they were
    async with sessionmaker() as session:
        appointment = (await session.execute(select(Appointment))).scalar_one()
        office = await session.get(Office, appointment.office_id)
    assert (appointment.type, appointment.status, office.name) == ("first", "booked", "Office A")
    assert appointment.starts_at == dt.datetime.combine(day, dt.time(10), tzinfo=BAKU)


@slow
async def test_the_calendar_never_offers_a_full_past_closed_or_holiday_day(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    today = target_day(now, 0)
    holiday, full = today + dt.timedelta(days=2), today + dt.timedelta(days=3)
    closed = (today + dt.timedelta(days=4)).weekday()
    hours = {key: value for key, value in ALL_DAYS.items() if int(key) != closed}
    [office] = await offices(sessionmaker, {"opening_hours": hours, "holidays": [holiday.isoformat()]})
    async with sessionmaker() as session, session.begin():
        case = await new_case(session, crypto, 99)
        for hour, minute in [(9, 0), (9, 30), (10, 0), (10, 30), (11, 0), (11, 30)]:
            start = dt.datetime.combine(full, dt.time(hour, minute), tzinfo=BAKU)
            assert await book_appointment(
                session, case=case, office=office, appointment_type="other", starts_at=start
            )
    user = await to_booking(phone, t)
    await tap_and_wait(phone, user, t("Other"), t("Choose a day. Days marked · have no free time."))
    offered: set[dt.date | None] = set()
    for _page in range(2):  # the days ahead fall in at most two months
        page = await latest_keyboard(phone, user)
        offered |= {calendar.parse_day(value) for value in values_of(page).values() if value.startswith("d")}
        if _page == 0:
            await phone.press(user, t("Next month ▶️"))
    assert today + dt.timedelta(days=1) in offered
    assert holiday not in offered and full not in offered
    assert all(day is not None and day >= today and day.weekday() != closed for day in offered)


async def confirm_screen(phone: SandboxClient, t: Translate, user: int, day: dt.date, hour: int) -> None:
    await tap_and_wait(phone, user, t("First meeting"), t("Choose a day. Days marked · have no free time."))
    await choose_slot(phone, t, user, day, hour)
    await phone.wait_for_bot_message(user, contains="Please check your appointment")


@slow
async def test_two_people_racing_for_the_last_place_one_gets_it_the_other_is_offered_other_times(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    [office] = await offices(sessionmaker, {"capacity": 2})
    day = target_day(now)
    ten = dt.datetime.combine(day, dt.time(10), tzinfo=BAKU)
    async with sessionmaker() as session, session.begin():
        case = await new_case(session, crypto, 77)
        assert await book_appointment(
            session, case=case, office=office, appointment_type="other", starts_at=ten
        )
    first, second = await to_booking(phone, t), await to_booking(phone, t)
    await confirm_screen(phone, t, first, day, 10)
    await confirm_screen(phone, t, second, day, 10)
    await asyncio.gather(*(phone.press(user, "✅ " + t("Confirm")) for user in (first, second)))
    await phone.wait_idle(first)
    await phone.wait_idle(second)
    texts = {user: [m["text"] for m in await phone.bot_messages(user)] for user in (first, second)}
    booked = [user for user in texts if any(t("Your appointment is booked.") in text for text in texts[user])]
    assert len(booked) == 1
    loser = second if booked == [first] else first
    assert any(t("Sorry, that time was just taken.")[:30] in text for text in texts[loser])
    times = values_of(await latest_keyboard(phone, loser))
    assert dates.time_label(ten, BAKU, "en") not in times
    assert dates.time_label(ten + dt.timedelta(minutes=30), BAKU, "en") in times
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(SlotBooking))).scalar_one() == 2


@slow
async def test_an_appointment_can_be_rescheduled_and_cancelled(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], now: dt.datetime
) -> None:
    await offices(sessionmaker, {})
    user = await to_booking(phone, t)
    day = target_day(now)
    await confirm_screen(phone, t, user, day, 10)
    await tap_and_wait(phone, user, "✅ " + t("Confirm"), t("Your appointment is booked."))
    await type_and_wait(phone, user, "/appointments", t("<b>Your appointments</b>")[3:-4])
    later = day + dt.timedelta(days=1)
    await tap_and_wait(
        phone,
        user,
        "🔁 " + t("Reschedule {number}", number=1),
        t("Choose a day. Days marked · have no free time."),
    )
    await choose_slot(phone, t, user, later, 11)
    await phone.wait_for_bot_message(user, contains="Move your appointment")
    await tap_and_wait(phone, user, "✅ " + t("Confirm"), t("Your appointment is moved."))
    async with sessionmaker() as session:
        rows = (await session.execute(select(Appointment).order_by(Appointment.created_at))).scalars().all()
        assert [(row.status, row.starts_at.astimezone(BAKU).hour) for row in rows] == [
            ("cancelled", 10),
            ("booked", 11),
        ]
        assert rows[1].replaces_id == rows[0].id
    await type_and_wait(phone, user, "/appointments", t("<b>Your appointments</b>")[3:-4])
    await tap_and_wait(
        phone,
        user,
        "✖️ " + t("Cancel {number}", number=1),
        t("<b>Do you want to cancel this appointment?</b>")[3:-4],
    )
    await tap_and_wait(phone, user, t("No, keep it"), t("Nothing was changed."))
    await type_and_wait(phone, user, "/appointments", t("<b>Your appointments</b>")[3:-4])
    await tap_and_wait(
        phone,
        user,
        "✖️ " + t("Cancel {number}", number=1),
        t("<b>Do you want to cancel this appointment?</b>")[3:-4],
    )
    await tap_and_wait(phone, user, t("Yes, cancel it"), t("Your appointment is cancelled."))
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(SlotBooking))).scalar_one() == 0
        statuses = (await session.execute(select(Appointment.status))).scalars().all()
    assert statuses == ["cancelled", "cancelled"]


@slow
async def test_forged_dates_slots_and_appointment_positions_change_nothing(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    today = target_day(now, 0)
    holiday = today + dt.timedelta(days=3)  # not the day booked below
    await offices(sessionmaker, {"holidays": [holiday.isoformat()]})
    user = await to_booking(phone, t)
    await tap_and_wait(phone, user, t("First meeting"), t("Choose a day. Days marked · have no free time."))
    page = await latest_keyboard(phone, user)
    token = Tap.unpack(page["reply_markup"]["inline_keyboard"][0][0]["callback_data"]).token

    async def forged(message: dict, value: str) -> str:
        data = Tap(token=token, value=value).pack()
        return (await phone.press_for_answer(user, message_id=message["message_id"], callback_data=data))[
            "text"
        ]

    async def state() -> str | None:
        async with sessionmaker() as session:
            return (await session.execute(select(DialogState.state))).scalar_one()

    invalid = t("Please choose one of the options.")
    past, far = today - dt.timedelta(days=1), today + dt.timedelta(days=120)
    for value in (
        calendar.day_value(holiday),
        calendar.day_value(past),
        calendar.day_value(far),
        "d2026x",
        "m209901",
        "s1000",
    ):
        assert await forged(page, value) == invalid, value
    assert await state() == "Appointments:date"
    await open_month(phone, t, user, target_day(now))
    await tap_and_wait(phone, user, calendar.day_label(target_day(now), "en"), t("Choose a time."))
    times = await latest_keyboard(phone, user)
    token = Tap.unpack(times["reply_markup"]["inline_keyboard"][0][0]["callback_data"]).token
    for value in ("s0300", "s1200", "s0915", calendar.day_value(target_day(now)), "c0"):
        assert await forged(times, value) == invalid, value
    assert await state() == "Appointments:time"
    nine = dates.time_label(dt.datetime.combine(target_day(now), dt.time(9), tzinfo=BAKU), BAKU, "en")
    await tap_and_wait(phone, user, nine, "Please check your appointment")
    await tap_and_wait(phone, user, "✅ " + t("Confirm"), t("Your appointment is booked."))
    listing = await type_and_wait(phone, user, "/appointments", t("<b>Your appointments</b>")[3:-4])
    token = Tap.unpack(listing["reply_markup"]["inline_keyboard"][0][0]["callback_data"]).token
    for value in ("c1", "r5", "c-1", "cx", "c"):
        assert await forged(listing, value) == invalid, value
    async with sessionmaker() as session:
        assert (await session.execute(select(Appointment.status))).scalars().all() == ["booked"]
    assert await state() == "Appointments:overview"


@slow
async def test_appointments_from_the_middle_of_the_interview_return_to_the_same_step(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], now: dt.datetime
) -> None:
    await offices(sessionmaker, {})
    user = await screened(phone, t)
    await tap_and_wait(phone, user, t("Start"), prompt(t, "phone"))
    await tap_and_wait(phone, user, t("Skip ➡️"), prompt(t, "interpreter"))
    await tap_and_wait(phone, user, t("Yes"), step_of(t, 3))
    await type_and_wait(phone, user, "/appointments", t("You have no appointments yet."))
    await tap_and_wait(phone, user, "📅 " + t("Book an appointment"), t("What is the appointment for?"))
    await confirm_screen_from_type(phone, t, user, now)
    await tap_and_wait(phone, user, "✅ " + t("Confirm"), t("Your appointment is booked."))
    again = await phone.wait_for_bot_message(user, contains=step_of(t, 3))
    assert prompt(t, "city") in again["text"]
    await type_and_wait(phone, user, "Ganja", prompt(t, "country"))


async def confirm_screen_from_type(phone: SandboxClient, t: Translate, user: int, now: dt.datetime) -> None:
    await confirm_screen(phone, t, user, target_day(now), 9)
