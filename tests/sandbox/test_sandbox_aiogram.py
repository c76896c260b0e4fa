"""A real aiogram Bot works against the sandbox exactly as against Telegram."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from sandbox.client import SandboxClient
from sandbox.server import SandboxServer


@pytest.fixture
async def bot(sandbox_server: SandboxServer, bot_token: str) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(sandbox_server.url))
    bot = Bot(bot_token, session=session)
    yield bot
    await bot.session.close()


async def test_aiogram_conversation(bot: Bot, sandbox_client: SandboxClient, user_id: int) -> None:
    me = await bot.get_me()
    assert me.username == "intake_sandbox_bot"
    updates = await bot.get_updates()
    assert updates[0].message is not None and updates[0].message.text == "/start"

    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Azərbaycan", callback_data="lang:az")]]
    )
    sent = await bot.send_message(user_id, "<b>Choose</b> a language", reply_markup=markup, parse_mode="HTML")
    assert sent.text == "Choose a language"

    await sandbox_client.press(user_id, "Azərbaycan")
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=1)
    query = updates[0].callback_query
    assert query is not None and query.data == "lang:az"
    assert await bot.answer_callback_query(query.id, text="Seçildi")

    edited = await bot.edit_message_text("Dil: Azərbaycan", chat_id=user_id, message_id=sent.message_id)
    assert not isinstance(edited, bool) and edited.text == "Dil: Azərbaycan"

    document = await bot.send_document(
        user_id, BufferedInputFile(b"%PDF-1.4 plan", filename="plan.pdf"), caption="Plan"
    )
    assert document.document is not None and document.document.file_name == "plan.pdf"
    venue = await bot.send_venue(user_id, 40.37, 49.84, "Integration office", "Nizami 10, Baku")
    assert venue.venue is not None and venue.venue.title == "Integration office"

    transcript = await sandbox_client.transcript(user_id)
    kinds = [(m["from"], m["kind"]) for m in transcript["messages"]]
    assert kinds == [("user", "text"), ("bot", "text"), ("bot", "document"), ("bot", "venue")]
    assert transcript["messages"][1]["edited"] is True
    assert transcript["callback_answers"][0]["text"] == "Seçildi"


async def test_aiogram_sees_telegram_errors(bot: Bot, sandbox_client: SandboxClient, user_id: int) -> None:
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(user_id, "x" * 4097)

    await sandbox_client.inject_fault("429", method="sendMessage", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(user_id, "hi")
    assert retry.value.retry_after == 7

    await sandbox_client.block(user_id)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(user_id, "hi")
