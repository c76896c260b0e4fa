"""The aiogram bot: dispatcher factory, middlewares and one dialog module per conversation."""
