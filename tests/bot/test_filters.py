"""Every handler and filter of the bot runs in the event loop: aiogram sends a plain callable to a
worker thread, a thread hop per check of every update."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_dispatcher
from storage.crypto import Crypto


def test_no_handler_or_filter_of_the_bot_is_run_in_a_thread(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    dispatcher = create_dispatcher(sessionmaker=sessionmaker, crypto=crypto)
    checked = 0
    for router in dispatcher.chain_tail:
        for event, observer in router.observers.items():
            for handler in observer.handlers:
                where = f"{router.name}.{event}: {handler.callback}"
                assert handler.awaitable, f"{where} is not a coroutine function"
                for condition in handler.filters or ():
                    assert condition.awaitable, f"{where} has a filter run in a thread: {condition.callback}"
                    checked += 1
    assert checked > 40  # the routers' filters were all seen
