"""The bot's plain-callable filters are checked in the event loop (intake.speedups.filters): aiogram
sends a plain callable to a worker thread, a thread hop per check of every update."""

from __future__ import annotations

from typing import Any

from aiogram import Dispatcher, F
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.fsm.state import State, StatesGroup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_dispatcher
from intake.speedups.filters import InLoop, keep_in_loop
from storage.crypto import Crypto


def filters_of(dispatcher: Dispatcher) -> list[tuple[str, Any, FilterObject]]:
    found = []
    for router in dispatcher.chain_tail:
        for event, observer in router.observers.items():
            for handler in observer.handlers:
                for condition in handler.filters or ():
                    found.append((f"{router.name}.{event}: {handler.callback}", handler, condition))
    return found


def test_no_handler_or_filter_of_the_bot_is_run_in_a_thread(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    dispatcher = create_dispatcher(sessionmaker=sessionmaker, crypto=crypto)
    # Stock aiogram would send some to a thread: the wrapper has work to do.
    assert any(not condition.awaitable for _, _, condition in filters_of(dispatcher))

    assert keep_in_loop(dispatcher) > 40

    checked = 0
    for where, handler, condition in filters_of(dispatcher):
        assert handler.awaitable, f"{where} is not a coroutine function"
        assert condition.awaitable, f"{where} has a filter run in a thread: {condition.callback}"
        checked += 1
    assert checked > 40  # the routers' filters were all seen


class Steps(StatesGroup):
    asked = State()


async def test_a_wrapped_filter_answers_as_aiogram_would_call_it() -> None:
    state = InLoop(FilterObject(Steps.asked))
    # aiogram passes every piece of context data; a State reads only `raw_state`.
    assert await state(object(), raw_state=Steps.asked.state, bot=None, event_chat=None) is True
    assert await state(object(), raw_state=None, bot=None) is False

    label = InLoop(FilterObject(F.text == "Help"))

    class Message:
        text = "Help"

    assert await label(Message(), raw_state=None) is True
    Message.text = "Other"
    assert not await label(Message(), raw_state=None)
