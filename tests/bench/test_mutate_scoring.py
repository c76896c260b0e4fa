"""make mutate's counting: the lines a restricted module is mutated in, and a score that leaves out
the mutants the line filter skipped and those that only change an annotation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bench import mutate

SOURCE = """\
def free(x: int | None) -> int:
    return 1


class Sender:
    @staticmethod
    def decide(y: int) -> bool:
        return y > 2

    def other(self) -> None:
        pass
"""


def test_only_the_named_functions_and_methods_are_mutated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mutate, "ROOT", tmp_path)
    module = tmp_path / "module.py"
    module.write_text(SOURCE)
    assert mutate.line_ranges(module, ("free", "Sender.decide")) == [(1, 2), (6, 8)]
    with pytest.raises(ValueError, match=r"has no Sender\.send"):
        mutate.line_ranges(module, ("Sender.send",))


def test_every_listed_restriction_names_what_its_module_has() -> None:
    for module, target in mutate.MODULES.items():
        assert (mutate.ROOT / module).is_file(), module
        assert len(mutate.line_ranges(mutate.ROOT / module, target.only)) == len(target.only)
        for test in target.tests:
            assert (mutate.ROOT / test.partition("::")[0]).is_file(), test


ANNOTATION = (
    "--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-def f(x: int | None) -> int:\n+def f(x: int ^ None) -> int:\n"
)
CODE = "--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-    return y > 2\n+    return y >= 2\n"


def test_skipped_mutants_are_not_counted_and_annotation_ones_are_equivalent(tmp_path: Path) -> None:
    session = tmp_path / "session.sqlite"
    with sqlite3.connect(session) as db:
        db.execute(
            "CREATE TABLE work_results (worker_outcome TEXT, test_outcome TEXT, diff TEXT, job_id TEXT)"
        )
        db.executemany(
            "INSERT INTO work_results VALUES (?, ?, ?, ?)",
            [
                ("NORMAL", "KILLED", CODE, "1"),
                ("NORMAL", "KILLED", CODE, "2"),
                ("NORMAL", "SURVIVED", CODE, "3"),
                ("NORMAL", "SURVIVED", ANNOTATION, "4"),
                ("SKIPPED", None, None, "5"),
                ("SKIPPED", None, None, "6"),
            ],
        )
    score = mutate.read_session("m.py", session)
    assert (score.mutants, score.killed, score.equivalent, score.survivors) == (4, 2, 1, [CODE])
    assert round(score.percent) == 67
