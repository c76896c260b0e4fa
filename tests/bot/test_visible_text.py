"""Free text keeps the joiners Persian and Urdu spelling needs and loses what can hide or reorder it."""

from __future__ import annotations

from bot.conversation import clean_text as clean_name
from programme.forms import INTERVIEW, Kind, clean_answer
from programme.urgent import mentions_crisis
from texts.visible import clean_line, visible

ZWNJ, ZWJ = "\u200c", "\u200d"


def test_a_persian_or_urdu_name_keeps_its_non_joiner() -> None:
    assert clean_name("زهرا  عبدالله\u200cزاده ") == "زهرا عبدالله\u200cزاده"
    assert clean_name("نیم\u200cفاصله") == "نیم\u200cفاصله"


def test_an_emoji_sequence_keeps_its_joiner() -> None:
    assert clean_name("Ali 👩\u200d💻") == "Ali 👩\u200d💻"


def test_bidi_controls_and_other_invisible_characters_go() -> None:
    for hidden in ("\u202e", "\u202d", "\u2066", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c"):
        assert clean_name(f"Ali{hidden} Khan") == "Ali Khan", repr(hidden)
    for hidden in ("\u200b", "\u2060", "\ufeff", "\u00ad", "\u3164", "\u115f", "\U000e0041", "\x07"):
        assert clean_name(f"Al{hidden}i") == "Ali", repr(hidden)


def test_joiners_alone_or_at_the_edges_of_a_word_are_nothing() -> None:
    assert clean_name(f"{ZWNJ}{ZWJ} {ZWNJ}") == ""
    assert clean_name(f"{ZWNJ}Ali{ZWNJ} {ZWJ}Khan") == "Ali Khan"


def test_a_message_keeps_its_lines() -> None:
    assert visible("Salam\u202e\nخوبی\u200c؟\tok") == "Salam\nخوبی\u200c؟\tok"


def test_the_interview_and_the_console_clean_text_answers_the_same_way() -> None:
    question = next(q for q in INTERVIEW.questions if q.kind is Kind.TEXT)
    typed = "می\u200cخواهم \u202eکار\u202c"
    assert clean_answer(question, typed) == clean_line(typed) == "می\u200cخواهم کار"


def test_crisis_words_match_with_or_without_the_non_joiner() -> None:
    assert mentions_crisis("او مرا می\u200cزند", "fa")
    assert mentions_crisis("او مرا میزند", "fa")
    assert mentions_crisis("او مرا می\u200c\u202eزند", "fa")
