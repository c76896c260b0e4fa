"""Languages of the bot and the locale each beneficiary chose."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
DEFAULT_LOCALE = "en"

# Each language named in its own script, in the order of the language keyboard.
LANGUAGES: dict[str, str] = {
    "az": "Azərbaycanca",
    "ru": "Русский",
    "en": "English",
    "fa": "فارسی / دری",
    "ps": "پښتو",
    "ur": "اردو",
    "tr": "Türkçe",
}
RIGHT_TO_LEFT = frozenset({"fa", "ps", "ur"})


def create_i18n() -> I18n:
    return I18n(path=LOCALES_DIR, default_locale=DEFAULT_LOCALE, domain=DOMAIN)


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
