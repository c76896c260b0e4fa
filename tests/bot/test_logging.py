"""No personal data and no token reaches a log line while a person is screened."""

from __future__ import annotations

import io
import logging

import pytest

from intake.logs import RedactTokens, configure_logging
from sandbox.client import SandboxClient
from tests.bot.conftest import TOKEN
from tests.bot.test_screening import Translate, answer_screening, choose_language

pytestmark = pytest.mark.slow


async def test_a_screening_logs_neither_the_name_nor_the_telegram_id(
    phone: SandboxClient, t: Translate, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "English")
    await answer_screening(phone, t, user, "en", "Samira Loggedname")
    await phone.wait_for_bot_message(user, contains="IP-")
    # The sandbox plays Telegram's part; only our own loggers are the application log.
    ours = [r for r in caplog.records if not r.name.startswith(("sandbox", "aiohttp.access"))]
    assert ours, "expected the application to log something"
    text = "\n".join(record.getMessage() for record in ours)
    assert "Loggedname" not in text
    assert str(user) not in text
    assert TOKEN.split(":")[1] not in text


def test_tokens_are_redacted_from_every_line_whoever_logs_it() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactTokens())
    logger = logging.getLogger("aiohttp.client.test")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("POST %s failed", f"https://api.telegram.org/bot{TOKEN}/sendMessage")
    finally:
        logger.removeHandler(handler)
    assert TOKEN not in stream.getvalue()
    assert "/bot<token>/sendMessage" in stream.getvalue()


def test_configured_logging_redacts_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging()
        logging.getLogger("anything").warning("token %s", TOKEN)
        assert TOKEN not in capsys.readouterr().err
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
