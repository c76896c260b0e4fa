"""Urgent help from any step: emergency numbers, a safety message, and an alert for caseworkers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.conversation import STEPS, Conversation
from bot.dialogs.menu import URGENT, is_label
from programme.urgent import EMERGENCY_NUMBERS, crisis_words_in
from storage.journey import add_case_message, ensure_case, raise_alert
from texts.visible import visible

# Set in the dialog data once crisis words were answered, so the gentle note comes once.
CRISIS_NOTED = "crisis_noted"
# In a message handler's data: the message was kept on the case already (it raised an alert).
KEPT = "kept_on_case"


def numbers() -> str:
    return "\n".join(f"☎️ <b>{number}</b> — {_(label)}" for number, label in EMERGENCY_NUMBERS)


async def alert(conv: Conversation, kind: str, written: str | None = None, words: Sequence[str] = ()) -> None:
    """Raise the alert; what the person wrote with it is kept on the case like a handoff message
    (sealed, in the conversation), with the crisis words that matched, for the alert to show."""
    case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
    message = None
    if written:
        body: dict[str, Any] = {"text": written, "alert": kind}
        if words:
            body["crisis_words"] = list(words)
        message = await add_case_message(
            conv.session, conv.crypto, case=case, direction="in", kind="text", body=body
        )
    await raise_alert(conv.session, case=case, kind=kind, message=message)


async def urgent_help(message: Message, conv: Conversation, command: CommandObject | None = None) -> None:
    written = visible(command.args or "").strip() if command is not None else ""
    await alert(conv, "urgent", written, crisis_words_in(written, conv.locale) if written else ())
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
    """Free text with crisis words takes the urgent path gently, once, without leaving the step.

    The message is kept on the case then (the alert shows it); a handler that keeps messages itself
    (the handoff's) is told with `KEPT` in its data, so it is not kept twice."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        conv: Conversation | None = data.get("conv")
        text = event.text if isinstance(event, Message) else None
        if conv is not None and text and not text.startswith("/"):
            words = crisis_words_in(text, conv.locale)
            current = STEPS.get(await conv.state.get_state() or "") if words else None
            if words and (current is None or not current.handles_crisis):
                data[KEPT] = await note_crisis(conv, visible(text), words)
        return await handler(event, data)


async def note_crisis(conv: Conversation, text: str, words: Sequence[str]) -> bool:
    """The gentle note and the alert, once a dialog; whether the message was kept on the case."""
    if (await conv.data()).get(CRISIS_NOTED):
        return False
    await conv.state.update_data({CRISIS_NOTED: True})
    await alert(conv, "crisis_words", text, words)
    conv.say(
        _("It sounds like you may be going through something very hard. You are not alone.")
        + "\n\n"
        + _("<b>If you are in danger now, call:</b>")
        + "\n"
        + numbers()
        + "\n\n"
        + _("We have told our caseworkers, and someone will contact you soon.")
    )
    return True


def create_router() -> Router:
    router = Router(name="urgent")
    router.message.register(urgent_help, Command("urgent"))
    router.message.register(urgent_help, is_label(URGENT))
    return router
