"""Urgent help from any step: emergency numbers, a safety message, and an alert for caseworkers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.filters import Command
from aiogram.types import Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.conversation import STEPS, Conversation
from bot.dialogs.menu import URGENT, is_label
from programme.urgent import EMERGENCY_NUMBERS, mentions_crisis
from storage.journey import ensure_case, raise_alert

# Set in the dialog data once crisis words were answered, so the gentle note comes once.
CRISIS_NOTED = "crisis_noted"


def numbers() -> str:
    return "\n".join(f"☎️ <b>{number}</b> — {_(label)}" for number, label in EMERGENCY_NUMBERS)


async def alert(conv: Conversation, kind: str) -> None:
    case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
    await raise_alert(conv.session, case=case, kind=kind)


async def urgent_help(message: Message, conv: Conversation) -> None:
    await alert(conv, "urgent")
    conv.say(
        _("<b>If you are in danger now, call:</b>")
        + "\n"
        + numbers()
        + "\n\n"
        + _(
            "Calls are free. We have told our caseworkers, and someone will contact you as soon as "
            "possible. If it is safe, go to a place where other people are."
        )
    )
    await conv.ask_current()


class CrisisWords(BaseMiddleware):
    """Free text with crisis words takes the urgent path gently, once, without leaving the step."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        conv: Conversation | None = data.get("conv")
        text = event.text if isinstance(event, Message) else None
        if conv is not None and text and not text.startswith("/") and mentions_crisis(text, conv.locale):
            current = STEPS.get(await conv.state.get_state() or "")
            if current is None or not current.handles_crisis:
                await note_crisis(conv)
        return await handler(event, data)


async def note_crisis(conv: Conversation) -> None:
    if (await conv.data()).get(CRISIS_NOTED):
        return
    await conv.state.update_data({CRISIS_NOTED: True})
    await alert(conv, "crisis_words")
    conv.say(
        _("It sounds like you may be going through something very hard. You are not alone.")
        + "\n\n"
        + _("<b>If you are in danger now, call:</b>")
        + "\n"
        + numbers()
        + "\n\n"
        + _("We have told our caseworkers, and someone will contact you soon.")
    )


def create_router() -> Router:
    router = Router(name="urgent")
    router.message.register(urgent_help, Command("urgent"))
    router.message.register(urgent_help, is_label(URGENT))
    return router
