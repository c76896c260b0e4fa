"""Button data: packed and read as aiogram's CallbackData does, without a model per button."""

from __future__ import annotations

import pytest

from bot.conversation import keyboard
from wording.taps import Tap, read_tap, tap_data


@pytest.mark.parametrize(("token", "value"), [("Ab3_-x9Q", "yes"), ("t0k3n", "do.erase"), ("x", "")])
def test_packed_as_aiogram_packs_and_read_back(token: str, value: str) -> None:
    assert tap_data(token, value) == Tap(token=token, value=value).pack()
    assert read_tap(tap_data(token, value)) == Tap(token=token, value=value)


@pytest.mark.parametrize("data", ["", "t", "t:only", "t:a:b:c", "rm:a:b", "x:a:b", "t:a:b:", ":a:b", "T:a:b"])
def test_what_is_not_a_tap_reads_as_none(data: str) -> None:
    assert read_tap(data) is None
    with pytest.raises((TypeError, ValueError)):
        Tap.unpack(data)


def test_a_value_with_the_separator_or_too_long_is_refused() -> None:
    with pytest.raises(ValueError, match="may not contain"):
        tap_data("token", "a:b")
    with pytest.raises(ValueError, match="64 bytes"):
        tap_data("token", "ы" * 30)


def test_data_of_exactly_64_bytes_fits_and_one_more_does_not() -> None:
    value = "v" * (64 - len("t:token:"))
    assert len(tap_data("token", value).encode()) == 64
    assert read_tap(tap_data("token", value)) == Tap(token="token", value=value)
    with pytest.raises(ValueError, match="64 bytes"):
        tap_data("token", value + "v")


def test_a_keyboard_holds_one_live_token_per_button() -> None:
    markup = keyboard("tok", [[("Yes", "yes"), ("No", "no")], [("Done", "done")]])
    data = [button.callback_data for row in markup.inline_keyboard for button in row]
    assert data == ["t:tok:yes", "t:tok:no", "t:tok:done"]
