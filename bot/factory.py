"""Builds the Bot and the Dispatcher: middlewares, routers in order, commands per language."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, Chat, ErrorEvent
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import BotConfig
from bot.dialogs import DIALOGS, menu, urgent
from bot.fsm_storage import SqlStorage
from bot.i18n import BeneficiaryLocaleMiddleware, telegram_locale
from bot.middlewares import UpdateMiddleware
from bot.telegram_session import TelegramSession
from storage.crypto import Crypto
from wording.languages import LANGUAGES, create_i18n

log = logging.getLogger(__name__)


def create_bot(token: str, api_url: str) -> Bot:
    session = TelegramSession(api=TelegramAPIServer.from_base(api_url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def create_dispatcher(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    i18n: I18n | None = None,
    config: BotConfig | None = None,
) -> Dispatcher:
    i18n = i18n or create_i18n()
    # aiogram's FSM middleware would read the dialog state before the update's transaction exists
    # (a second transaction and beneficiary lookup per update): the update middleware resolves the
    # state itself, inside its transaction, which also serialises one person's updates.
    dispatcher = Dispatcher(storage=SqlStorage(sessionmaker, crypto), disable_fsm=True)
    dispatcher.update.outer_middleware(
        UpdateMiddleware(sessionmaker, crypto, i18n, config or BotConfig(), fsm=dispatcher.fsm)
    )
    BeneficiaryLocaleMiddleware(i18n).setup(dispatcher)
    # In DIALOGS' order: commands work from any step; the fallback takes what no step expected.
    dispatcher.include_routers(*(dialog.create_router() for dialog in DIALOGS))
    dispatcher.message.middleware(urgent.CrisisWords())

    async def on_error(event: ErrorEvent, bot: Bot, event_chat: Chat | None = None, **data: Any) -> None:
        # Only the kind of failure: an exception's text may hold what a person typed.
        origin = event.exception.__traceback__
        while origin is not None and origin.tb_next is not None:
            origin = origin.tb_next
        where = f"{origin.tb_frame.f_code.co_filename}:{origin.tb_lineno}" if origin else "?"
        log.error("update %s failed: %s at %s", event.update.update_id, type(event.exception).__name__, where)
        if event_chat is None or event_chat.type != "private":
            return
        locale = data.get("beneficiary_language") or telegram_locale(data.get("event_from_user"))
        with contextlib.suppress(TelegramAPIError):
            await bot.send_message(
                event_chat.id, i18n.gettext("Sorry, something went wrong. Please try again.", locale=locale)
            )

    dispatcher.errors.register(on_error)
    return dispatcher


def commands(i18n: I18n, locale: str) -> list[BotCommand]:
    with i18n.use_locale(locale):
        # The menu's own labels describe the commands that do the same, in the same words.
        return [
            BotCommand(command="start", description=i18n.gettext("Start or continue")),
            BotCommand(command="urgent", description=i18n.gettext(menu.URGENT)),
            BotCommand(command="appointments", description=i18n.gettext(menu.APPOINTMENTS)),
            BotCommand(command="caseworker", description=i18n.gettext(menu.CASEWORKER)),
            BotCommand(command="mydata", description=i18n.gettext(menu.MY_DATA)),
            BotCommand(command="feedback", description=i18n.gettext(menu.FEEDBACK)),
            BotCommand(command="language", description=i18n.gettext("Change the language")),
            BotCommand(command="help", description=i18n.gettext("Help")),
        ]


async def set_commands(bot: Bot, i18n: I18n) -> None:
    await bot.set_my_commands(commands(i18n, "en"))
    for locale in LANGUAGES:
        await bot.set_my_commands(commands(i18n, locale), language_code=locale)
