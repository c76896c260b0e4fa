"""The consent text names the controller, the contact, the retention periods and the rights, from the
settings: each of them changes the text, so its hash, as the person's record keeps it."""

from __future__ import annotations

import dataclasses

import pytest

from caseworker_console.routes.consent import consent_text
from programme import consent
from programme.retention import RetentionPolicy
from wording.languages import LANGUAGES, bot_catalog

POLICY = RetentionPolicy()


def english(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural


def text(*, controller: str = "Bridge Aid", contact: str = "", retention: RetentionPolicy = POLICY) -> str:
    return consent.rendered(str, english, controller=controller, contact=contact, retention=retention)


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (1095, "3 years"),
        (730, "2 years"),
        (365 * 400, "400 years"),  # any number of years, counted in years of 365 days
        (365, "1 year"),
        # Years only when whole: 400 days are neither a year nor within three days of 13 months.
        (400, "400 days"),
        (490, "16 months"),  # exactly three days over 16 × 30.4375
        (183, "6 months"),
        (92, "3 months"),
        (30, "1 month"),
        # Within three days of a whole number of months (30.44 days each) reads as months.
        (33, "1 month"),
        (34, "34 days"),
        (27, "27 days"),
        (45, "45 days"),
        (7, "7 days"),
        (3, "3 days"),
        (1, "1 day"),
    ],
)
def test_a_period_reads_as_a_person_would_say_it(days: int, words: str) -> None:
    assert consent.period(english, days) == words


def test_the_text_names_the_controller_contact_periods_and_every_right() -> None:
    named = text(contact="dpo@bridge-aid.example")
    assert "Bridge Aid runs the Integration Programme" in named
    assert "Questions about your information: dpo@bridge-aid.example." in named
    assert "after your case is closed: 2 years" in named and "6 months after your last message" in named
    assert "1 year after you send them" in named and "within 1 month" in named
    for command in ("/mydata", "/correct", "/delete", "/withdraw", "/consent"):
        assert command in named, command
    # No contact set: the chat itself is where to ask.
    assert "Questions about your information: write to us here in this chat." in text()


@pytest.mark.parametrize(
    "change",
    [
        {"controller": "Another Association"},
        {"contact": "dpo@bridge-aid.example"},
        {"retention": dataclasses.replace(POLICY, closed_days=1095)},
        {"retention": dataclasses.replace(POLICY, unenrolled_days=92)},
        {"retention": dataclasses.replace(POLICY, attachment_days=730)},
        {"retention": dataclasses.replace(POLICY, erasure_due_days=14)},
    ],
)
def test_changing_a_setting_the_text_names_changes_its_hash(change: dict[str, object]) -> None:
    assert consent.text_hash(text(**change)) != consent.text_hash(text())  # type: ignore[arg-type]
    assert consent.text_hash(text()) == consent.text_hash(text())


def test_what_an_organisation_typed_is_escaped_in_the_telegram_html() -> None:
    shown = text(controller="Aid & <Care>", contact="<b>x</b>")
    assert "Aid &amp; &lt;Care&gt;" in shown and "&lt;b&gt;x&lt;/b&gt;" in shown


def test_quotes_an_organisation_typed_read_as_typed() -> None:
    """Telegram's HTML needs only <, > and & escaped: a quote or an apostrophe stays as typed."""
    shown = text(controller='"Bridge" Aid', contact="Dara O'Neil")
    assert '"Bridge" Aid runs' in shown and "Questions about your information: Dara O'Neil." in shown


@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_language_fills_every_part(locale: str) -> None:
    shown = consent_text(locale, "Bridge Aid", "dpo@bridge-aid.example", POLICY)
    words = bot_catalog(locale)
    assert "{" not in shown and "Bridge Aid" in shown and "dpo@bridge-aid.example" in shown
    assert words.ngettext("{count} year", "{count} years", 2).format(count=2) in shown
    for command in ("/mydata", "/correct", "/delete", "/withdraw"):
        assert command in shown, command
