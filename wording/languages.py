"""The bot's languages, its catalog, and the direction each language is written in.

The catalog's files are kept with the bot (`bot/locales`, domain "messages"); every part that
writes to a person reads them from here.
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aiogram.utils.i18n import I18n
from babel.lists import format_list
from babel.localedata import LocaleDataDict
from babel.support import Translations

from texts.bidi import directed, isolate, mark_lines

LOCALES_DIR = Path(__file__).resolve().parent.parent / "bot" / "locales"
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


# Babel (2.18, its issue #1234) writes every alias it resolves back into the locale data it read it
# from, and that data is shared: a locale's data is a shallow copy of its parent's, so a part the
# locale does not define itself (root's stand-alone weekday and month names, aliases of the format
# names) is one dict for many locales. The first locale to read such a name fixes it for the
# others: after Pashto's stand-alone weekdays, Urdu's are Pashto's, and every locale loaded later
# (Russian, Azerbaijani, Dari) inherits them. Here Babel's own resolution runs on a throwaway
# one-key copy, so nothing is written back, and an alias is followed through the locale's data as
# Babel reads it (a view whose aliases resolve the same way), which also merges what a locale adds
# to an aliased part, as the written-back copies did. Applied once, here, where every part that
# formats a date or a name through Babel gets its locale; tests/bot/test_dates.py tells when a
# Babel release no longer needs it.
_resolve = LocaleDataDict.__getitem__


def _view(data: Any) -> LocaleDataDict:
    view = LocaleDataDict(data)
    view.base = view
    return view


def _resolve_apart(self: LocaleDataDict, key: str | int | None) -> Any:
    base = self.base if isinstance(self.base, LocaleDataDict) else _view(self.base)
    return _resolve(LocaleDataDict({key: self._data[key]}, base=base), key)


LocaleDataDict.__getitem__ = _resolve_apart  # type: ignore[method-assign]


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


@functools.cache
def _i18n() -> I18n:
    return create_i18n()


def locale_of(*languages: str | None) -> str:
    """The first of the person's languages the bot speaks."""
    return next((language for language in languages if language in LANGUAGES), DEFAULT_LOCALE)


def translator(locale: str) -> Callable[[str], str]:
    """gettext in the person's language (not the console reader's), for a message written outside
    their conversation."""
    i18n = _i18n()
    return lambda msgid: i18n.gettext(msgid, locale=locale)


def reader(locale: str | None) -> str:
    """`locale`, or None: the reader of the update being handled (the default outside one)."""
    if locale is None:
        current = I18n.get_current(no_error=True)  # None outside an update: no reader to ask
        locale = current.current_locale if current is not None else DEFAULT_LOCALE
    return locale


def right_to_left(locale: str | None) -> bool:
    """Whether a reader of `locale` reads right to left; None: the reader of the update being
    handled (left to right outside one)."""
    return reader(locale) in RIGHT_TO_LEFT


def listed(items: Sequence[str], locale: str | None = None) -> str:
    """Items joined as the reader's language joins them (CLDR, through Babel): «a، b و c» in
    Persian, «a, b и c» in Russian, never a Latin comma inside right-to-left text."""
    return format_list(list(items), locale=format_locale(reader(locale)))


def piece(value: str, locale: str | None = None) -> str:
    """A value the code puts into a line itself (an office's name, its address): isolated for a
    right-to-left reader, as a placeholder's value is (texts.bidi)."""
    return isolate(value) if right_to_left(locale) else value


def marked_lines(text: str, locale: str | None = None) -> str:
    """Lines the code put together: for a right-to-left reader, each that would start left to
    right (an emoji, then an isolated address) starts with a right-to-left mark."""
    return mark_lines(text) if right_to_left(locale) else text
