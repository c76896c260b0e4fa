"""`make mutate` leaves out of the score a mutant that only changes a type annotation's `|` (never
evaluated here), wherever the annotation's line is, and no other mutant."""

from __future__ import annotations

import pytest

from bench.mutate import in_annotation


def diff(before: str, after: str) -> str:
    return f"--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-{before}\n+{after}\n"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("def f(x: int | None) -> None:", "def f(x: int * None) -> None:"),
        ("    found: Row | None = None", "    found: Row - None = None"),
        (") -> People | None:", ") -> People ** None:"),
    ],
)
def test_an_annotations_operator_is_an_equivalent_mutant(before: str, after: str) -> None:
    assert in_annotation(diff(before, after))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("    flags = a | b", "    flags = a ^ b"),
        (") -> People | None:", ") -> People | int:"),
        ("    return left | right", "    return left & right"),
    ],
)
def test_any_other_change_is_not(before: str, after: str) -> None:
    assert not in_annotation(diff(before, after))
