"""The console's preview of Telegram HTML: entities land on the right characters, text is escaped."""

from __future__ import annotations

from caseworker_console.telegram_preview import as_shown


def test_formatting_after_an_emoji_lands_on_the_right_characters() -> None:
    # The emoji is two UTF-16 code units, the unit of entity offsets.
    assert as_shown("😀 <b>دفتر</b> <i>open</i>") == "😀 <b>دفتر</b> <i>open</i>"


def test_nested_entities_and_links_are_shown_and_everything_else_escaped() -> None:
    shown = as_shown('<b>a <i>b</i></b> &lt;script&gt; <a href="https://example.org/?a=1&amp;b=2">x</a>')
    assert shown == (
        '<b>a <i>b</i></b> &lt;script&gt; <a href="https://example.org/?a=1&amp;b=2" '
        'rel="noopener noreferrer">x</a>'
    )


def test_text_telegram_refuses_has_no_preview() -> None:
    assert as_shown("3 < 4") is None
    assert as_shown("<b>open</i>") is None
    assert as_shown("<script>alert(1)</script>") is None


def test_a_link_to_anything_but_a_web_or_telegram_address_is_shown_as_its_text() -> None:
    assert as_shown('<a href="javascript:alert(1)">x</a> <a href="tg://resolve?domain=a">y</a>') == (
        '<span>x</span> <a href="tg://resolve?domain=a" rel="noopener noreferrer">y</a>'
    )
