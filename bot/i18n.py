"""The locale each beneficiary chose, and what the bot's own messages do with it: an answer under
its question, buttons in reading order. The languages and the catalog are wording.languages'."""

from __future__ import annotations

from typing import Any, TypeVar

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18nMiddleware
from aiogram.utils.i18n import gettext as _

from wording.languages import DEFAULT_LOCALE, LANGUAGES, right_to_left


def telegram_locale(user: User | None) -> str:
    code = (user.language_code or "").split("-")[0].lower() if user else ""
    return code if code in LANGUAGES else DEFAULT_LOCALE


class BeneficiaryLocaleMiddleware(I18nMiddleware):
    """The language the beneficiary chose wins over the one their Telegram app reports."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        beneficiary = data.get("beneficiary")
        if beneficiary is not None and beneficiary.language in LANGUAGES:
            return str(beneficiary.language)
        return telegram_locale(data.get("event_from_user"))


def with_answer(question: str, answer: str) -> str:
    """A question as it stays in the chat once answered: the answer below it, after an arrow that
    points along the reader's line (mirrored for right-to-left readers, texts.bidi)."""
    return question + "\n\n" + _("➡️ {answer}").format(answer=answer)


Button = TypeVar("Button")


def in_reading_order(rows: list[list[Button]], locale: str | None = None) -> list[list[Button]]:
    """Rows of buttons in the order their reader reads them. Telegram lays a row out left to right
    in every language, so a right-to-left reader gets each row reversed: "Back" (pointing right)
    on the right and "Skip" on the left, a week's first day on the right."""
    if right_to_left(locale):
        return [row[::-1] for row in rows]
    return rows
