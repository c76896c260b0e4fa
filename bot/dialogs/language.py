"""Choosing the language, at the start and with /language (or the menu's button) from any step."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.conversation import Conversation, FreshTap, step
from bot.dialogs.menu import LANGUAGE, is_label
from bot.dialogs.screening import AFTER_NOTICE, Screening
from wording.languages import LANGUAGES
from wording.taps import Tap


class Language(StatesGroup):
    choose = State()


@step(Language.choose, mark="first")
async def ask_language(conv: Conversation) -> None:
    rows = [[(name, code)] for code, name in LANGUAGES.items()]
    conv.say("🌐 " + _("Choose your language:"), await conv.buttons(rows))


async def notice_first(conv: Conversation, then: State) -> None:
    """For someone with no dialog yet (their first message is a command such as /feedback): the
    language and the privacy notice come first, then `then`, then the screening's next step."""
    await conv.state.update_data({AFTER_NOTICE: then.state})
    await conv.go(Language.choose)


async def change_language(message: Message, conv: Conversation) -> None:
    await conv.detour(Language.choose)


async def language_chosen(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    if tap.value not in LANGUAGES:
        conv.outgoing.answer_callback(query.id, _("Please choose one of the options."))
        return
    conv.beneficiary.language = tap.value
    with conv.i18n.use_locale(tap.value):
        conv.outgoing.answer_callback(query.id)
        conv.outgoing.edit(conv.chat_id, query.message.message_id, "🌐 " + LANGUAGES[tap.value])
        # Chosen for the first time, the screening follows; changed on the way, back to that step.
        if await conv.returns():
            await conv.finish()
        else:
            await conv.go(Screening.privacy)


def create_router() -> Router:
    router = Router(name="language")
    router.message.register(change_language, Command("language"))
    router.message.register(change_language, is_label(LANGUAGE))
    router.callback_query.register(language_chosen, Language.choose, FreshTap(), F.message)
    return router
