"""The small-cell rule (programme.figures) at its edges: where masking starts, when a second cell is
hidden, and the whole-number percentages shown between two shown counts."""

from __future__ import annotations

import dataclasses

import pytest

from programme.figures import MASK, THRESHOLD, Cell, breakdown, masked, share


def texts(cells: dict[str, Cell]) -> dict[str, str]:
    return {key: cell.text for key, cell in cells.items()}


@pytest.mark.parametrize(
    ("value", "shown"), [(0, MASK), (1, MASK), (4, MASK), (5, "5"), (6, "6"), (120, "120")]
)
def test_a_count_under_five_is_shown_and_drawn_as_five_never_as_itself(value: int, shown: str) -> None:
    cell = masked(value)
    assert cell.text == shown
    assert cell.drawn == (THRESHOLD if value < THRESHOLD else value)


def test_two_masked_categories_hide_nothing_more() -> None:
    """With two categories masked, neither can be had from the total: the shown ones stay shown."""
    cells, total = breakdown({"a": 10, "b": 7, "c": 2, "d": 1})
    assert texts(cells) == {"a": "10", "b": "7", "c": MASK, "d": MASK} and total.text == "20"


def test_the_smallest_shown_category_is_the_one_hidden_with_a_lone_masked_one() -> None:
    cells, _ = breakdown({"big": 30, "small": 6, "middle": 9, "tiny": 3})
    assert texts(cells) == {"big": "30", "small": MASK, "middle": "9", "tiny": MASK}
    # The values stay known to the code (a chart draws them as five), only their text is hidden.
    assert cells["small"].value == 6 and cells["small"].drawn == THRESHOLD


def test_a_masked_total_hides_every_category() -> None:
    cells, total = breakdown({"a": 2, "b": 0})
    assert texts(cells) == {"a": MASK, "b": MASK} and total.text == MASK


def test_beside_one_masked_category_the_only_shown_one_is_hidden_too() -> None:
    cells, total = breakdown({"a": 9, "b": 0})
    assert texts(cells) == {"a": MASK, "b": MASK} and total.text == "9"


@pytest.mark.parametrize(("part", "whole", "percent"), [(7, 9, 78), (5, 20, 25), (6, 7, 86), (20, 20, 100)])
def test_a_share_is_the_rounded_percentage_of_two_shown_counts(part: int, whole: int, percent: int) -> None:
    assert share(masked(part), masked(whole)) == percent


def test_no_share_where_either_count_is_masked() -> None:
    assert share(masked(4), masked(9)) is None
    assert share(masked(0), masked(4)) is None
    assert share(masked(5), Cell(value=40, masked=True)) is None


def test_a_cells_mask_cannot_be_lifted_once_the_rule_set_it() -> None:
    """Cells are handed from the rule to the page, the chart and the exports: none may unmask one."""
    cell = masked(3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cell.masked = False  # type: ignore[misc]
    assert cell.text == MASK
