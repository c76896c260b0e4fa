"""`python -m intake.sender_process [--lease S]`: the worker's sender alone, for tests and benchmarks
that kill it; settings from the environment as for `intake worker`."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt

from intake import runtime as rt
from intake.logs import configure_logging
from intake.settings import load_settings


async def main(lease: float) -> None:
    settings = load_settings()
    stop = asyncio.Event()
    rt.stop_on_signals(stop)
    async with rt.open_runtime(settings) as runtime, rt.telegram_bot(runtime, settings.token()) as bot:
        await rt.run_sender(runtime, bot, stop, lease=dt.timedelta(seconds=lease))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lease", type=float, default=60.0, help="seconds a claim is held (60)")
    configure_logging()
    asyncio.run(main(parser.parse_args().lease))
