"""The fonts the console draws documents with (PDFs, flyers), from their Python packages: never
taken from the machine.

Noto Sans covers the Latin and Cyrillic of az, en, ru and tr; Noto Sans Arabic covers the Arabic
script of fa, ps and ur. Both are under the SIL Open Font License 1.1 (the licence ships in each
package, fontpkg-noto-sans and fontpkg-noto-sans-arabic).
"""

from __future__ import annotations

import functools
from pathlib import Path

import fontpkg

ARABIC_SCRIPT = frozenset({"fa", "ps", "ur"})


@functools.cache
def latin() -> Path:
    return Path(fontpkg.path("Noto Sans"))


@functools.cache
def arabic() -> Path:
    return Path(fontpkg.path("Noto Sans Arabic"))


def for_language(language: str) -> Path:
    """The font that writes a bot language's script."""
    return arabic() if language in ARABIC_SCRIPT else latin()
