"""Application logging with bot tokens redacted from every line, whoever wrote it."""

from __future__ import annotations

import logging
import re

# Tokens appear in Bot API URLs (`/bot<id>:<secret>/method`), which HTTP libraries log.
TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{30,}")


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = TOKEN.sub("<token>", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Per-update INFO lines from aiogram are noise on a small server; warnings still show.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
