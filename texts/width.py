"""How wide a button label is on a phone, in the units a row of buttons shares.

Telegram gives the buttons of a row equal widths and cuts a label that does not fit with "…". A
label's width is counted in user-perceived characters (grapheme clusters: a letter with its marks,
an emoji with its joiners, modifiers and variation selector); an emoji or a wide East Asian
character counts as two.
"""

from __future__ import annotations

import unicodedata

ZWJ = "\u200d"
# A row of buttons on a narrow phone (360 pt wide) holds about this many characters in all, at
# Telegram's font size (about 7.5 pt a character): 7 buttons of 4, 2 of 20, 1 of 42.
ROW_BUDGET = 44
# Within a row, each button also keeps some room for its padding: per button, this many fewer.
PADDING_PER_BUTTON = 2


def _extends(char: str, previous: str) -> bool:
    """Whether `char` belongs to the cluster `previous` ends."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or char == ZWJ
        or previous == ZWJ
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # emoji tag sequences
        or char == "\u20e3"  # keycap
    )


def graphemes(text: str) -> list[str]:
    clusters: list[str] = []
    for char in text:
        regional = 0x1F1E6 <= ord(char) <= 0x1F1FF
        previous = clusters[-1] if clusters else ""
        pairs_flag = (
            regional and len(previous) == 1 and 0x1F1E6 <= ord(previous) <= 0x1F1FF
        )  # a flag is two regional indicators
        if clusters and (_extends(char, previous[-1]) or pairs_flag):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _wide(cluster: str) -> bool:
    first = cluster[0]
    if "\ufe0f" in cluster or (len(cluster) > 1 and ZWJ in cluster):
        return True
    return unicodedata.east_asian_width(first) in ("W", "F") or 0x1F1E6 <= ord(first) <= 0x1F1FF


def label_width(text: str) -> int:
    """Graphemes in `text`, an emoji (or a wide character) counting as two; invisible format
    characters (direction marks, isolates) count as nothing."""
    return sum(
        2 if _wide(cluster) else 1
        for cluster in graphemes(text)
        if not (len(cluster) == 1 and unicodedata.category(cluster) == "Cf")
    )


def fits(row: list[str]) -> bool:
    """Whether every label of a row of buttons shows whole on a narrow phone."""
    share = ROW_BUDGET // len(row) - PADDING_PER_BUTTON
    return all(label_width(label) <= share for label in row)
