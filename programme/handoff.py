"""What a person may want to talk to a caseworker about: the topic the bot asks them to choose
before they write, which the console shows the caseworker beside the conversation."""

from __future__ import annotations

from programme.text import N_

TOPICS: tuple[tuple[str, str], ...] = (
    ("programme", N_("A question about the programme")),
    ("documents", N_("Documents")),
    ("housing", N_("Housing")),
    ("health", N_("Health")),
    ("work", N_("Work or study")),
    ("other", N_("Something else")),
)
