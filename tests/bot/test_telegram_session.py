"""The lean Bot API call (`TelegramSession.call`) against the sandbox: what aiogram would send, and
aiogram's own exceptions for Telegram's errors."""

from __future__ import annotations

import json
import typing
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import Default
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import Response
from aiogram.types import (
    BufferedInputFile,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    User,
)
from pydantic import BaseModel

from bot.factory import create_bot
from bot.outgoing import Outgoing
from bot.telegram_session import _RESPONSE_MODELS, KEYBOARDS, TelegramSession
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from tests.bot.conftest import BOT_ID, TOKEN

KEYBOARD = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Да", callback_data="t:x:yes")]])


@pytest.fixture
async def phone(sandbox: SandboxServer) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(sandbox.url, BOT_ID) as client:
        yield client


@pytest.fixture
async def bot(sandbox: SandboxServer) -> AsyncIterator[Bot]:
    made = create_bot(TOKEN, sandbox.url)
    yield made
    await made.session.close()


def session(bot: Bot) -> TelegramSession:
    assert isinstance(bot.session, TelegramSession)
    return bot.session


async def test_a_message_goes_as_aiogram_sends_it_with_the_bots_parse_mode(
    bot: Bot, phone: SandboxClient
) -> None:
    user = await phone.create_user()
    result = await session(bot).call(
        bot, "sendMessage", {"chat_id": user, "text": "<b>Привет</b> & welcome", "reply_markup": KEYBOARD}
    )
    assert isinstance(result, dict) and result["message_id"] > 0
    (lean,) = await phone.bot_messages(user)
    await bot.send_message(user, "<b>Привет</b> & welcome", reply_markup=KEYBOARD)
    _, by_aiogram = await phone.bot_messages(user)
    for key in ("text", "entities", "reply_markup"):
        assert lean.get(key) == by_aiogram.get(key)
    assert lean["text"] == "Привет & welcome"  # HTML parsed: the bot's default parse mode was sent


async def test_telegrams_errors_are_aiograms_exceptions(bot: Bot, phone: SandboxClient) -> None:
    user = await phone.create_user()
    lean = session(bot)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await lean.call(bot, "editMessageText", {"chat_id": user, "message_id": 999_999, "text": "x"})
    await phone.inject_fault("429", retry_after=3)
    with pytest.raises(TelegramRetryAfter) as throttled:
        await lean.call(bot, "sendMessage", {"chat_id": user, "text": "x"})
    assert throttled.value.retry_after == 3
    await phone.inject_fault("500")
    with pytest.raises(TelegramServerError):
        await lean.call(bot, "sendMessage", {"chat_id": user, "text": "x"})
    await phone.block(user)
    with pytest.raises(TelegramForbiddenError):
        await lean.call(bot, "sendMessage", {"chat_id": user, "text": "x"})
    await phone.inject_fault("timeout", delay=2)
    with pytest.raises(TelegramNetworkError):
        await lean.call(bot, "sendMessage", {"chat_id": user, "text": "x"}, request_timeout=0.5)


async def test_a_file_is_refused(bot: Bot) -> None:
    with pytest.raises(ValueError, match="file"):
        await session(bot).call(bot, "sendDocument", {"chat_id": 1, "document": BufferedInputFile(b"x", "x")})


async def test_a_refused_edit_does_not_stop_the_replies_after_it(bot: Bot, phone: SandboxClient) -> None:
    user = await phone.create_user()
    outgoing = Outgoing()
    outgoing.edit(user, 999_999, "gone")
    outgoing.send(user, "next question", KEYBOARD)
    await outgoing.flush(bot)
    (message,) = await phone.bot_messages(user)
    assert message["text"] == "next question"
    assert message["reply_markup"]["inline_keyboard"][0][0]["text"] == "Да"


def test_keyboards_are_written_as_aiogram_writes_them(bot: Bot) -> None:
    markups = [
        InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text="✅ Да", callback_data="t:x:yes")],
                [InlineKeyboardButton(text="Open", url="https://example.org/a?b=1")],
            ]
        ),
        ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="📞 Share", request_contact=True)]], resize_keyboard=True
        ),
        ReplyKeyboardRemove(),
        ForceReply(input_field_placeholder="نام"),
    ]
    for markup in markups:
        fast = session(bot)._fields(bot, {"reply_markup": markup}, {})["reply_markup"]
        assert json.loads(fast) == json.loads(session(bot).prepare_value(markup, bot=bot, files={}))


def test_no_keyboard_type_holds_a_bot_default_or_a_file() -> None:
    """What lets a keyboard skip aiogram's preparation: nothing in it is filled from the bot's
    defaults or uploaded."""
    seen: set[type] = set()

    def walk(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation in seen:
                return
            seen.add(annotation)
            assert not issubclass(annotation, InputFile)
            for field in annotation.model_fields.values():
                assert not isinstance(field.default, Default), (annotation, field)
                walk(field.annotation)
        for argument in typing.get_args(annotation):
            walk(argument)

    for keyboard_type in KEYBOARDS:
        walk(keyboard_type)
    assert InlineKeyboardButton in seen and KeyboardButton in seen


async def test_a_response_class_is_made_once_per_method(sandbox: SandboxServer) -> None:
    bot = create_bot(TOKEN, sandbox.url)
    try:
        first = await bot.get_me()
        again = await bot.get_me()
    finally:
        await bot.session.close()

    assert first.id == again.id
    assert _RESPONSE_MODELS[User] is Response[User]
