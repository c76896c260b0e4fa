"""A time a caseworker proposed: Accept books it (the held seat becomes the appointment, a moved one
is cancelled), Choose another time opens the booking calendar. The buttons carry the proposal's
token: a forged one changes nothing, a pressed, withdrawn or expired one is answered as closed."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from bot.conversation import Conversation
from bot.dialogs.appointments import BOOKING, Appointments, Place, answer_invalid, describe, show_first_month
from storage.appointments import (
    BOOKED,
    accept_proposal,
    decline_proposal,
    office_schedule,
    proposal_by_token,
    withdraw_proposal,
)
from storage.casework import CLOSED
from storage.models import Case
from storage.models_appointments import Appointment, AppointmentProposal
from wording.proposals import ACCEPT, OTHER
from wording.taps import Tap, read_tap


class ProposalTap(Filter):
    """A press of a proposal's button (any proposal token, checked by the handler)."""

    async def __call__(self, query: CallbackQuery) -> bool | dict[str, Any]:
        tap = read_tap(query.data or "")
        if tap is None or tap.value not in (ACCEPT, OTHER):
            return False
        return {"tap": tap}


async def own_proposal(conv: Conversation, token: str) -> tuple[AppointmentProposal, Case] | None:
    proposal = await proposal_by_token(conv.session, token=token)
    if proposal is None:
        return None
    case = await conv.session.get(Case, proposal.case_id)
    if case is None or case.beneficiary_id != conv.beneficiary.id:
        return None
    return proposal, case


def no_longer_open(conv: Conversation, query: CallbackQuery) -> None:
    conv.close_keyboard(
        query, _("This proposal is no longer open. Use /appointments to see your appointments.")
    )


async def proposal_tapped(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    found = await own_proposal(conv, tap.token)
    if found is None:
        await answer_invalid(conv, query)
        return
    proposal, case = found
    if case.stage == CLOSED:
        # Closed since it was proposed: nothing is booked, and the held seat goes back.
        await withdraw_proposal(conv.session, proposal=proposal, now=conv.config.clock())
        no_longer_open(conv, query)
        return
    if tap.value == ACCEPT:
        appointment = await accept_proposal(
            conv.session,
            proposal=proposal,
            case=case,
            now=conv.config.clock(),
            reminders=conv.config.reminders,
            default_timezone=conv.config.timezone,
        )
        if appointment is None:
            no_longer_open(conv, query)
            return
        conv.close_keyboard(query)
        place = Place(
            appointment.office, office_schedule(appointment.office, default_timezone=conv.config.timezone)
        )
        done = (
            _("Your appointment is moved.") if appointment.replaces_id else _("Your appointment is booked.")
        )
        conv.say(
            f"✅ <b>{done}</b>\n\n"
            + describe(appointment.type, appointment.starts_at, place, conv.locale)
            + "\n\n"
            + _("You can see, cancel or move it with /appointments.")
        )
        return
    await decline_proposal(conv.session, proposal=proposal, case=case, now=conv.config.clock())
    conv.close_keyboard(query)
    await choose_another(conv, proposal)


async def choose_another(conv: Conversation, proposal: AppointmentProposal) -> None:
    """The booking calendar for the proposal's office and type; moving the same appointment."""
    booking: dict[str, Any] = {"type": proposal.appointment.type, "office": proposal.appointment.office_id}
    if proposal.replaces_id is not None:
        replaced = await conv.session.get(Appointment, proposal.replaces_id)
        if replaced is not None and replaced.status == BOOKED:
            booking["replace"] = str(replaced.id)
    await conv.push_return(towards=Appointments.overview)
    await conv.state.update_data({BOOKING: booking})
    await show_first_month(conv)


def create_router() -> Router:
    router = Router(name="proposals")
    router.callback_query.register(proposal_tapped, ProposalTap(), F.message)
    return router
