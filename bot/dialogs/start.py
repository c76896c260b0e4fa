"""/start (with an outreach deep link), /help, and what is said to someone with no dialog yet."""

from __future__ import annotations

import re

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.conversation import Conversation, Journey

DEEP_LINK = re.compile(r"[A-Za-z0-9_-]{1,64}")


async def start(message: Message, command: CommandObject, conv: Conversation) -> None:
    payload = command.args or ""
    if conv.beneficiary.source is None and DEEP_LINK.fullmatch(payload):
        conv.beneficiary.source = payload
    if conv.beneficiary.opted_out:
        conv.beneficiary.opted_out = False
        conv.say(_("Welcome back! You will get our news again."))
    current = await conv.state.get_state()
    if current is None:
        await conv.go(Journey.language)
        return
    if current != Journey.done.state:
        conv.say(_("Welcome back! Let's continue where you stopped."))
    await conv.ask_current()


def create_router() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart())
    return router
