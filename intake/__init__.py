"""Composition root: settings, the `intake` command line and the wiring of the processes."""

import bot.aiogram_models  # noqa: F401 - before anything imports aiogram
