"""aiogram's HTTP session, with a lighter body for the requests that carry no file.

aiogram builds every request as aiohttp `FormData`, which makes a multipart writer — with a random
boundary drawn from the operating system — even when it then sends the fields urlencoded. Almost
every call the bot and the sender make has no file: those go out as the same urlencoded body, built
directly. A request with a file goes through aiogram's own path.

aiogram parametrises `Response[T]` for every answer it reads; pydantic 2.13 caches parametrised
generics only weakly, so each call rebuilt the class (about a tenth of the bot's CPU time in the
profile, and most of the outbox sender's). The session keeps each method's `Response[T]` from its
first call on: built for the methods a process uses, not for all of Telegram's.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import InputFile
from aiohttp import ClientError

if TYPE_CHECKING:
    from aiogram import Bot

FORM = {"Content-Type": "application/x-www-form-urlencoded"}

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
        fields: dict[str, Any] = {}
        files: dict[str, InputFile] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:  # as aiogram does: an empty or false value is left out
                # An enum (a parse mode from the bot's defaults) by its value, as FormData sends it.
                fields[key] = prepared.value if isinstance(prepared, Enum) else prepared
        if files:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=urlencode(fields).encode(),
                headers=FORM,
                timeout=self.timeout if timeout is None else timeout,
            ) as answer:
                raw_result = await answer.text()
        except TimeoutError as error:
            raise TelegramNetworkError(method=method, message="Request timeout error") from error
        except ClientError as error:
            raise TelegramNetworkError(method=method, message=f"{type(error).__name__}: {error}") from error
        response = self.check_response(bot=bot, method=method, status_code=answer.status, content=raw_result)
        return cast(TelegramType, response.result)
