"""The keys part of `make bench` runs end to end at a small size, on each backend: rotation with
per-person keys rewrites one key a person (and their lookup hash), with values under the master key
every value; the update's sealed work in both. Timings are not asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import keys
from tests.conftest import BACKENDS

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", BACKENDS)]


async def test_rotation_and_the_update_side_by_side(backend: str, tmp_path: Path) -> None:
    result = await keys.run(backend, tmp_path, people=12)
    # Per-person: 12 keys rewrapped, 12 lookup hashes; under the master key: the 3 values of each
    # person's own row, their answer and dialog moved, and their hash (12 rows in each of 3 tables).
    assert result["person"]["rows_rewritten"] == 24
    assert result["master"]["rows_rewritten"] == 36
    assert result["person"]["cpu_ms_per_update"] > 0 and result["person"]["cpu_ms_per_first_update"] > 0
    rows = keys.rows([result])
    assert [row[0] for row in rows] == ["Keys: intake rotate-keys", "Keys: sealed work of one update, CPU"]
    assert all(row[1] == backend for row in rows)
