"""Appointment reminders and the no-show follow-up: their text, and what their buttons do.

The worker's scheduler renders the messages (`reminder_message`); the sender sends them. Their
buttons carry the reminder's own one-time token, not the dialog's: a reminder arriving mid-dialog
leaves the step's buttons live. A tap is checked against the stored token and the person, acts
once (the answer is recorded in the update's transaction), and takes the keyboard off.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from aiogram import Router, html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.conversation import Conversation
from bot.dialogs.appointments import BOOKING, Appointments, Place, show_first_month
from bot.i18n import in_reading_order
from programme.appointments import MAX_UPCOMING
from storage.appointments import office_address, office_name, office_schedule, upcoming_appointments
from storage.models_appointments import Appointment, Office
from storage.models_reminders import BOOK, CANCEL, CONFIRMED, NO_SHOW, RESCHEDULE
from storage.queries import record_audit
from storage.reminders import reminder_by_token
from wording import dates
from wording.languages import DEFAULT_LOCALE, LANGUAGES, marked_lines, piece

# Button values, one letter each: the callback data stays far below Telegram's 64 bytes.
ACTIONS = {"y": CONFIRMED, "c": CANCEL, "r": RESCHEDULE, "b": BOOK}


class ReminderTap(CallbackData, prefix="rm"):
    """A press of a reminder's button: the reminder's token (22 characters) and what was chosen."""

    token: str
    action: str


def when(start: dt.datetime, zone: zoneinfo.ZoneInfo, locale: str) -> str:
    return _("{date} at {time}").format(
        date=dates.date_label(start, zone, locale), time=dates.time_label(start, zone, locale)
    )


def reminder_message(
    i18n: I18n,
    *,
    kind: str,
    starts_at: dt.datetime,
    office: Office,
    zone: zoneinfo.ZoneInfo,
    language: str | None,
    token: str,
) -> tuple[str, dict[str, Any]]:
    """The text and buttons of a reminder in the person's language: when and where, nothing about
    the case (a phone's lock screen shows the text)."""
    locale = language if language in LANGUAGES else DEFAULT_LOCALE
    with i18n.context(), i18n.use_locale(locale):
        if kind == NO_SHOW:
            text = "\n\n".join(
                [
                    _("We missed you at your appointment on {when}. That can happen.").format(
                        when=when(starts_at, zone, locale)
                    ),
                    _("Would you like to choose a new time?"),
                ]
            )
            rows = [[("📅 " + _("Choose a new time"), "b")]]
        else:
            text = "\n".join(
                [
                    "⏰ <b>" + _("Reminder of your appointment") + "</b>",
                    "",
                    "🗓 " + when(starts_at, zone, locale),
                    marked_lines("🏢 " + piece(html.quote(office_name(office, locale)), locale), locale),
                    marked_lines("📍 " + piece(html.quote(office_address(office, locale)), locale), locale),
                    "",
                    _("Please confirm that you will come, or cancel or move the appointment."),
                ]
            )
            rows = [
                [("✅ " + _("Confirm"), "y")],
                [("✖️ " + _("Cancel"), "c"), ("🔁 " + _("Reschedule"), "r")],
            ]
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=label, callback_data=ReminderTap(token=token, action=action).pack())
                for label, action in row
            ]
            for row in in_reading_order(rows, locale)
        ]
    )
    return text, markup.model_dump(exclude_none=True)


def place(conv: Conversation, appointment: Appointment) -> Place:
    office = appointment.office
    return Place(office, office_schedule(office, default_timezone=conv.config.timezone))


async def reminder_tapped(query: CallbackQuery, callback_data: ReminderTap, conv: Conversation) -> None:
    action = ACTIONS.get(callback_data.action)
    found = await reminder_by_token(
        conv.session, token=callback_data.token, beneficiary_id=conv.beneficiary.id
    )
    if action is None or found is None or found[0].answered_at is not None:
        conv.outgoing.answer_callback(
            query.id, _("This button is no longer active. Please use the newest message.")
        )
        return
    reminder, appointment = found
    if (action == BOOK) != (reminder.kind == NO_SHOW):
        conv.outgoing.answer_callback(query.id, _("Please choose one of the options."))
        return
    now = conv.config.clock()
    reminder.answer, reminder.answered_at = action, now
    conv.close_keyboard(query)
    if action == BOOK:
        await book_again(conv, appointment)
        return
    if appointment.status != "booked" or appointment.starts_at <= now:
        conv.say(_("This appointment can no longer be changed."))
        return
    if action == CONFIRMED:
        await record_audit(
            conv.session,
            actor="bot",
            action="appointment.confirmed",
            object_type="appointment",
            object_id=str(appointment.id),
            details={"reminder": str(reminder.id)},
        )
        conv.say(
            "✅ "
            + _("Thank you for confirming. See you on {when}.").format(
                when=when(appointment.starts_at, place(conv, appointment).schedule.zone, conv.locale)
            )
        )
        return
    # Cancel and Reschedule go through the appointment dialog's own steps, then back to where the
    # person was.
    await conv.push_return(towards=Appointments.overview)
    if action == CANCEL:
        await conv.state.update_data({BOOKING: {"cancel": str(appointment.id)}})
        await conv.go(Appointments.cancel)
        return
    await conv.state.update_data(
        {BOOKING: {"replace": str(appointment.id), "type": appointment.type, "office": appointment.office_id}}
    )
    await show_first_month(conv)


async def book_again(conv: Conversation, missed: Appointment) -> None:
    """The booking dialog, on the calendar of the missed appointment's office and type."""
    await conv.push_return(towards=Appointments.overview)
    case_id = missed.case_id
    if (
        len(await upcoming_appointments(conv.session, case_id=case_id, now=conv.config.clock()))
        >= MAX_UPCOMING
    ):
        await conv.go(Appointments.overview)
        return
    await conv.state.update_data({BOOKING: {"type": missed.type, "office": missed.office_id}})
    await show_first_month(conv)


def create_router() -> Router:
    router = Router(name="reminders")
    router.callback_query.register(reminder_tapped, ReminderTap.filter())
    return router
