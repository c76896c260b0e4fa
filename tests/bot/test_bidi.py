"""Right-to-left messages keep their left-to-right pieces whole, as a bidi renderer lays them out.

Every Persian, Pashto and Urdu message is rendered with sample values by python-bidi (the Unicode
bidirectional algorithm) line by line, and each value, /command and Latin-digit number must read in
the same order on screen as it was written.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import zoneinfo

import pytest
from babel.messages.pofile import read_po
from bidi import get_display

from bot.dialogs.reminders import reminder_message
from programme import consent
from storage.models_appointments import Office
from texts.bidi import BIDI_CONTROLS, FSI, PDI, RLM, directed, isolate, without_controls
from texts.telegram_html import parse_html
from wording import dates
from wording.languages import LOCALES_DIR, RIGHT_TO_LEFT, bot_catalog, create_i18n

# A value for every placeholder the bot's catalog has, written left to right where a real one may
# be; multi-line values are paragraphs of the reader's own language.
SAMPLES: dict[str, str] = {
    "count": "12",
    "date": "07.12.2026",
    "when": "2026-12-07 14:30",
    "time": "2:30 PM",
    "number": "3",
    "total": "14",
    "code": "IB-2026-0042",
    "reference": "FB-4829-1736",
    "days": "7",
    "status": "پاسخ داده شد",
    "answer": "B2 (Baku)",
    "name": "Ali Khan",
    "phone": "+994501234567",
    "version": "2026-12",
    "closed": "5 years",
    "unenrolled": "1 year",
    "attachments": "90 days",
    "erasure_due": "30 days",
    "minimum": "1",
    "maximum": "120",
    "limit": "500",
    "language": "English",
    "goal": "Work permit, 2027",
    "reason": "Moving to Ganja: 2027/01",
    "account": "case.worker@example.org",
    "controller": "Intake Bridge Baku",
    "contact": "+994 12 555 01 02",
    "stage": "Plan 2",
    "responsible": "مسئول\nپاراگراف",
    "retention": "نگهداری\nپاراگراف",
    "rights": "حقوق\nپاراگراف",
    "start": "9:00 AM",
    "end": "1:00 PM",
    "hours": "9:00 AM–1:00 PM and 2:00 PM–6:00 PM",
}
LEFT_TO_RIGHT = re.compile(r"[A-Za-z0-9]")
# What must read left to right inside right-to-left catalog text.
COMMAND_OR_NUMBER = re.compile(r"(?<![\w/])/[A-Za-z]\w*|\+?[0-9]+(?:[ \-:./][0-9]+)*")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def entries(locale: str) -> list[tuple[str, str | None]]:
    """(singular, plural or None) for every message of the catalog."""
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return [
            (message.id, None) if isinstance(message.id, str) else (message.id[0], message.id[1])
            for message in read_po(po)
            if message.id
        ]


def visual(line: str) -> str:
    """The line as a screen shows it, left to right, without the invisible controls."""
    return without_controls(get_display(line))


def pieces_expected(translation: str, values: dict[str, str]) -> list[str]:
    plain_catalog_text = re.sub(r"<[^>]*>|\{\w*\}", " ", without_controls(translation))
    found = [piece for piece in COMMAND_OR_NUMBER.findall(plain_catalog_text) if piece.strip()]
    # A value in the reader's own script (a paragraph, a translated status) is theirs to read as is.
    return found + [value for value in values.values() if "\n" not in value and LEFT_TO_RIGHT.search(value)]


@pytest.mark.parametrize("locale", sorted(RIGHT_TO_LEFT))
def test_every_right_to_left_message_shows_its_left_to_right_pieces_in_order(locale: str) -> None:
    i18n = create_i18n()
    checked = 0
    for singular, plural in entries(locale):
        for n in (1, 5) if plural else (1,):
            template = i18n.gettext(singular, plural, n, locale=locale)
            values = {name: SAMPLES[name] for name in placeholders(template)}
            text = template.format(**values) if values else template
            plain = parse_html(text).text
            lines = [line for line in plain.split("\n") if line.strip()]
            shown = [visual(line) for line in lines]
            for piece in pieces_expected(str(template), values):
                assert any(piece in row for row in shown), (locale, singular, piece, shown)
            for line in lines:
                # Laid out from the right, whatever its first letter: the client's own guess agrees.
                assert get_display(line) == get_display(line, base_dir="R"), (locale, singular, line)
            checked += 1
    assert checked > 200


def test_the_check_sees_what_a_reader_saw_before() -> None:
    """Without isolates the bidi algorithm shows the defects readers reported."""
    assert "+994501234567" not in visual("شماره: +994501234567 تماس")
    assert "/withdraw" not in visual("بفرستید /withdraw را")
    assert "+994501234567" in visual("شماره: " + isolate("+994501234567") + " تماس")


def test_a_catalog_text_gets_its_commands_and_numbers_isolated_its_arrows_mirrored() -> None:
    text = directed("\u200eبرای دیدن /mydata را بفرستید، مثلاً +994 50 123 45 67.\n/start — شروع\n⬅️ بازگشت")
    first, second, third = text.split("\n")
    assert f"{FSI}/mydata{PDI}" in first
    assert f"{FSI}+994 50 123 45 67{PDI}." in first
    assert "\u200e" not in text
    assert second == f"{RLM}{FSI}/start{PDI} — شروع"
    assert third == "➡️ بازگشت"


def test_markup_and_placeholders_are_left_as_they_are() -> None:
    text = directed('<a href="https://t.me/bot?start=123">/start</a> {code} &#123; ۱۲')
    assert 'href="https://t.me/bot?start=123"' in text
    assert "{code}" in text
    assert "&#123;" in text
    assert text.format(code="IB-1").count(FSI) == 2


def test_a_line_that_starts_with_a_value_is_marked_when_the_value_is_left_to_right() -> None:
    template = directed("{name} عزیز")
    assert template.format(name="Ali") == f"{RLM}{FSI}Ali{PDI} عزیز"
    assert template.format(name="علی") == f"{FSI}علی{PDI} عزیز"


def test_left_to_right_readers_get_the_text_unchanged() -> None:
    i18n = create_i18n()
    for locale in ("en", "az", "ru", "tr"):
        text = i18n.gettext("Your case number is {code}.", locale=locale).format(code="IB-1")
        assert not set(text) & BIDI_CONTROLS


def test_the_consent_text_keeps_its_hash_whatever_its_direction_marks() -> None:
    catalog = bot_catalog("fa")
    rendered = consent.rendered(catalog.gettext, catalog.ngettext, controller="Org 1", contact="")
    assert FSI in rendered
    assert consent.text_hash(rendered) == consent.text_hash(without_controls(rendered))


@pytest.mark.parametrize("locale", sorted(RIGHT_TO_LEFT))
def test_arrows_point_along_a_right_to_left_line(locale: str) -> None:
    i18n = create_i18n()
    assert i18n.gettext("⬅️ Back", locale=locale).startswith("➡️")
    assert i18n.gettext("⬅️ Another time", locale=locale).startswith("➡️")
    assert i18n.gettext("Skip ➡️", locale=locale).endswith("⬅️")
    assert i18n.gettext("➡️ {answer}", locale=locale).format(answer="<b>B2</b>").lstrip(RLM).startswith("⬅️")
    assert i18n.gettext("⬅️ Back", locale="en") == "⬅️ Back"


@pytest.mark.parametrize("locale", sorted(RIGHT_TO_LEFT))
def test_help_lines_that_start_with_a_command_start_from_the_right(locale: str) -> None:
    help_text = next(msgid for msgid, _ in entries("en") if "/start — " in msgid)
    shown = create_i18n().gettext(help_text, locale=locale)
    lines = [line for line in shown.split("\n") if "/" in line]
    assert len(lines) >= 5
    for line in lines:
        if without_controls(line).lstrip().startswith("/"):
            assert line.startswith(RLM + FSI + "/"), line


@pytest.mark.parametrize("locale", sorted(RIGHT_TO_LEFT))
def test_a_reminder_shows_the_office_address_and_time_in_order(locale: str) -> None:
    office = Office(name="Office 7", address="12 Nizami St., Baku")
    zone = zoneinfo.ZoneInfo("Asia/Baku")
    start = dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC)
    text, _markup = reminder_message(
        create_i18n(), kind="24h", starts_at=start, office=office, zone=zone, language=locale, token="t"
    )
    lines = [line for line in parse_html(text).text.split("\n") if line.strip()]
    # As a client shows it that lays every line of a message out in the message's direction.
    shown = [without_controls(get_display(line, base_dir="R")) for line in lines]
    for piece in ("12 Nizami St., Baku", "Office 7", dates.time_label(start, zone, locale)):
        assert any(visual(piece) in row for row in shown), (piece, shown)
    for line in lines:
        assert get_display(line) == get_display(line, base_dir="R"), line
