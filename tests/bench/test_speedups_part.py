"""The speed patches' part of `make bench` runs at a small size and gives one row per patch, stock
beside patched, with a verdict against the 10% a patch must bring. Timings are not asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import document, speedups

pytestmark = pytest.mark.slow


async def test_each_patch_is_measured_beside_the_stock_library(tmp_path: Path) -> None:
    results = [
        await speedups.filter_checks(rounds=1, updates=5),
        *await speedups.one_trip(tmp_path, rounds=1, transactions=20),
        await speedups.turns(tmp_path, rounds=1, writers=4, each=3),
    ]
    rows = speedups.rows(results)

    assert [row[0] for row in rows] == [
        "Speed patch: filters",
        "Speed patch: sqlite_one_trip",
        "Speed patch: sqlite_one_trip, inline",
        "Speed patch: sqlite_turns",
    ]
    assert all(row[-1].rsplit(": ", 1)[-1] in ("met", "NOT met") for row in rows)
    assert {document.part_of(row[0]) for row in rows} == {"speedups"}
