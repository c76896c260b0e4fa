"""Speed change on aiogram's supported path: the bot's plain-callable filters checked in the event loop.

- **Written against** aiogram 3.31.0, through its public `aiogram.filters.Filter` (a filter whose
  `__call__` is a coroutine is awaited in the loop) and `FilterObject`, as `Router` builds them.
- **What it changes**: aiogram runs a filter that is not a coroutine function (a `State`,
  `F.text == label`, `F.message`) in a worker thread (`asyncio.to_thread`), one thread hop per check,
  and an update is checked against many (every menu label, every step's state) before its handler.
  `keep_in_loop` gives each such filter of a dispatcher's handlers an async `Filter` wrapper, built
  once when the dispatcher is assembled; the checks themselves are quick and pure.
- **Gain measured**: about a tenth of the bot's CPU time in the profile;
  `make bench BENCH_ARGS="--only speedups"` measures an update dispatched through every router.
- **Test**: tests/speedups/test_filters.py (no handler or filter of the bot goes to a thread).
- **To remove**: delete this module and its call in `intake.speedups.tune_dispatcher` (which the
  composition root calls on each dispatcher it builds); or, instead, write the bot's filters as
  `Filter` classes where they are registered.
"""

from __future__ import annotations

import inspect
from typing import Any

from aiogram import Dispatcher
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.filters import Filter


class InLoop(Filter):
    """A plain-callable filter, called in the event loop with the arguments it declares."""

    def __init__(self, check: FilterObject) -> None:
        self.check = check.callback  # a magic filter already resolved by FilterObject
        parameters = inspect.signature(self.check).parameters.values()
        self.everything = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
        self.names = {
            p.name
            for p in parameters
            if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        }

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.everything:
            kwargs = {name: value for name, value in kwargs.items() if name in self.names}
        return self.check(*args, **kwargs)

    def __str__(self) -> str:
        return f"InLoop({self.check!r})"


def keep_in_loop(dispatcher: Dispatcher) -> int:
    """Wrap every filter of the dispatcher's handlers that aiogram would run in a thread; how many."""
    wrapped = 0
    for router in dispatcher.chain_tail:
        for observer in router.observers.values():
            for handler in observer.handlers:
                filters = handler.filters or []
                for index, condition in enumerate(filters):
                    if not condition.awaitable:
                        filters[index] = FilterObject(InLoop(condition))
                        wrapped += 1
    return wrapped
