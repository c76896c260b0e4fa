"""Messages not sent in reply to an update: the outbox sender, campaigns and reminders."""

import bot.aiogram_models  # noqa: F401 - before anything imports aiogram
