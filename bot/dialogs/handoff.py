"""Talking to a caseworker: a reason, then every message is kept (sealed) on the case conversation."""

from __future__ import annotations

import zoneinfo
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.conversation import Conversation, FreshTap, step
from bot.dialogs.menu import CASEWORKER, Menu, is_label
from programme.handoff import TOPICS
from storage import staff_alerts
from storage.journey import add_case_message, ensure_case
from storage.models import utcnow
from storage.queries import open_case_of, record_audit
from texts.visible import visible
from wording import dates
from wording.taps import Tap


class Handoff(StatesGroup):
    reason = State()
    conversation = State()


async def talk(message: Message, conv: Conversation) -> None:
    await conv.detour(Handoff.reason)


@step(Handoff.reason)
async def ask_reason(conv: Conversation) -> None:
    rows = [[(_(label), value)] for value, label in TOPICS]
    conv.say(_("What would you like to talk about?"), await conv.buttons(rows))


async def reason_chosen(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    if tap.value not in dict(TOPICS):
        conv.outgoing.answer_callback(query.id, _("Please choose one of the options."))
        return
    conv.close_keyboard(query)
    case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
    if case.handoff_at is None:
        case.handoff_at = utcnow()
    case.handoff_reason = tap.value
    await record_audit(
        conv.session,
        actor="bot",
        action="case.handoff",
        object_type="case",
        object_id=case.code,
        details={"reason": tap.value},
    )
    await conv.go(Handoff.conversation)


@step(Handoff.conversation, expects_text=True)
async def ask_message(conv: Conversation) -> None:
    text = _("Write your message below. A caseworker will answer you here.")
    zone = zoneinfo.ZoneInfo(conv.config.timezone)
    # The programme's hours as an administrator set them (console: Organisation), in its time zone.
    opening = (await conv.organisation()).next_opening(conv.config.clock(), zone)
    if opening is not None:
        when = dates.weekday_time(opening, zone, conv.locale)
        text += "\n\n" + _("Our office is closed now. A caseworker will answer from {when}.").format(
            when=when
        )
    conv.say(text)


def message_body(message: Message) -> tuple[str, dict[str, Any]] | None:
    """What is kept of a message: its kind and content (Telegram file ids, not the files)."""
    if message.text:
        return "text", {"text": visible(message.text)}
    if message.photo:
        return "photo", {
            "file_id": message.photo[-1].file_id,
            "caption": visible(message.caption or "") or None,
        }
    if message.document:
        return "document", {
            "file_id": message.document.file_id,
            "file_name": message.document.file_name,
            "caption": visible(message.caption or "") or None,
        }
    if message.voice:
        return "voice", {"file_id": message.voice.file_id, "duration": message.voice.duration}
    if message.location:
        return "location", {"latitude": message.location.latitude, "longitude": message.location.longitude}
    return None


async def relay(message: Message, conv: Conversation, kept_on_case: bool = False) -> None:
    """Keep the message on the case (unless crisis words kept it already, bot.dialogs.urgent.KEPT);
    the first one nobody has read yet is told to the case's caseworker on their phone."""
    body = message_body(message)
    if body is None:
        conv.say(_("Please send text, a photo, a document, a voice message or a location."))
        return
    if not kept_on_case:
        case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
        await staff_alerts.note_message(conv.session, case=case)
        await add_case_message(
            conv.session, conv.crypto, case=case, direction="in", kind=body[0], body=body[1]
        )
    conv.say("✓ " + _("Received. A caseworker will answer you here."))


async def handed_off(message: Message, conv: Conversation) -> bool:
    """Outside the conversation step, a person already waiting for a caseworker is still heard."""
    case = await open_case_of(conv.session, beneficiary_id=conv.beneficiary.id)
    return case is not None and case.handoff_at is not None


def create_router() -> Router:
    router = Router(name="handoff")
    router.message.register(talk, is_label(CASEWORKER))
    router.message.register(talk, Command("caseworker"))
    router.callback_query.register(reason_chosen, Handoff.reason, FreshTap(), F.message)
    router.message.register(relay, Handoff.conversation)
    router.message.register(relay, Menu.main, handed_off)
    return router
