"""/start, with an outreach deep link or without: news again for someone who stopped it, the
language question for someone with no dialog yet, and anyone else back at their step."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.conversation import Conversation
from bot.dialogs.language import Language
from bot.dialogs.menu import Menu
from programme.channels import valid_code
from storage.channels import known_code
from storage.queries import open_case_of


async def start(message: Message, command: CommandObject, conv: Conversation) -> None:
    payload = command.args or ""
    # Only a code of a channel we made is recorded; anything else is as if no code came. The first
    # channel a person came through stays theirs.
    if (
        conv.beneficiary.source is None
        and valid_code(payload)
        and await known_code(conv.session, code=payload)
    ):
        conv.beneficiary.source = payload
    if conv.beneficiary.opted_out:
        conv.beneficiary.opted_out = False
        conv.say(_("Welcome back! You will get our news again."))
    current = await conv.state.get_state()
    if current is None:
        await conv.go(Language.choose)
        return
    if current != Menu.main.state:
        welcome = _("Welcome back! Let's continue where you stopped.")
        # Someone whose screening reply never reached them (a lost connection) still learns their number.
        case = await open_case_of(conv.session, beneficiary_id=conv.beneficiary.id)
        if case is not None:
            welcome = _("Your case number is {code}.").format(code=case.code) + "\n" + welcome
        conv.say(welcome)
    await conv.ask_current()


def create_router() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart())
    return router
