"""Right-to-left text that keeps its left-to-right pieces whole: isolates, marks and mirrored arrows.

In Persian, Pashto or Urdu text the Unicode bidirectional algorithm reorders a piece written left
to right when it touches neutral characters: a phone number `+994501234567` reads `994501234567+`,
`/withdraw` reads `withdraw/`, a version `2026-11` reads `11-2026`. Each such piece is wrapped in a
first-strong isolate (FSI … PDI), which lays it out on its own, in its own direction. That is done
in two places only, never by hand in a catalog:

- `directed` goes once over a translation (catalog text): it drops marks typed into it, isolates
  the /commands and Latin-digit numbers it contains and mirrors its arrows;
- `Directed.format` isolates every value put into a placeholder, except the reader's own words
  (another translation).

Both then start each line whose first letter is not right to left (a line beginning with /start or
with a Latin name) with a right-to-left mark, so the client lays the line out from the right.
"""

from __future__ import annotations

import functools
import re
import string
import unicodedata
from typing import Any

FSI = "\u2068"  # first strong isolate
PDI = "\u2069"  # pop directional isolate
RLM = "\u200f"

# Every character that sets or changes the direction of text: marks, embeddings, overrides and
# isolates. None belongs in a name or a catalog; the code places the ones it needs.
BIDI_CONTROLS = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_CONTROL_RUN = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")

# Markup, placeholders and character references are not text to read: left exactly as they are.
_NOT_TEXT = re.compile(r"<[^>]*>|\{\w*\}|&#?\w+;")
# Pieces a right-to-left text writes left to right: commands, and numbers in Latin digits with the
# punctuation of phone numbers, times, dates and versions (+994 50 123 45 67, 2:30, 2026-11).
_LTR_PIECE = re.compile(r"(?<![\w/])/[A-Za-z]\w*|\+?[0-9]+(?:[ \-:./][0-9]+)*")
# Arrows that point along the line: in a right-to-left line "back" points right and "on" left.
_MIRRORED = str.maketrans({"⬅": "➡", "➡": "⬅", "←": "→", "→": "←", "◀": "▶", "▶": "◀"})


def isolate(piece: str) -> str:
    """`piece` laid out on its own, in the direction of its first letter (left to right if none).

    A piece of several lines is left as it is: isolates end with the line, and a paragraph of the
    reader's own language needs none."""
    if not piece or "\n" in piece:
        return piece
    return FSI + piece + PDI


def without_controls(text: str) -> str:
    return _CONTROL_RUN.sub("", text)


_TOKEN = re.compile(r"(<[^>]*>|&#?\w+;|\{\w*\})")


def _leads(line: str, *, template: bool) -> str | None:
    """What decides the line's direction: "R" or "L" (its first letter), "{}" (an unfilled
    placeholder before any letter, in a template) or None (no letter at all)."""
    for token in _TOKEN.split(line):
        if token.startswith("{") and token.endswith("}") and template:
            return "{}"
        if token.startswith(("<", "&")) and _TOKEN.fullmatch(token):
            continue
        for char in token:
            kind = unicodedata.bidirectional(char)
            if kind == "L":
                return "L"
            if kind in ("R", "AL"):
                return "R"
    return None


def mark_lines(text: str, *, template: bool = False) -> str:
    """Each non-empty line whose first letter is not right to left (or that has no letter: a date,
    a phone number) starts with a right-to-left mark, so it is laid out from the right.

    In a `template`, a line that starts with a placeholder is left to `Directed.format`, which
    knows the value.
    """
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.strip() and _leads(line, template=template) not in ("R", "{}"):
            lines[index] = RLM + line
    return "\n".join(lines)


def _isolate_pieces(text: str) -> str:
    return _LTR_PIECE.sub(lambda match: isolate(match.group(0)), text).translate(_MIRRORED)


@functools.lru_cache(maxsize=4096)  # a catalog's translations: a few hundred, each asked often
def directed(translation: str) -> Directed:
    """A translation as a right-to-left reader gets it (see the module's docstring)."""
    text = without_controls(translation)
    pieces = _NOT_TEXT.split(text)
    kept = _NOT_TEXT.findall(text)
    out = [_isolate_pieces(pieces[0])]
    for markup, piece in zip(kept, pieces[1:], strict=True):
        out += [markup, _isolate_pieces(piece)]
    return Directed(mark_lines("".join(out), template=True))


class Filled(str):
    """A right-to-left translation with its placeholders filled: text in the reader's own
    language, which goes into another one's placeholder as part of the sentence."""

    __slots__ = ()


class _IsolatingFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        field = super().format_field(value, format_spec)
        # The reader's own words (a translation) belong to the sentence; anything else is a piece
        # that may be written left to right.
        return field if isinstance(value, Directed | Filled) else isolate(field)


_FORMATTER = _IsolatingFormatter()


class Directed(str):
    """A right-to-left translation: `format` isolates each value it puts in."""

    __slots__ = ()

    def format(self, *args: Any, **kwargs: Any) -> Filled:  # type: ignore[override]
        return Filled(mark_lines(_FORMATTER.vformat(self, args, kwargs)))

    def format_map(self, mapping: Any) -> Filled:  # type: ignore[override]
        return Filled(mark_lines(_FORMATTER.vformat(self, (), mapping)))


def for_reader(translation: str, right_to_left: bool) -> str:
    """`translation` as it is shown: `directed` for a right-to-left reader, unchanged otherwise."""
    return directed(translation) if right_to_left else translation
