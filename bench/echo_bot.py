"""The baseline of P1: a bare aiogram echo bot, long-polling like the real one, no database.

Run as `python -m bench.echo_bot` with TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL set.
"""

from __future__ import annotations

import asyncio
import os
import signal

from aiogram import Dispatcher
from aiogram.types import Message

from bot.factory import create_bot


async def main() -> None:
    bot = create_bot(os.environ["TELEGRAM_BOT_TOKEN"], os.environ["TELEGRAM_API_URL"])
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?", parse_mode=None)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await bot.delete_webhook()
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
    await stop.wait()
    await dispatcher.stop_polling()
    await polling


if __name__ == "__main__":
    asyncio.run(main())
