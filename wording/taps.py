"""How a button press is written in its callback data: the bot's own keyboards and the messages
other parts send through the outbox (a proposed time) write their buttons alike, and the bot reads
them back with `read_tap`."""

from __future__ import annotations

from aiogram.filters.callback_data import MAX_CALLBACK_LENGTH, CallbackData


class Tap(CallbackData, prefix="t"):
    """A button press. The token names the one message whose buttons are live; anything else is
    a stale button or a forgery and changes nothing."""

    token: str
    value: str


_TAP_PREFIX = Tap.__prefix__ + Tap.__separator__


def tap_data(token: str, value: str) -> str:
    """`Tap(token=token, value=value).pack()`, without building a model per button."""
    separator = Tap.__separator__
    if separator in token or separator in value:
        raise ValueError(f"a button's token or value may not contain {separator!r}")
    data = f"{_TAP_PREFIX}{token}{separator}{value}"
    if len(data.encode()) > MAX_CALLBACK_LENGTH:
        raise ValueError(f"callback data longer than Telegram's {MAX_CALLBACK_LENGTH} bytes")
    return data


def read_tap(data: str) -> Tap | None:
    """What `Tap.unpack` reads, or None for data that is not a tap (another kind or a forgery)."""
    prefix, *parts = data.split(Tap.__separator__)
    if prefix != Tap.__prefix__ or len(parts) != 2:
        return None
    return Tap.model_construct(token=parts[0], value=parts[1])
