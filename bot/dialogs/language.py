"""Choosing the language, at the start and with /language from any step."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.conversation import RETURN_TO, Conversation, FreshTap, Journey, Tap, step
from bot.i18n import LANGUAGES


@step(Journey.language)
async def ask_language(conv: Conversation) -> None:
    rows = [[(name, code)] for code, name in LANGUAGES.items()]
    conv.say("🌐 " + _("Choose your language:"), await conv.buttons(rows))


async def change_language(message: Message, conv: Conversation) -> None:
    await conv.detour(Journey.language)


async def language_chosen(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    if tap.value not in LANGUAGES:
        conv.outgoing.answer_callback(query.id, _("Please choose one of the options."))
        return
    conv.beneficiary.language = tap.value
    with conv.i18n.use_locale(tap.value):
        conv.outgoing.answer_callback(query.id)
        conv.outgoing.edit(conv.chat_id, query.message.message_id, "🌐 " + LANGUAGES[tap.value])
        if RETURN_TO in await conv.data():
            await conv.resume()
        else:
            await conv.go(Journey.privacy)


def create_router() -> Router:
    router = Router(name="language")
    router.message.register(change_language, Command("language"))
    router.callback_query.register(language_chosen, Journey.language, FreshTap(), F.message)
    return router
