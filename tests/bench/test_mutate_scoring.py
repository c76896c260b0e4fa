"""make mutate's counting: the lines a restricted module is mutated in, and a score that leaves out
the mutants the line filter skipped and those that only change an annotation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bench import mutate
from bench.equivalents import EQUIVALENT, Equivalent

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


def cosmic_ray_session(tmp_path: Path, results: list[tuple[str, str | None, str | None, str]]) -> Path:
    """A session file as cosmic-ray leaves it: (worker outcome, test outcome, diff, job) a mutant."""
    session = tmp_path / "session.sqlite"
    with sqlite3.connect(session) as db:
        db.execute(
            "CREATE TABLE work_results (worker_outcome TEXT, test_outcome TEXT, diff TEXT, job_id TEXT)"
        )
        db.executemany("INSERT INTO work_results VALUES (?, ?, ?, ?)", results)
    return session


def test_skipped_mutants_are_not_counted_and_annotation_ones_are_equivalent(tmp_path: Path) -> None:
    session = cosmic_ray_session(
        tmp_path,
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


def survivor(line: int, before: str, after: str) -> str:
    """A mutant's diff as cosmic-ray writes it: the changed line with a line of context each side."""
    return f"--- a/m.py\n+++ b/m.py\n@@ -{line - 1},3 +{line - 1},3 @@\n context\n-{before}\n+{after}\n context\n"


NAMED = Equivalent("Sender.decide", "return y > 2", "return y >= 2", "why")


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """SOURCE as a module `m.py`, with one of its mutants named equivalent."""
    written = tmp_path / "m.py"
    written.write_text(SOURCE)
    monkeypatch.setattr(mutate, "EQUIVALENT", {"m.py": (NAMED,)})
    return written


def test_a_survivor_named_equivalent_in_its_function_is_left_out_of_the_score_and_no_other(
    tmp_path: Path, module: Path
) -> None:
    named = NAMED
    equivalent = survivor(8, "        return y > 2", "        return y >= 2")
    other_change = survivor(8, "        return y > 2", "        return y < 2")
    elsewhere = survivor(2, "    return y > 2", "    return y >= 2")  # the same change in `free`
    session = cosmic_ray_session(
        tmp_path,
        [
            ("NORMAL", "KILLED", CODE, "1"),
            ("NORMAL", "SURVIVED", equivalent, "2"),
            ("NORMAL", "SURVIVED", other_change, "3"),
            ("NORMAL", "SURVIVED", elsewhere, "4"),
            ("NORMAL", "SURVIVED", ANNOTATION, "5"),
        ],
    )
    score = mutate.read_session("m.py", session, module)
    assert score.named == [named]
    assert score.survivors == [other_change, elsewhere]
    assert (score.mutants, score.killed, score.equivalent) == (5, 1, 1)
    assert round(score.percent) == 33  # one killed of the three not equivalent


def test_a_changed_line_is_numbered_from_its_hunk() -> None:
    change = mutate.changed_line(survivor(8, "        return y > 2", "        return y >= 2"))
    assert change == mutate.Change(8, "        return y > 2", "        return y >= 2")
    assert mutate.changed_line("--- a/m.py\n+++ b/m.py\n@@ -3,2 +3,2 @@\n-a\n-b\n+c\n+d\n") is None


@pytest.mark.parametrize(
    ("module", "entry"),
    [(module, entry) for module, entries in EQUIVALENT.items() for entry in entries],
    ids=lambda value: value if isinstance(value, str) else f"{value.within}: {value.after}",
)
def test_every_named_equivalent_is_a_line_of_what_it_names(module: str, entry: Equivalent) -> None:
    """An entry whose line has changed matches no survivor: it goes, or is written again."""
    assert module in mutate.MODULES
    path = mutate.ROOT / module
    [(first, last)] = mutate.line_ranges(path, (entry.within,))
    lines = path.read_text(encoding="utf-8").splitlines()[first - 1 : last]
    assert entry.before in (line.strip() for line in lines)
    assert entry.after != entry.before and entry.why


def test_a_named_equivalent_matches_its_mutant_however_cosmic_ray_spaces_it(module: Path) -> None:
    named = NAMED
    spaced = survivor(8, "        return y > 2", "        return y  >=  2")
    assert mutate.named_equivalent("m.py", spaced, module) == named
    assert (
        mutate.named_equivalent("m.py", survivor(8, "        return y > 2", "        return y>2 "), module)
        is None
    )
