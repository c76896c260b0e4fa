"""Free text as a person wrote it, without the invisible characters that can hide or reorder it.

One rule for every answer, name, request and message a person types, in the bot and the console:
bidi controls (an override can make "gnp.exe" read "exe.png"), zero-width spaces, soft hyphens and
the other format characters go, and so do control characters and the Hangul fillers that show
as blanks. The zero-width non-joiner and joiner stay: Persian and Urdu spelling needs the first
(نیم‌فاصله: می‌خواهم), and the second joins letters and emoji.
"""

from __future__ import annotations

import unicodedata

ZWNJ = "\u200c"
ZWJ = "\u200d"
JOINERS = ZWNJ + ZWJ
# Letters by category, blanks on screen: nothing a name or an answer is written with.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
_KEPT_CONTROLS = frozenset("\n\t")


def _kept(char: str) -> bool:
    if char in JOINERS or char in _KEPT_CONTROLS:
        return True
    return unicodedata.category(char) not in ("Cf", "Cc") and char not in _INVISIBLE_LETTERS


def visible(text: str) -> str:
    """`text` without invisible characters other than the joiners; lines and tabs kept."""
    return "".join(char for char in text if _kept(char))


def clean_line(text: str) -> str:
    """One line of free text: visible characters, each run of white space one space, trimmed.
    Joiners at either end or next to a space join nothing and go; text of joiners alone is empty."""
    words = (word.strip(JOINERS) for word in visible(text).split())
    return " ".join(word for word in words if word)
