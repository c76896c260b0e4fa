"""Last in line: stale or forged buttons, messages the current step did not expect, and a first
message that is not /start (the language question)."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.conversation import STEPS, Conversation
from bot.dialogs.language import Language
from bot.dialogs.menu import Menu


async def stale_button(query: CallbackQuery, conv: Conversation) -> None:
    conv.outgoing.answer_callback(
        query.id, _("This button is no longer active. Please use the newest message.")
    )


async def unexpected_message(message: Message, conv: Conversation) -> None:
    current = await conv.state.get_state()
    if current is None:
        await conv.go(Language.choose)
        return
    step = STEPS.get(current)
    if step is not None and current != Menu.main.state:
        conv.say(
            _("Please send your answer as text.")
            if step.expects_text
            else _("Please tap one of the buttons.")
        )
    await conv.ask_current()


def create_router() -> Router:
    router = Router(name="fallback")
    router.callback_query.register(stale_button)
    router.message.register(unexpected_message)
    return router
