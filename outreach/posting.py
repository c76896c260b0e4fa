"""A stored outbox message posted straight to the Bot API, and Telegram's answer read as aiogram reads it.

The sender's messages are already valid requests (their payloads were built by the code that queued
them), and of the answer it keeps only the message id: aiogram's request and reply models (a
pydantic model built, validated and dumped per call, the whole `Message` parsed per answer) cost more
CPU than the HTTP request itself. The request goes to the same URL on the bot's own aiohttp session,
with the bot's defaults; the answer maps to the same kinds as aiogram's exceptions
(`aiogram.client.session.base.BaseSession.check_response`), which `outreach.sender` turns into outcomes.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from enum import Enum
from http import HTTPStatus
from typing import Any

from aiogram import Bot
from aiohttp import (
    ClientConnectionResetError,
    ClientConnectorError,
    ClientError,
    ClientSession,
    ClientTimeout,
)

JSON = {"Content-Type": "application/json"}
# The request never reached Telegram: sending it again cannot make a second copy.
NOT_CONNECTED = (ClientConnectorError, ClientConnectionResetError, ConnectionRefusedError)


class Answer(enum.Enum):
    SENT = "sent"
    RETRY_AFTER = "429"  # slow down for `retry_after` seconds
    FORBIDDEN = "403"  # the person blocked the bot
    BAD_REQUEST = "400"  # refused as it is: sending it again would be refused again
    SERVER_ERROR = "5xx"
    NOT_CONNECTED = "not connected"  # could not connect: nothing was sent
    NO_ANSWER = "no answer"  # the request may have reached Telegram, the answer did not come back
    UNEXPECTED = "unexpected"  # anything else (401, 404, a body that is not Telegram's, ...)


@dataclass(frozen=True, slots=True)
class Reply:
    answer: Answer
    message_id: int | None = None
    retry_after: int = 0
    # Telegram's description of an error; for UNEXPECTED, only what kind of answer it was.
    description: str = ""


def defaults_of(bot: Bot) -> dict[str, Any]:
    """The fields aiogram adds to every sendMessage from the bot's defaults (`create_bot` sets the
    parse mode), as they go in a JSON body."""
    default = bot.default
    fields: dict[str, Any] = {"parse_mode": default.parse_mode, "protect_content": default.protect_content}
    if default.link_preview is not None:
        fields["link_preview_options"] = default.link_preview.model_dump(exclude_none=True)
    return {
        key: value.value if isinstance(value, Enum) else value
        for key, value in fields.items()
        if value is not None
    }


class Poster:
    """Posts `method` calls of one bot on its aiohttp session; one per sender."""

    def __init__(self, bot: Bot, *, timeout: float) -> None:
        self._bot = bot
        self._defaults = defaults_of(bot)
        self._timeout = ClientTimeout(total=timeout)
        self._urls: dict[str, str] = {}

    def _url(self, method: str) -> str:
        url = self._urls.get(method)
        if url is None:
            url = self._urls[method] = self._bot.session.api.api_url(token=self._bot.token, method=method)
        return url

    async def post(self, method: str, chat_id: int, payload: dict[str, Any], **extra: Any) -> Reply:
        body = json.dumps({"chat_id": chat_id, **self._defaults, **payload, **extra}, ensure_ascii=False)
        session: ClientSession = await self._bot.session.create_session()
        try:
            async with session.post(
                self._url(method), data=body.encode(), headers=JSON, timeout=self._timeout
            ) as response:
                status, content = response.status, await response.read()
        except NOT_CONNECTED:
            return Reply(Answer.NOT_CONNECTED)
        except (TimeoutError, ClientError):
            # A timeout, a connection lost mid-way, a body cut short: it may have been delivered.
            return Reply(Answer.NO_ANSWER)
        return read_answer(status, content, method_returns_true=method != "sendMessage")


def read_answer(status: int, content: bytes, *, method_returns_true: bool = False) -> Reply:
    """Telegram's answer as aiogram classifies it: by the HTTP status, `retry_after` first."""
    try:
        data = json.loads(content)
        ok, description = data["ok"], data.get("description")
    except (ValueError, TypeError, KeyError):
        return Reply(Answer.UNEXPECTED, description=f"answer {status} that is not Telegram's")
    if HTTPStatus.OK <= status <= HTTPStatus.IM_USED and ok is True:
        result = data.get("result")
        if result is True and method_returns_true:
            return Reply(Answer.SENT)  # deleteMessages and the like answer only "done"
        message_id = result.get("message_id") if isinstance(result, dict) else None
        if not isinstance(message_id, int):
            return Reply(Answer.UNEXPECTED, description="a result without a message id")
        return Reply(Answer.SENT, message_id=message_id)
    description = description if isinstance(description, str) else ""
    parameters = data.get("parameters")
    parameters = parameters if isinstance(parameters, dict) else {}
    retry_after = parameters.get("retry_after")
    if isinstance(retry_after, int) and retry_after:
        return Reply(Answer.RETRY_AFTER, retry_after=retry_after, description=description)
    if parameters.get("migrate_to_chat_id"):
        return Reply(Answer.UNEXPECTED, description="migrate_to_chat_id")
    if status == HTTPStatus.BAD_REQUEST:
        return Reply(Answer.BAD_REQUEST, description=description)
    if status == HTTPStatus.FORBIDDEN:
        return Reply(Answer.FORBIDDEN, description=description)
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return Reply(Answer.SERVER_ERROR, description=description)
    return Reply(Answer.UNEXPECTED, description=f"answer {status}")
