"""Choosing the language, at the start and with /language from any step."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.conversation import Conversation, FreshTap, Journey, Tap, step
from bot.i18n import LANGUAGES

# Where /language was asked from, to return there once a language is chosen.
RETURN_TO = "return_to"


@step(Journey.language)
async def ask_language(conv: Conversation) -> None:
    rows = [[(name, code)] for code, name in LANGUAGES.items()]
    conv.say("🌐 " + _("Choose your language:"), await conv.buttons(rows))


async def change_language(message: Message, conv: Conversation) -> None:
    current = await conv.state.get_state()
    if current and current != Journey.language.state:
        await conv.state.update_data({RETURN_TO: current})
    await conv.go(Journey.language)


async def language_chosen(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    if tap.value not in LANGUAGES:
        conv.outgoing.answer_callback(query.id, _("Please choose one of the options."))
        return
    conv.beneficiary.language = tap.value
    with conv.i18n.use_locale(tap.value):
        conv.outgoing.answer_callback(query.id)
        conv.outgoing.edit(conv.chat_id, query.message.message_id, "🌐 " + LANGUAGES[tap.value])
        data = await conv.data()
        return_to = data.pop(RETURN_TO, None)
        await conv.state.set_data(data)
        if return_to:
            await conv.state.set_state(return_to)
            await conv.ask_current()
        else:
            await conv.go(Journey.privacy)


def create_router() -> Router:
    router = Router(name="language")
    router.message.register(change_language, Command("language"))
    router.callback_query.register(language_chosen, Journey.language, FreshTap(), F.message)
    return router
