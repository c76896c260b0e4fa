"""Checking parameters against api.json and parsing Telegram HTML, without a server."""

from __future__ import annotations

import pytest

from sandbox.spec import SPEC_ENV_VAR, SpecError, default_spec_path, load_spec
from texts.telegram_html import HtmlParseError, parse_html


def test_spec_path_comes_from_the_environment_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SPEC_ENV_VAR, "/elsewhere/api.json")

    assert str(default_spec_path()) == "/elsewhere/api.json"


def test_spec_is_found_beside_the_repository_and_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SPEC_ENV_VAR, raising=False)

    path = default_spec_path()

    assert path.parts[-3:] == ("shared", "telegram-bot-api", "api.json")
    assert load_spec(path) is load_spec(str(path))


def test_form_strings_are_coerced_to_declared_types() -> None:
    spec = load_spec()
    method = spec.method("SENDMESSAGE")
    assert method is not None

    checked = spec.validate(
        method,
        {"chat_id": "-100", "text": "hi", "disable_notification": "true", "unknown": "dropped"},
        {},
    )

    assert checked == {"chat_id": -100, "text": "hi", "disable_notification": True}


def test_the_keyboard_type_that_fits_explains_the_error() -> None:
    spec = load_spec()
    method = spec.method("sendMessage")
    assert method is not None
    markup = '{"keyboard": [[{"text": "Help", "request_contact": "maybe"}]]}'

    with pytest.raises(SpecError, match=r'"reply_markup\.keyboard\[0\]\[0\]\.request_contact" must be'):
        spec.validate(method, {"chat_id": 1, "text": "hi", "reply_markup": markup}, {})


def test_html_entities_nest_and_carry_attributes() -> None:
    parsed = parse_html(
        '<pre><code class="language-python">x = 1</code></pre>'
        "<blockquote expandable>q</blockquote><tg-spoiler>s</tg-spoiler>&#128512;&#x41;"
    )

    assert parsed.text == "x = 1qs😀A"
    assert parsed.entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "expandable_blockquote", "offset": 5, "length": 1},
        {"type": "spoiler", "offset": 6, "length": 1},
    ]


def test_html_keeps_unknown_ampersands_and_trims_like_telegram() -> None:
    parsed = parse_html("  Tom &amp; Jerry &nbsp; <i>ok</i>  ")

    assert parsed.text == "Tom & Jerry &nbsp; ok"
    assert parsed.entities == [{"type": "italic", "offset": 19, "length": 2}]


@pytest.mark.parametrize("source", ["<b>x", "</b>", "<a href='x>y</a>", "<b>x</i>", "a < b"])
def test_malformed_html_is_rejected(source: str) -> None:
    with pytest.raises(HtmlParseError):
        parse_html(source)
