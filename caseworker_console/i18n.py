"""Languages of the console: its gettext catalogs, the language of each request, dates in the office zone."""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import logging
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_time, get_timezone_name
from babel.support import Translations
from starlette.requests import HTTPConnection

from programme.text import Plural

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "console"
DEFAULT_LOCALE = "en"

# Each language named in its own script, in the order of the language switcher.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "az": "Azərbaycanca",
    "ru": "Русский",
}

logger = logging.getLogger(__name__)


def translated(
    translations: gettext.NullTranslations, message: str | Plural, params: Mapping[str, Any]
) -> str:
    """A msgid, or a Plural counted by `params["num"]`, in the reader's language, %-filled."""
    if isinstance(message, Plural):
        return translations.ngettext(*message, params["num"]) % params
    return translations.gettext(message) % params


@functools.cache
def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalog of a console language (cached: catalogs change only on deploy)."""
    found = Translations.load(LOCALES_DIR, [locale], DOMAIN)
    if type(found) is gettext.NullTranslations and locale != DEFAULT_LOCALE:
        # English is the source language and needs no catalog; any other language silently
        # falling back to English would look like a bug to its readers, so say why.
        logger.warning(
            "console catalog for %s is not compiled; run `pybabel compile -d %s -D %s`",
            locale,
            LOCALES_DIR,
            DOMAIN,
        )
    return found


def supported(locale: str | None) -> str | None:
    return locale if locale in LANGUAGES else None


def negotiate(accept_language: str) -> str:
    """The best console language for an Accept-Language header, by quality, then order."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        language = tag.strip().split("-")[0].lower()
        if quality > 0 and language in LANGUAGES:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else DEFAULT_LOCALE


def request_locale(connection: HTTPConnection) -> str:
    """A signed-in person's stored language; before sign-in ?lang=, then Accept-Language."""
    user = connection.scope.get("user")
    if user is not None and getattr(user, "is_authenticated", False):
        return supported(getattr(user, "language", None)) or DEFAULT_LOCALE
    chosen = supported(connection.query_params.get("lang"))
    return chosen or negotiate(connection.headers.get("accept-language", ""))


def text_direction(locale: str) -> str:
    return "rtl" if Locale.parse(locale).character_order == "right-to-left" else "ltr"


def language_name(code: str | None, locale: str) -> str | None:
    """A language code as a word in the reader's language ("ru" → "Russian", "русский")."""
    if not code:
        return None
    name = Locale.parse(locale).languages.get(code)
    return capitalised(name, locale) if name else code


# Azerbaijani and Turkish capitalise i as İ and ı as I; str.upper knows only the English pair.
_DOTTED_CAPITALS = {"i": "İ", "ı": "I"}


def capitalised(word: str, locale: str) -> str:
    """The word with its first letter capital, as the reader's language writes it ("İngilis")."""
    first = word[:1]
    if Locale.parse(locale).language in ("az", "tr"):
        first = _DOTTED_CAPITALS.get(first, first.upper())
    return first.upper() + word[1:]


def format_local_datetime(value: dt.datetime, *, locale: str, timezone: zoneinfo.ZoneInfo) -> str:
    """Medium date and short time (no seconds) in the office zone, joined the locale's way."""
    local = value.astimezone(timezone)
    babel_locale = Locale.parse(locale)
    pattern = str(babel_locale.datetime_formats["medium"])
    return pattern.replace("{1}", format_date(local, "medium", locale=babel_locale)).replace(
        "{0}", format_time(local, "short", locale=babel_locale)
    )


def format_day(value: dt.date, *, locale: str) -> str:
    """A calendar date (no time, no zone: a due date or a review's day) in the medium form."""
    return format_date(value, "medium", locale=Locale.parse(locale))


def timezone_name(timezone: zoneinfo.ZoneInfo, *, locale: str) -> str:
    return get_timezone_name(timezone, locale=locale)
