"""`python -m bench.mutate` (`make mutate`): a mutation score for the code that keeps promises to people.

Each listed module is mutated by cosmic-ray, one mutant at a time, and only its own fast tests run
against each mutant (on SQLite: the PostgreSQL half adds time, not mutants killed). The work happens
in a copy of the tree, so an interrupted run leaves no mutant behind here. Prints, per module, the
mutants killed and the score, then each survivor's diff: a survivor is either killed by a new test
or named as equivalent in docs/benchmarks.md. Not part of CI: it takes minutes per module.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL = 90.0
TIMEOUT = 120.0
# The module, and the fast tests that are its own.
MODULES: dict[str, list[str]] = {
    "programme/eligibility.py": ["tests/programme/test_eligibility.py"],
    "programme/cycle.py": ["tests/console/test_programme_casework.py"],
    "outreach/windows.py": [
        "tests/outreach/test_reminder_retries.py::test_a_window_moves_a_time_out_of_the_quiet_hours_and_refuses_one_too_late"
    ],
    "programme/reminders.py": [
        "tests/outreach/test_reminder_schedule.py::test_a_reminder_due_in_quiet_hours_goes_out_before_they_begin_never_after"
    ],
}
# cosmic-ray also swaps the `|` of a type annotation for another operator; under `from __future__
# import annotations` (every module here) annotations are never evaluated: such mutants are equivalent.
OPERATOR = re.compile(r" (?:\||/|//|\^|<<|>>|\*\*|\*|%|\+|-|&|@) ")
SIGNATURE = re.compile(r"^\s*(?:async )?def |^\s*\w+: ")
SKIPPED = (".git", ".venv", "var", "test-artifacts", "node_modules", ".pytest_cache", ".ruff_cache")


@dataclass
class Score:
    module: str
    mutants: int
    killed: int
    survivors: list[str]
    equivalent: int = 0

    @property
    def percent(self) -> float:
        counted = self.mutants - self.equivalent
        return 100.0 * self.killed / counted if counted else 100.0


def run(command: list[str], cwd: Path) -> None:
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)  # noqa: S603 - our own tools


def mutate(module: str, tests: list[str], python: str) -> Score:
    with tempfile.TemporaryDirectory(prefix="intake-mutate-") as scratch:
        tree = Path(scratch) / "tree"
        shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(*SKIPPED), symlinks=True)
        test_command = [python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-k", "not postgresql"]
        config = Path(scratch) / "cosmic-ray.toml"
        config.write_text(
            "[cosmic-ray]\n"
            f"module-path = {json.dumps(module)}\n"
            f"timeout = {TIMEOUT}\n"
            "excluded-modules = []\n"
            f"test-command = {json.dumps(shlex.join([*test_command, *tests]))}\n"
            "[cosmic-ray.distributor]\n"
            'name = "local"\n'
        )
        session = Path(scratch) / "session.sqlite"
        cosmic_ray = str(Path(python).with_name("cosmic-ray"))
        run([cosmic_ray, "init", str(config), str(session)], tree)
        run([cosmic_ray, "exec", str(config), str(session)], tree)
        return read_session(module, session)


def read_session(module: str, session: Path) -> Score:
    """Killed: the tests failed or timed out on the mutant; a survivor's diff is kept to show."""
    with sqlite3.connect(session) as db:
        rows = db.execute("SELECT test_outcome, diff FROM work_results").fetchall()
    survived = [diff for outcome, diff in rows if str(outcome).lower() == "survived"]
    survivors = [diff for diff in survived if not in_annotation(diff)]
    killed = len(rows) - len(survived)
    return Score(module, len(rows), killed, survivors, equivalent=len(survived) - len(survivors))


def in_annotation(diff: str) -> bool:
    """Whether the mutant only changed the operator of a type annotation."""
    removed = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    if len(removed) != 1 or len(added) != 1 or not SIGNATURE.match(removed[0]):
        return False
    return " | " in removed[0] and OPERATOR.sub(" | ", added[0]) == removed[0]


def table(scores: list[Score]) -> str:
    lines = [
        "| module | mutants | equivalent (annotations) | killed | score | goal |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for score in scores:
        met = "met" if score.percent >= GOAL else "NOT met"
        counts = f"{score.mutants} | {score.equivalent} | {score.killed} | {score.percent:.0f}%"
        lines.append(f"| {score.module} | {counts} | ≥ {GOAL:.0f}%: {met} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="some of the listed modules (default: all)")
    args = parser.parse_args()
    unknown = [module for module in args.modules if module not in MODULES]
    if unknown:
        parser.error(f"not a listed module: {', '.join(unknown)} (listed: {', '.join(MODULES)})")
    scores = []
    for module in args.modules or list(MODULES):
        print(f"mutating {module} against {' '.join(MODULES[module])} …", flush=True)
        scores.append(mutate(module, MODULES[module], sys.executable))
        print(table(scores[-1:]).splitlines()[-1], flush=True)
    for score in scores:
        for diff in score.survivors:
            print(f"\nsurvived in {score.module}:\n{diff}")
    print()
    print(table(scores))


if __name__ == "__main__":
    main()
