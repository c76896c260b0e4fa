"""Replies collected while an update is handled and sent once its transaction has committed.

Sending after the commit keeps SQLite's write lock short (no network round trip inside it) and
never tells a person something was saved when it was not. The answer to a tap, the edits of earlier
messages and the new messages go side by side, each kind in its own order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.telegram_session import TelegramSession

log = logging.getLogger(__name__)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None
Action = Callable[[Bot], Awaitable[Any]]


class Outgoing:
    def __init__(self) -> None:
        self._actions: list[tuple[str, Action]] = []

    def __len__(self) -> int:
        return len(self._actions)

    def send(self, chat_id: int, text: str, reply_markup: Markup = None) -> None:
        self._call("sendMessage", chat_id=chat_id, text=text, reply_markup=reply_markup)

    def send_document(self, chat_id: int, document: BufferedInputFile, caption: str | None = None) -> None:
        self._actions.append(
            ("sendDocument", lambda bot: bot.send_document(chat_id, document, caption=caption))
        )

    def send_venue(
        self, chat_id: int, *, latitude: float, longitude: float, title: str, address: str
    ) -> None:
        self._call(
            "sendVenue", chat_id=chat_id, latitude=latitude, longitude=longitude, title=title, address=address
        )

    def edit(
        self, chat_id: int, message_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None
    ) -> None:
        self._call(
            "editMessageText", chat_id=chat_id, message_id=message_id, text=text, reply_markup=reply_markup
        )

    def edit_markup(self, chat_id: int, message_id: int, reply_markup: InlineKeyboardMarkup | None) -> None:
        self._call(
            "editMessageReplyMarkup", chat_id=chat_id, message_id=message_id, reply_markup=reply_markup
        )

    def answer_callback(
        self, callback_query_id: str, text: str | None = None, show_alert: bool = False
    ) -> None:
        self._call(
            "answerCallbackQuery", callback_query_id=callback_query_id, text=text, show_alert=show_alert
        )

    def _call(self, api_method: str, **fields: Any) -> None:
        """A call without aiogram's request and answer models (see bot.telegram_session)."""
        self._actions.append((api_method, lambda bot: _session(bot).call(bot, api_method, fields)))

    async def flush(self, bot: Bot) -> None:
        """Answers to taps go at once; edits in their order and new messages in theirs, the two
        side by side: the person hears back in about one round trip instead of one per call."""
        actions, self._actions = self._actions, []
        answers = [action for action in actions if action[0] == ANSWER]
        edits = [action for action in actions if action[0] in EDITS]
        messages = [action for action in actions if action[0] != ANSWER and action[0] not in EDITS]
        await asyncio.gather(
            *(_perform(bot, [answer]) for answer in answers), _perform(bot, edits), _perform(bot, messages)
        )


def _session(bot: Bot) -> TelegramSession:
    assert isinstance(bot.session, TelegramSession), "bots are made by bot.factory.create_bot"
    return bot.session


ANSWER = "answerCallbackQuery"
EDITS = frozenset({"editMessageText", "editMessageReplyMarkup"})


async def _perform(bot: Bot, actions: list[tuple[str, Action]]) -> None:
    for method, action in actions:
        try:
            await action(bot)
        except TelegramBadRequest as error:
            # An edit of a message already changed, or a callback answered late: harmless.
            log.info("%s refused by the Bot API (%s)", method, type(error).__name__)
        except TelegramAPIError as error:
            log.warning("%s failed: %s", method, type(error).__name__)
