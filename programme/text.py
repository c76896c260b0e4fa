"""Marks strings for gettext extraction where they are defined; they are translated where shown."""

from __future__ import annotations

from typing import NamedTuple


def N_(message: str) -> str:
    return message


class Plural(NamedTuple):
    """A message with a number in it: the English singular and plural, for ngettext where shown
    (Russian has three forms, Pashto and Urdu two). The number fills `{count}` or `%(num)s`."""

    singular: str
    plural: str


def NP_(singular: str, plural: str) -> Plural:
    return Plural(singular, plural)
