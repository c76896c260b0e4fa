"""The update middleware: one transaction per update, redeliveries skipped, the beneficiary loaded."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.types import Chat, TelegramObject, Update, User
from aiogram.utils.i18n import I18n
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import staff_link
from bot.conversation import BotConfig, Conversation
from bot.flood import FloodGuard, Verdict
from bot.fsm_storage import open_chat, save_dialog, update_session
from bot.i18n import telegram_locale
from bot.outgoing import Outgoing
from programme.text import N_
from storage.crypto import Crypto
from storage.engine import clear_erased
from storage.inbound import forget_handled
from storage.journey import ERASED
from storage.models import utcnow
from storage.queries import mark_update_processed
from wording.languages import LANGUAGES

log = logging.getLogger(__name__)

PLEASE_WAIT = N_(
    "You are sending messages very fast, so we are pausing for a moment. Please wait a few "
    "seconds, then send your message again. Nothing you sent before is lost."
)
# "Last active" serves segments and figures by day: a minute's precision spares a write per update.
ACTIVITY_RESOLUTION = dt.timedelta(minutes=1)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateMiddleware(BaseMiddleware):
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        crypto: Crypto,
        i18n: I18n,
        config: BotConfig,
        *,
        fsm: FSMContextMiddleware,
    ) -> None:
        self._fsm = fsm
        self._flood = FloodGuard(config.flood)
        self._sessionmaker = sessionmaker
        self._crypto = crypto
        self._i18n = i18n
        self._config = config

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if user is None or chat is None or chat.type != "private" or user.is_bot:
            return UNHANDLED  # groups, channels and service updates are not conversations
        bot: Bot = data["bot"]
        verdict = self._flood.check(user.id)
        if verdict is not Verdict.HANDLE:
            if verdict is Verdict.WARN:
                log.info(
                    "update %s: a chat is sending too fast; its updates are dropped for now", event.update_id
                )
                await self._please_wait(bot, chat.id, user)
            return UNHANDLED
        for attempt in (1, 2):
            outgoing = Outgoing()
            try:
                result, erased = await self._apply(handler, event, data, outgoing, user, chat, bot)
                break
            except DBAPIError as error:
                # The connection was lost before the update committed (a database restart, a proxy's
                # idle timeout): nothing of it was kept or sent, so it is applied again, once, on a
                # new connection. This is what stands in for pinging every connection before use.
                if not error.connection_invalidated or attempt == 2:
                    raise
                log.warning("update %s: the database connection was lost; applying it again", event.update_id)
        if erased:
            await clear_erased(self._sessionmaker.kw["bind"])
        # As the update left it: the update may have been the person choosing their language.
        beneficiary = data.get("beneficiary")
        if beneficiary is not None:  # a redelivery or a staff member's /link leaves it as it was
            self._flood.remember_language(user.id, beneficiary.language)
        await outgoing.flush(bot)
        return result

    async def _please_wait(self, bot: Bot, chat_id: int, user: User) -> None:
        chosen = self._flood.language(user.id)
        locale = chosen if chosen in LANGUAGES else telegram_locale(user)
        outgoing = Outgoing()
        outgoing.send(chat_id, self._i18n.gettext(PLEASE_WAIT, locale=locale))
        await outgoing.flush(bot)

    async def _apply(
        self,
        handler: Handler,
        event: Update,
        data: dict[str, Any],
        outgoing: Outgoing,
        user: User,
        chat: Chat,
        bot: Bot,
    ) -> tuple[Any, bool]:
        """The update in one transaction; what the handler returned, and whether a person was erased."""
        async with self._sessionmaker() as session, session.begin():
            token = update_session.set(session)
            try:
                # One chat's updates are applied one at a time across replicas (the user's id as the lock).
                marked = await mark_update_processed(
                    session, bot_id=bot.id, update_id=event.update_id, chat_key=user.id
                )
                await forget_handled(session)  # webhook mode: its queue row goes with it
                if not marked:
                    log.info("update %s was already handled; skipped", event.update_id)
                    return UNHANDLED, False
                code = staff_link.requested_code(event)
                if code is not None:
                    # A staff member linking their chat: no beneficiary is made for it.
                    await staff_link.answer(
                        session,
                        self._crypto,
                        self._i18n,
                        outgoing,
                        update=event,
                        user=user,
                        chat_id=chat.id,
                        raw_code=code,
                    )
                    result = None
                else:
                    result = await self._journey(handler, event, data, session, outgoing, user, chat, bot)
                    await save_dialog(session, self._crypto)
            finally:
                update_session.reset(token)
        return result, bool(session.info.get(ERASED))

    async def _journey(
        self,
        handler: Handler,
        event: Update,
        data: dict[str, Any],
        session: AsyncSession,
        outgoing: Outgoing,
        user: User,
        chat: Chat,
        bot: Bot,
    ) -> Any:
        """The update handled for the beneficiary of this chat (made on their first update)."""
        beneficiary = await open_chat(session, self._crypto, telegram_id=user.id)
        now = utcnow()
        if now - beneficiary.last_active_at >= ACTIVITY_RESOLUTION:
            beneficiary.last_active_at = now
        # A plain value for the error handler, which runs after the rollback.
        data["beneficiary_language"] = beneficiary.language
        state = self._fsm.resolve_event_context(bot, data)
        assert state is not None  # a private chat with a user always has a context
        data.update(fsm_storage=self._fsm.storage, state=state, raw_state=await state.get_state())
        data.update(
            session=session,
            crypto=self._crypto,
            beneficiary=beneficiary,
            outgoing=outgoing,
            conv=Conversation(
                chat_id=chat.id,
                state=state,
                session=session,
                crypto=self._crypto,
                beneficiary=beneficiary,
                outgoing=outgoing,
                i18n=self._i18n,
                config=self._config,
            ),
        )
        return await handler(event, data)
