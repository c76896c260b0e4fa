"""Dates, times and weekdays as each reader writes them, checked for every language on one fixed day."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from babel import localedata
from babel.dates import format_date, get_day_names

from bot import calendar
from texts.bidi import without_controls
from wording import dates, languages
from wording.languages import LANGUAGES, RIGHT_TO_LEFT, create_i18n, format_locale

BAKU = zoneinfo.ZoneInfo("Asia/Baku")
# Monday 2 March 2026, 14:30 in Baku.
AT = dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC)

# (full date, slot time, weekday and time, first column of the calendar) per language.
EXPECTED = {
    "en": ("Monday, March 2, 2026", "2:30\u202fPM", "Monday 2:30\u202fPM", "Mo"),
    "az": ("2 mart 2026, bazar ertəsi", "14:30", "bazar ertəsi 14:30", "B.E."),
    "ru": ("понедельник, 2 марта 2026\u202fг.", "14:30", "понедельник 14:30", "пн"),
    # Dari (Afghanistan): مارچ, not Iran's مارس; the week starts on Saturday (ش).
    "fa": ("دوشنبه 2 مارچ 2026", "14:30", "دوشنبه 14:30", "ش"),
    "ps": ("دونۍ د 2026 د مارچ 2", "14:30", "دونۍ 14:30", None),
    # The part of the day in Urdu, where CLDR's short time has "PM".
    "ur": ("پیر، 2 مارچ، 2026", "دوپہر 2:30", "پیر دوپہر 2:30", None),
    "tr": ("2 Mart 2026 Pazartesi", "14:30", "Pazartesi 14:30", "Pt"),
}


@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_language_writes_the_date_time_and_weekday_as_its_readers_do(locale: str) -> None:
    full, time, weekday_time, first_column = EXPECTED[locale]
    assert dates.date_label(AT, BAKU, locale) == full
    assert dates.time_label(AT, BAKU, locale) == time
    assert dates.weekday_time(AT, BAKU, locale) == weekday_time
    header = calendar.weekday_header(locale)
    assert (header[0] if header else None) == first_column
    rows = calendar.month_rows(2026, 3, {AT.date()}, locale)
    assert [label for row in rows for label, value in row if value != calendar.NOOP] == [
        calendar.day_label(AT.date(), locale)
    ]


@pytest.mark.parametrize("locale", LANGUAGES)
def test_a_date_at_a_time_says_the_time_once_in_the_readers_script(locale: str) -> None:
    when = without_controls(
        create_i18n()
        .gettext("{date} at {time}", locale=locale)
        .format(date=dates.date_label(AT, BAKU, locale), time=dates.time_label(AT, BAKU, locale))
    )
    if locale in RIGHT_TO_LEFT:
        assert not any("a" <= char.lower() <= "z" for char in when), when
    if locale == "ur":
        assert when == "پیر، 2 مارچ، 2026، دوپہر 2:30 بجے"
    if locale == "fa":
        assert "مارس" not in when and "ژانویه" not in when


def names_read_in_order(order: list[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, object]]:
    """Each language's weekday names read in `order` by a Babel that has read nothing yet: Babel keeps
    its locale data for the whole process, and the first locale to read a name is what matters."""
    with monkeypatch.context() as fresh:
        fresh.setattr(localedata, "_cache", {})
        names: dict[str, dict[str, object]] = {}
        for locale in order:
            babel = format_locale(locale)
            names[locale] = {
                "header": calendar.weekday_header(locale),
                "title": calendar.month_title(2026, 3, locale),
                "weekday_time": dates.weekday_time(AT, BAKU, locale),
                "stand-alone": [
                    get_day_names(width, context="stand-alone", locale=babel)[0]
                    for width in ("wide", "abbreviated", "short", "narrow")
                ],
                "format": [
                    get_day_names(width, context="format", locale=babel)[0]
                    for width in ("wide", "abbreviated", "short", "narrow")
                ],
                "alone": [format_date(AT, pattern, locale=babel) for pattern in ("cccc", "ccc", "LLLL")],
            }
    return names


def test_each_language_keeps_its_own_weekday_names_whichever_language_babel_read_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    others = [locale for locale in LANGUAGES if locale not in ("ps", "ur")]
    pashto_last = names_read_in_order([*others, "ur", "ps"], monkeypatch)
    pashto_first = names_read_in_order(["ps", "ur", *others], monkeypatch)
    assert pashto_first == pashto_last
    # Monday standing alone, each in its own words, not in Pashto's «دونۍ».
    assert [pashto_first[locale]["stand-alone"][0] for locale in ("ru", "az", "fa", "ur", "ps", "tr")] == [
        "понедельник",
        "bazar ertəsi",
        "دوشنبه",
        "پیر",
        "دونۍ",
        "Pazartesi",
    ]
    assert pashto_first["ur"]["alone"][0] == "پیر" and pashto_first["fa"]["alone"][2] == "مارچ"
    assert [pashto_first[locale]["header"] for locale in LANGUAGES] == [
        calendar.weekday_header(locale) for locale in LANGUAGES
    ]


@pytest.mark.parametrize("order", [list(LANGUAGES), list(reversed(LANGUAGES))])
def test_a_weekday_standing_alone_is_the_weekday_in_a_date_in_every_language(order: list[str]) -> None:
    """CLDR gives our seven languages one word for Monday alone and in a date (Babel reads the
    stand-alone names as aliases of the format ones): here in one process, in both orders."""
    for locale in order:
        babel = format_locale(locale)
        for width in ("wide", "abbreviated", "short", "narrow"):
            assert get_day_names(width, context="stand-alone", locale=babel) == get_day_names(
                width, context="format", locale=babel
            ) or (locale, width) == ("az", "abbreviated"), (locale, width)
        assert format_date(AT, "cccc", locale=babel) == format_date(AT, "EEEE", locale=babel), locale


def test_babel_itself_still_lets_one_locale_fix_anothers_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """What wording.languages works around. When a Babel release makes this fail, it keeps its
    locales apart itself: remove the workaround there."""
    with monkeypatch.context() as plain:
        plain.setattr(localedata, "_cache", {})
        plain.setattr(localedata.LocaleDataDict, "__getitem__", languages._resolve)
        get_day_names("wide", context="stand-alone", locale="ps")
        urdu_monday = get_day_names("wide", context="stand-alone", locale="ur")[0]
    assert urdu_monday == "دونۍ"  # Pashto's
    assert get_day_names("wide", context="stand-alone", locale="ur")[0] == "پیر"
