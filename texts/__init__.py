"""Texts that the bot, the console, the sender and the sandbox share, below all of them: Telegram's
HTML formatting subset (telegram_html), which a message must keep to or the Bot API refuses it."""
