"""Urgent help: emergency numbers, and words in each language that suggest someone is at risk."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from programme.text import N_
from texts.visible import ZWJ, ZWNJ, visible

# Defaults for Azerbaijan; an organisation elsewhere changes them in one place.
EMERGENCY_NUMBERS: tuple[tuple[str, str], ...] = (
    ("112", N_("Emergency")),
    ("102", N_("Police")),
    ("103", N_("Ambulance")),
)

# Short stems, matched at the start of words, for self-harm, violence and exploitation or
# trafficking. Deliberately small: a hint to look, never a diagnosis.
CRISIS_WORDS: Mapping[str, tuple[str, ...]] = {
    "en": (
        "suicid",
        "kill myself",
        "end my life",
        "hurt myself",
        "beat me",
        "beats me",
        "rape",
        "trafficked",
        "they took my passport",
        "forced to work",
        "violence",
        "abuse",
    ),
    "ru": (
        "суицид",
        "убить себя",
        "покончить с собой",
        "покончу с собой",
        "бьет меня",
        "бьёт меня",
        "изнасил",
        "насили",
        "отобрали паспорт",
        "забрали паспорт",
        "принуждают работать",
    ),
    "az": (
        "intihar",
        "özümü öldür",
        "məni döyür",
        "zorla",
        "təcavüz",
        "pasportumu aldılar",
        "zorla işlədir",
        "şiddət",
    ),
    "tr": (
        "intihar",
        "kendimi öldür",
        "beni dövüyor",
        "tecavüz",
        "şiddet",
        "pasaportumu aldılar",
        "zorla çalıştır",
    ),
    "fa": (
        "خودکشی",
        "خودم را بکشم",
        "مرا می‌زند",
        "منو میزنه",
        "تجاوز",
        "خشونت",
        "پاسپورتم را گرفت",
        "مجبور به کار",
    ),
    "ps": ("ځان وژنه", "ځان ووژنم", "ما وهي", "تېری", "تاوتریخوالی", "پاسپورټ مې واخیست"),
    "ur": ("خودکشی", "خود کو مار", "مجھے مارتا", "زیادتی", "تشدد", "پاسپورٹ لے لیا", "زبردستی کام"),
}


def _fold(text: str) -> str:
    # Case, width and invisible characters must not hide a word; the non-joiner is spelling
    # (می‌زند), but people type the same word with it or without it (میزند), so matching ignores it.
    seen = visible(text).replace(ZWNJ, "").replace(ZWJ, "")
    return unicodedata.normalize("NFKC", seen).casefold()


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # A stem matches with the rest of its word, so a reader sees "suicidal", not "suicid".
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(_fold(word)) for word in words) + r")\w*")


def crisis_words_in(text: str, locale: str) -> list[str]:
    """The crisis words of the person's language or of English the text has, as they wrote them
    (case and width folded), each once."""
    folded = _fold(text)
    found: dict[str, None] = {}
    for language in dict.fromkeys((locale, "en")):
        words = CRISIS_WORDS.get(language)
        if words is None:
            continue
        pattern = _PATTERNS.setdefault(language, _pattern(words))
        for match in pattern.finditer(folded):
            found.setdefault(match.group(0).strip(), None)
    return list(found)


def mentions_crisis(text: str, locale: str) -> bool:
    """True when the text has a crisis word of the person's language or of English."""
    return bool(crisis_words_in(text, locale))
