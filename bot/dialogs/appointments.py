"""Appointments: the person's list with Cancel and Reschedule, and booking type → office → day → time."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import calendar
from bot.conversation import Conversation, FreshTap, Row, keyboard, step
from bot.dialogs.menu import APPOINTMENTS, is_label
from programme.appointments import (
    APPOINTMENT_TYPES,
    MAX_UPCOMING,
    Schedule,
    bookable_months,
    free_days,
    free_slots,
    month_span,
)
from storage.appointments import (
    active_offices,
    appointment_of_case,
    book_appointment,
    booked_counts,
    cancel_appointment,
    get_office,
    office_address,
    office_name,
    office_schedule,
    upcoming_appointments,
)
from storage.journey import ensure_case
from storage.models_appointments import Appointment, Office
from wording import dates
from wording.languages import marked_lines, piece
from wording.taps import Tap

# Dialog data: the appointments listed (ids by position, so buttons carry only a position) and
# the booking being made.
LISTED, BOOKING = "appt_listed", "appt_booking"
BOOK, CLOSE, BACK, CONFIRM, YES, NO = "book", "close", "back", "ok", "yes", "no"


class Appointments(StatesGroup):
    overview = State()  # the list, with Cancel and Reschedule for each
    kind = State()
    office = State()
    date = State()
    time = State()
    confirm = State()
    cancel = State()


@dataclass(frozen=True, slots=True)
class Place:
    office: Office
    schedule: Schedule


def limit_reached() -> str:
    return _(
        "You already have {count} appointment. Please cancel it before booking another.",
        "You already have {count} appointments. Please cancel one before booking another.",
        MAX_UPCOMING,
    ).format(count=MAX_UPCOMING)


async def booking(conv: Conversation) -> dict[str, Any]:
    return dict((await conv.data()).get(BOOKING) or {})


async def remember(conv: Conversation, **values: Any) -> None:
    await conv.state.update_data({BOOKING: {**await booking(conv), **values}})


async def place_of(conv: Conversation, office_id: int | None) -> Place | None:
    office = await get_office(conv.session, office_id=office_id) if office_id is not None else None
    if office is None:
        return None
    return Place(office, office_schedule(office, default_timezone=conv.config.timezone))


async def month_free_days(conv: Conversation, place: Place, year: int, month: int) -> set[dt.date]:
    start, end = month_span(place.schedule, year, month)
    now = conv.config.clock()
    booked = await booked_counts(conv.session, office_id=place.office.id, start=start, end=end, now=now)
    return free_days(place.schedule, year, month, booked=booked, now=now)


async def day_free_slots(conv: Conversation, place: Place, day: dt.date) -> list[dt.datetime]:
    start, end = month_span(place.schedule, day.year, day.month)
    now = conv.config.clock()
    booked = await booked_counts(conv.session, office_id=place.office.id, start=start, end=end, now=now)
    return free_slots(place.schedule, day, booked=booked, now=now)


def when(start: dt.datetime, place: Place, locale: str) -> str:
    zone = place.schedule.zone
    return _("{date} at {time}").format(
        date=dates.date_label(start, zone, locale), time=dates.time_label(start, zone, locale)
    )


def describe(appointment_type: str, start: dt.datetime, place: Place, locale: str) -> str:
    return marked_lines(
        "\n".join(
            [
                "📋 " + _(APPOINTMENT_TYPES[appointment_type]),
                "🏢 " + piece(html.quote(office_name(place.office, locale)), locale),
                "📍 " + piece(html.quote(office_address(place.office, locale)), locale),
                "🗓 " + when(start, place, locale),
            ]
        ),
        locale,
    )


async def answer_invalid(conv: Conversation, query: CallbackQuery) -> None:
    """A forged or outdated value: say so and change nothing."""
    conv.outgoing.answer_callback(query.id, _("Please choose one of the options."))


# ── the list ────────────────────────────────────────────────────────────────────────────────────


async def open_appointments(message: Message, conv: Conversation) -> None:
    await conv.detour(Appointments.overview)


async def listed(conv: Conversation) -> list[Appointment]:
    case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
    return list(await upcoming_appointments(conv.session, case_id=case.id, now=conv.config.clock()))


@step(Appointments.overview)
async def ask_list(conv: Conversation) -> None:
    appointments = await listed(conv)
    await conv.state.update_data({LISTED: [str(item.id) for item in appointments], BOOKING: None})
    lines = [_("<b>Your appointments</b>"), ""]
    rows: list[Row] = []
    for number, item in enumerate(appointments, start=1):
        place = Place(item.office, office_schedule(item.office, default_timezone=conv.config.timezone))
        lines += [f"<b>{number}.</b>", describe(item.type, item.starts_at, place, conv.locale), ""]
        rows.append(
            [
                ("✖️ " + _("Cancel {number}").format(number=number), f"c{number - 1}"),
                ("🔁 " + _("Reschedule {number}").format(number=number), f"r{number - 1}"),
            ]
        )
    if not appointments:
        lines.append(_("You have no appointments yet."))
    rows += [[("📅 " + _("Book an appointment"), BOOK)], [(_("Close"), CLOSE)]]
    conv.say("\n".join(lines).strip(), await conv.buttons(rows))


async def chosen_appointment(conv: Conversation, value: str) -> Appointment | None:
    """The listed appointment a button names by position, if it is still theirs and booked."""
    ids: list[str] = (await conv.data()).get(LISTED) or []
    position = value[1:]
    if not position.isdigit() or int(position) >= len(ids):
        return None
    case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
    return await appointment_of_case(
        conv.session, appointment_id=uuid.UUID(ids[int(position)]), case_id=case.id
    )


async def list_tapped(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    if tap.value == CLOSE:
        conv.close_keyboard(query)
        await conv.finish()
        return
    if tap.value == BOOK:
        if len(await listed(conv)) >= MAX_UPCOMING:
            conv.outgoing.answer_callback(
                query.id,
                limit_reached(),
                show_alert=True,
            )
            return
        conv.close_keyboard(query)
        await conv.go(Appointments.kind)
        return
    appointment = await chosen_appointment(conv, tap.value) if tap.value[:1] in ("c", "r") else None
    if appointment is None:
        await answer_invalid(conv, query)
        return
    conv.close_keyboard(query)
    if tap.value.startswith("c"):
        await conv.state.update_data({BOOKING: {"cancel": str(appointment.id)}})
        await conv.go(Appointments.cancel)
    else:
        await conv.state.update_data(
            {
                BOOKING: {
                    "replace": str(appointment.id),
                    "type": appointment.type,
                    "office": appointment.office_id,
                }
            }
        )
        await show_first_month(conv)


# ── type and office ─────────────────────────────────────────────────────────────────────────────


async def offered_types(conv: Conversation) -> list[str]:
    offices = await active_offices(conv.session)
    return [
        value for value in APPOINTMENT_TYPES if any(value in office.appointment_types for office in offices)
    ]


@step(Appointments.kind)
async def ask_type(conv: Conversation) -> None:
    types = await offered_types(conv)
    if not types:
        conv.say(_("No office takes appointments at the moment. Please talk to a caseworker."))
        await conv.finish()
        return
    rows: list[Row] = [[(_(APPOINTMENT_TYPES[value]), value)] for value in types]
    conv.say(_("What is the appointment for?"), await conv.buttons([*rows, [(_("⬅️ Back"), BACK)]]))


async def type_tapped(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    if tap.value == BACK:
        conv.close_keyboard(query)
        await conv.go(Appointments.overview)
        return
    if tap.value not in await offered_types(conv):
        await answer_invalid(conv, query)
        return
    conv.close_keyboard(query)
    offices = await active_offices(conv.session, appointment_type=tap.value)
    await conv.state.update_data({BOOKING: {"type": tap.value, "offices": [office.id for office in offices]}})
    if len(offices) == 1:
        await office_chosen(conv, offices[0])
    else:
        await conv.go(Appointments.office)


@step(Appointments.office)
async def ask_office(conv: Conversation) -> None:
    office_ids: list[int] = (await booking(conv)).get("offices") or []
    offices = [
        office for office_id in office_ids if (office := await get_office(conv.session, office_id=office_id))
    ]
    rows: list[Row] = [
        [(office_name(office, conv.locale), f"o{office_ids.index(office.id)}")] for office in offices
    ]
    conv.say(_("Which office suits you best?"), await conv.buttons([*rows, [(_("⬅️ Back"), BACK)]]))


async def office_tapped(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    if tap.value == BACK:
        conv.close_keyboard(query)
        await conv.go(Appointments.kind)
        return
    office_ids: list[int] = (await booking(conv)).get("offices") or []
    position = tap.value[1:]
    office = None
    if tap.value.startswith("o") and position.isdigit() and int(position) < len(office_ids):
        office = await get_office(conv.session, office_id=office_ids[int(position)])
    if office is None:
        await answer_invalid(conv, query)
        return
    conv.close_keyboard(query)
    await office_chosen(conv, office)


async def office_chosen(conv: Conversation, office: Office) -> None:
    await remember(conv, office=office.id)
    conv.outgoing.send_venue(
        conv.chat_id,
        latitude=office.latitude,
        longitude=office.longitude,
        title=office_name(office, conv.locale),
        address=office_address(office, conv.locale),
    )
    await show_first_month(conv)


# ── the day ─────────────────────────────────────────────────────────────────────────────────────


async def show_first_month(conv: Conversation) -> None:
    """The calendar opens on the first month with a free day."""
    place = await place_of(conv, (await booking(conv)).get("office"))
    months = bookable_months(place.schedule, conv.config.clock()) if place else []
    for year, month in months:
        if place and await month_free_days(conv, place, year, month):
            await remember(conv, month=calendar.month_value(year, month))
            await conv.go(Appointments.date)
            return
    conv.say(
        _("There are no free times in the coming weeks. Please try again later or talk to a caseworker.")
    )
    await conv.go(Appointments.overview)


async def calendar_view(conv: Conversation, place: Place, year: int, month: int) -> tuple[str, list[Row]]:
    free = await month_free_days(conv, place, year, month)
    rows = calendar.month_rows(year, month, free, conv.locale)
    months = bookable_months(place.schedule, conv.config.clock())
    position = months.index((year, month)) if (year, month) in months else -1
    paging: Row = []
    if position > 0:
        paging.append((_("◀️ Previous month"), calendar.month_value(*months[position - 1])))
    if 0 <= position < len(months) - 1:
        paging.append((_("Next month ▶️"), calendar.month_value(*months[position + 1])))
    rows += [row for row in (paging, [(_("⬅️ Back"), BACK)]) if row]
    text = "\n".join(
        [
            f"<b>{calendar.month_title(year, month, conv.locale)}</b>",
            marked_lines("🏢 " + piece(html.quote(office_name(place.office, conv.locale)))),
            "",
            _("Choose a day. Days marked · have no free time."),
        ]
    )
    return text, rows


@step(Appointments.date)
async def ask_date(conv: Conversation) -> None:
    data = await booking(conv)
    place = await place_of(conv, data.get("office"))
    shown = calendar.parse_month(data.get("month") or "")
    if place is None or shown is None:
        await conv.go(Appointments.overview)
        return
    text, rows = await calendar_view(conv, place, *shown)
    conv.say(text, await conv.buttons(rows))


async def date_tapped(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    data = await booking(conv)
    place = await place_of(conv, data.get("office"))
    if place is None:
        conv.close_keyboard(query)
        await conv.go(Appointments.overview)
        return
    if tap.value == BACK:
        conv.close_keyboard(query)
        await conv.go(Appointments.overview if data.get("replace") else Appointments.kind)
        return
    if tap.value == calendar.NOOP:
        conv.outgoing.answer_callback(query.id, _("There is no free time on this day."))
        return
    month = calendar.parse_month(tap.value)
    if month is not None and month in bookable_months(place.schedule, conv.config.clock()):
        await remember(conv, month=tap.value)
        text, rows = await calendar_view(conv, place, *month)
        conv.outgoing.answer_callback(query.id)
        if query.message is not None:
            conv.outgoing.edit(conv.chat_id, query.message.message_id, text, keyboard(tap.token, rows))
        return
    day = calendar.parse_day(tap.value)
    if day is None or not await day_free_slots(conv, place, day):
        await answer_invalid(conv, query)
        return
    conv.close_keyboard(query)
    await remember(conv, day=tap.value)
    await conv.go(Appointments.time)


# ── the time and the confirmation ───────────────────────────────────────────────────────────────


@step(Appointments.time)
async def ask_time(conv: Conversation) -> None:
    data = await booking(conv)
    place = await place_of(conv, data.get("office"))
    day = calendar.parse_day(data.get("day") or "")
    if place is None or day is None:
        await conv.go(Appointments.overview)
        return
    slots = await day_free_slots(conv, place, day)
    if not slots:
        conv.say(_("Sorry, that day is now full. Please choose another day."))
        await conv.go(Appointments.date)
        return
    zone = place.schedule.zone
    buttons = [
        (dates.time_label(start, zone, conv.locale), calendar.slot_value(start, zone)) for start in slots
    ]
    rows: list[Row] = [buttons[index : index + 4] for index in range(0, len(buttons), 4)]
    office = marked_lines("🏢 " + piece(html.quote(office_name(place.office, conv.locale))))
    text = f"<b>{dates.date_label(day, zone, conv.locale)}</b>\n{office}\n\n" + _("Choose a time.")
    conv.say(text, await conv.buttons([*rows, [(_("⬅️ Back"), BACK)]]))


async def chosen_slot(
    conv: Conversation, place: Place, data: dict[str, Any], value: str
) -> dt.datetime | None:
    """The free slot a value names, recomputed now: a forged or outdated value names none."""
    day = calendar.parse_day(data.get("day") or "")
    if day is None:
        return None
    zone = place.schedule.zone
    slots = await day_free_slots(conv, place, day)
    return next((start for start in slots if calendar.slot_value(start, zone) == value), None)


async def time_tapped(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    data = await booking(conv)
    place = await place_of(conv, data.get("office"))
    if tap.value == BACK or place is None:
        conv.close_keyboard(query)
        await conv.go(Appointments.date if place else Appointments.overview)
        return
    start = await chosen_slot(conv, place, data, tap.value)
    if start is None:
        await answer_invalid(conv, query)
        return
    conv.close_keyboard(query)
    await remember(conv, slot=tap.value)
    await conv.go(Appointments.confirm)


@step(Appointments.confirm)
async def ask_confirm(conv: Conversation) -> None:
    data = await booking(conv)
    place = await place_of(conv, data.get("office"))
    start = await chosen_slot(conv, place, data, data.get("slot") or "") if place else None
    if place is None or start is None or data.get("type") not in APPOINTMENT_TYPES:
        await conv.go(Appointments.time if place else Appointments.overview)
        return
    heading = (
        _("<b>Move your appointment to this time?</b>")
        if data.get("replace")
        else _("<b>Please check your appointment</b>")
    )
    rows: list[Row] = [
        [("✅ " + _("Confirm"), CONFIRM)],
        [(_("⬅️ Another time"), BACK)],
        [(_("Close"), CLOSE)],
    ]
    conv.say(heading + "\n\n" + describe(data["type"], start, place, conv.locale), await conv.buttons(rows))


async def confirm_tapped(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    conv.close_keyboard(query)
    data = await booking(conv)
    place = await place_of(conv, data.get("office"))
    if tap.value == CLOSE or place is None:
        conv.say(_("Nothing was changed."))
        await conv.state.update_data({BOOKING: None})
        await conv.finish()
        return
    if tap.value == BACK:
        await conv.go(Appointments.time)
        return
    await book(conv, place, data)


async def book(conv: Conversation, place: Place, data: dict[str, Any]) -> None:
    case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
    replaces = None
    if data.get("replace"):
        replaces = await appointment_of_case(
            conv.session, appointment_id=uuid.UUID(data["replace"]), case_id=case.id
        )
        if replaces is None:
            conv.say(_("This appointment can no longer be changed."))
            await conv.go(Appointments.overview)
            return
    elif len(await listed(conv)) >= MAX_UPCOMING:
        conv.say(limit_reached())
        await conv.go(Appointments.overview)
        return
    start = await chosen_slot(conv, place, data, data.get("slot") or "")
    appointment = None
    if start is not None:
        appointment = await book_appointment(
            conv.session,
            case=case,
            office=place.office,
            appointment_type=data["type"],
            starts_at=start,
            replaces=replaces,
            reminders=conv.config.reminders,
            default_timezone=conv.config.timezone,
            now=conv.config.clock(),
        )
    if start is None or appointment is None:
        # Someone else took the last place meanwhile: offer the other times of that day.
        conv.say(_("Sorry, that time was just taken. Here are the other free times on that day."))
        await conv.go(Appointments.time)
        return
    done = _("Your appointment is moved.") if replaces else _("Your appointment is booked.")
    conv.say(
        f"✅ <b>{done}</b>\n\n"
        + describe(data["type"], start, place, conv.locale)
        + "\n\n"
        + _("You can see, cancel or move it with /appointments.")
    )
    await conv.state.update_data({BOOKING: None})
    await conv.finish()


# ── cancelling ──────────────────────────────────────────────────────────────────────────────────


async def to_cancel(conv: Conversation) -> Appointment | None:
    appointment_id = (await booking(conv)).get("cancel")
    if not appointment_id:
        return None
    case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
    return await appointment_of_case(conv.session, appointment_id=uuid.UUID(appointment_id), case_id=case.id)


@step(Appointments.cancel)
async def ask_cancel(conv: Conversation) -> None:
    appointment = await to_cancel(conv)
    if appointment is None:
        await conv.go(Appointments.overview)
        return
    place = Place(
        appointment.office, office_schedule(appointment.office, default_timezone=conv.config.timezone)
    )
    conv.say(
        _("<b>Do you want to cancel this appointment?</b>")
        + "\n\n"
        + describe(appointment.type, appointment.starts_at, place, conv.locale),
        await conv.buttons([[(_("Yes, cancel it"), YES)], [(_("No, keep it"), NO)]]),
    )


async def cancel_tapped(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    conv.close_keyboard(query)
    appointment = await to_cancel(conv)
    await conv.state.update_data({BOOKING: None})
    if tap.value == YES and appointment is not None:
        case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
        await cancel_appointment(conv.session, case=case, appointment=appointment)
        conv.say(_("Your appointment is cancelled."))
    else:
        conv.say(_("Nothing was changed."))
    await conv.finish()


def create_router() -> Router:
    router = Router(name="appointments")
    router.message.register(open_appointments, Command("appointments"))
    router.message.register(open_appointments, is_label(APPOINTMENTS))
    router.callback_query.register(list_tapped, Appointments.overview, FreshTap(), F.message)
    router.callback_query.register(type_tapped, Appointments.kind, FreshTap(), F.message)
    router.callback_query.register(office_tapped, Appointments.office, FreshTap(), F.message)
    router.callback_query.register(date_tapped, Appointments.date, FreshTap(), F.message)
    router.callback_query.register(time_tapped, Appointments.time, FreshTap(), F.message)
    router.callback_query.register(
        confirm_tapped, Appointments.confirm, FreshTap(CONFIRM, BACK, CLOSE), F.message
    )
    router.callback_query.register(cancel_tapped, Appointments.cancel, FreshTap(YES, NO), F.message)
    return router
