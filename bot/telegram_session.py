"""aiogram's HTTP session, with a lighter body for the requests that carry no file, and a lean call.

aiogram builds every request as aiohttp `FormData`, which makes a multipart writer — with a random
boundary drawn from the operating system — even when it then sends the fields urlencoded. Almost
every call the bot makes has no file: those go out as the same urlencoded body, built directly. A
request with a file goes through aiogram's own path. (The outbox sender posts its stored messages
itself: outreach.posting.)

aiogram parametrises `Response[T]` for every answer it reads; pydantic 2.13 caches parametrised
generics only weakly, so each call rebuilt the class (about a tenth of the bot's CPU time in the
profile). The session keeps each method's `Response[T]` from its first call on: built for the
methods a process uses, not for all of Telegram's.

`call` goes further for the replies the bot sends after an update: no request model is built and
the answer is not turned into aiogram's objects (a `Message` with its chat and sender), which
nothing reads; errors are aiogram's own exceptions, made by aiogram from the answer, as before.
That is about a third of a call's cost in the bot process.
"""

from __future__ import annotations

import functools
import json
from enum import Enum
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from aiogram import methods
from aiogram.client.default import Default
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import (
    ForceReply,
    InlineKeyboardMarkup,
    InputFile,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiohttp import ClientError

if TYPE_CHECKING:
    from aiogram import Bot

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
KEYBOARDS = (InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove, ForceReply)

# Strong references to the Response[T] classes made so far, by T (see above).
_RESPONSE_MODELS: dict[Any, type] = {}


class TelegramSession(AiohttpSession):
    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        returning = method.__returning__
        if returning not in _RESPONSE_MODELS:
            _RESPONSE_MODELS[returning] = Response[returning]  # type: ignore[valid-type]
        files: dict[str, InputFile] = {}
        fields = self._fields(bot, method.model_dump(warnings=False), files)
        if files:
            return await super().make_request(bot, method, timeout)
        status, raw_result = await self._post(bot, method.__api_method__, fields, timeout, lambda: method)
        response = self.check_response(bot=bot, method=method, status_code=status, content=raw_result)
        return cast(TelegramType, response.result)

    async def call(
        self, bot: Bot, api_method: str, fields: dict[str, Any], request_timeout: float | None = None
    ) -> Any:
        """`api_method` (Telegram's name, e.g. "sendMessage") with `fields` as Telegram names them;
        values may be aiogram's objects (a keyboard) or defaults (`Default("parse_mode")`). Returns
        the answer's raw `result`; raises what `bot(...)` would. Not for files."""
        files: dict[str, InputFile] = {}
        prepared = self._fields(bot, _defaults(api_method) | fields, files)
        if files:
            raise ValueError("a call with a file goes through aiogram's methods")
        status, raw_result = await self._post(
            bot, api_method, prepared, request_timeout, lambda: _method_for_errors(api_method)
        )
        if status == 200:
            answer = json.loads(raw_result)
            if answer.get("ok"):
                return answer.get("result")
        # Not a success: aiogram reads the answer and raises its exception for it.
        self.check_response(
            bot=bot, method=_method_for_errors(api_method), status_code=status, content=raw_result
        )
        raise AssertionError("check_response raises for an answer that is not a success")

    def _fields(self, bot: Bot, values: dict[str, Any], files: dict[str, InputFile]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for key, value in values.items():
            if isinstance(value, KEYBOARDS):
                # pydantic writes the JSON itself: a keyboard holds no defaults and no files.
                fields[key] = value.model_dump_json(exclude_none=True)
                continue
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:  # as aiogram does: an empty or false value is left out
                # An enum (a parse mode from the bot's defaults) by its value, as FormData sends it.
                fields[key] = prepared.value if isinstance(prepared, Enum) else prepared
        return fields

    async def _post(
        self,
        bot: Bot,
        api_method: str,
        fields: dict[str, Any],
        request_timeout: float | None,
        method_for_errors: Any,
    ) -> tuple[int, str]:
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=api_method)
        try:
            async with session.post(
                url,
                data=urlencode(fields).encode(),
                headers=FORM,
                timeout=self.timeout if request_timeout is None else request_timeout,
            ) as answer:
                return answer.status, await answer.text()
        except TimeoutError as error:
            raise TelegramNetworkError(method=method_for_errors(), message="Request timeout error") from error
        except ClientError as error:
            raise TelegramNetworkError(
                method=method_for_errors(), message=f"{type(error).__name__}: {error}"
            ) from error


def _method_class(api_method: str) -> type[TelegramMethod[Any]]:
    return cast(type[TelegramMethod[Any]], getattr(methods, api_method[:1].upper() + api_method[1:]))


def _method_for_errors(api_method: str) -> TelegramMethod[Any]:
    """The aiogram method an exception names (an empty one: exceptions only name it)."""
    return _method_class(api_method).model_construct()


@functools.cache
def _defaults(api_method: str) -> dict[str, Default]:
    """The fields aiogram fills from the bot's defaults (parse mode, link previews, protection)."""
    fields = _method_class(api_method).model_fields
    return {name: field.default for name, field in fields.items() if isinstance(field.default, Default)}
