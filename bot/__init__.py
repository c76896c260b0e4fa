"""The aiogram bot: dispatcher factory, middlewares and one dialog module per conversation."""

import bot.aiogram_models  # noqa: F401 - before anything imports aiogram
