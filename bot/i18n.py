"""Languages of the bot and the locale each beneficiary chose."""

from __future__ import annotations

import functools
import gettext
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from aiogram.utils.i18n import gettext as _
from babel.lists import format_list
from babel.support import Translations

from texts.bidi import directed, isolate, mark_lines

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


# The locale whose dates, times and numbers Babel formats for each language, where it is not the
# catalog's own: Persian speakers here are mostly from Afghanistan and write Dari (جنوری، مارچ),
# not Iranian Persian (ژانویه، مارس); the catalog stays "fa".
FORMAT_LOCALES: dict[str, str] = {"fa": "fa_AF"}


def format_locale(locale: str) -> str:
    """The Babel locale that formats dates, times and numbers for a reader of `locale`."""
    return FORMAT_LOCALES.get(locale, locale)


class RightToLeft(gettext.GNUTranslations):
    """A catalog for right-to-left readers whose translations keep their left-to-right pieces whole
    (texts.bidi): the catalogs stay plain text, and every message gets this in one place."""

    def __init__(self, catalog: gettext.NullTranslations) -> None:
        super().__init__()
        self._plain = catalog

    def gettext(self, message: str) -> str:
        return directed(self._plain.gettext(message))

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return directed(self._plain.ngettext(msgid1, msgid2, n))


def for_reader(catalog: gettext.GNUTranslations, language: str) -> gettext.GNUTranslations:
    return RightToLeft(catalog) if language in RIGHT_TO_LEFT else catalog


def create_i18n() -> I18n:
    i18n = I18n(path=LOCALES_DIR, default_locale=DEFAULT_LOCALE, domain=DOMAIN)
    # Not a subclass of I18n: aiogram's gettext finds the one in use by that exact class.
    i18n.locales = {language: for_reader(catalog, language) for language, catalog in i18n.locales.items()}
    return i18n


@functools.cache
def bot_catalog(language: str) -> gettext.GNUTranslations:
    """The bot's words in one language outside a conversation (the console's consent text and PDF,
    the flyers), exactly as the bot shows them."""
    return for_reader(Translations.load(LOCALES_DIR, [language], DOMAIN), language)


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


def _reader(locale: str | None) -> str:
    if locale is None:
        current = I18n.get_current(no_error=True)  # None outside an update: no reader to ask
        locale = current.current_locale if current is not None else DEFAULT_LOCALE
    return locale


def _right_to_left(locale: str | None) -> bool:
    return _reader(locale) in RIGHT_TO_LEFT


def listed(items: Sequence[str], locale: str | None = None) -> str:
    """Items joined as the reader's language joins them (CLDR, through Babel): «a، b و c» in
    Persian, «a, b и c» in Russian, never a Latin comma inside right-to-left text."""
    return format_list(list(items), locale=format_locale(_reader(locale)))


def in_reading_order(rows: list[list[Button]], locale: str | None = None) -> list[list[Button]]:
    """Rows of buttons in the order their reader reads them. Telegram lays a row out left to right
    in every language, so a right-to-left reader gets each row reversed: "Back" (pointing right)
    on the right and "Skip" on the left, a week's first day on the right."""
    if _right_to_left(locale):
        return [row[::-1] for row in rows]
    return rows


def piece(value: str, locale: str | None = None) -> str:
    """A value the code puts into a line itself (an office's name, its address): isolated for a
    right-to-left reader, as a placeholder's value is (texts.bidi)."""
    return isolate(value) if _right_to_left(locale) else value


def marked_lines(text: str, locale: str | None = None) -> str:
    """Lines the code put together: for a right-to-left reader, each that would start left to
    right (an emoji, then an isolated address) starts with a right-to-left mark."""
    return mark_lines(text) if _right_to_left(locale) else text
