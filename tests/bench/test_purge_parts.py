"""The retention purge part of `make bench` runs end to end at a small size, on each backend: the
paced crowd against `intake serve` beside N closed cases, expired (the worker purges them) and
not (it purges none), with table rows and their goal verdict. Timings are not asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import purge
from tests.conftest import BACKENDS

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", BACKENDS)]


async def test_the_paced_bot_beside_a_purge_and_without_one(backend: str, tmp_path: Path) -> None:
    baseline = await purge.run(backend, tmp_path, cases=40, users=3, think=0.2, purge=False)
    during = await purge.run(backend, tmp_path, cases=40, users=3, think=0.2, purge=True)

    assert baseline["erased"] == 0 and baseline["unfinished"] == 0
    # The worker started purging with the process; the crowd still got through its dialogs.
    assert 0 < during["erased"] <= 40 and during["unfinished"] == 0
    rows = purge.rows([baseline, during])
    assert [row[0] for row in rows] == [
        "P1 paced, intake serve, no purge",
        "P1 paced, intake serve, during the retention purge",
    ]
    assert all(row[1] == backend and row[-1].rsplit(": ", 1)[-1] in ("met", "NOT met") for row in rows)
