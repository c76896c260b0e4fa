"""`python -m bench.mutate` (`make mutate`): a mutation score for the code that keeps promises to people.

Each listed module is mutated by cosmic-ray, one mutant at a time, and only its own fast tests run
against each mutant (on SQLite: the PostgreSQL half adds time, not mutants killed). The work happens
in a copy of the tree, so an interrupted run leaves no mutant behind here. Prints, per module, the
mutants killed and the score, then each survivor's diff: a survivor is either killed by a new test
or named as equivalent in docs/benchmarks.md. Not part of CI: it takes minutes per module.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.equivalents import EQUIVALENT, Equivalent
from bench.warm import AUTOLOAD, CLIENT, PLUGINS
from sandbox.spec import SPEC_ENV_VAR, default_spec_path

ROOT = Path(__file__).resolve().parents[1]
GOAL = 90.0
# A mutant's tests count as hung (killed, as cosmic-ray counts a timeout) past five times what they
# took on the unmutated copy (imports included), within these bounds: a mutant that loops for ever
# costs seconds, not minutes, where the tests are fast.
TIMEOUT, MIN_TIMEOUT, SLOWER = 120.0, 30.0, 5
WARM = ROOT / "bench" / "warm.py"


@dataclass(frozen=True)
class Target:
    """The fast tests that are a module's own and, when the promise is kept by part of a larger
    module, the functions, classes or `Class.method`s that keep it: only their lines are mutated
    (cosmic-ray's line filter skips the rest)."""

    tests: list[str]
    only: tuple[str, ...] = field(default=())


# The module, and the fast tests that are its own.
MODULES: dict[str, Target] = {
    "programme/eligibility.py": Target(["tests/programme/test_eligibility.py"]),
    "programme/cycle.py": Target(["tests/console/test_programme_casework.py"]),
    # When a broadcast or a reminder may go: the window itself, not the query that reads it.
    "outreach/windows.py": Target(
        [
            "tests/outreach/test_reminder_retries.py::test_a_window_moves_a_time_out_of_the_quiet_hours_and_refuses_one_too_late",
            "tests/outreach/test_reminder_retries.py::test_reminder_quiet_hours_as_seconds_after_midnight",
            "tests/outreach/test_reminder_retries.py::test_a_window_cannot_be_changed_in_place",
        ],
        only=("Window", "seconds_quiet"),
    ),
    # Quiet hours in office time: when a broadcast may go, and a campaign's spread around them.
    "outreach/campaigns.py": Target(
        [
            f"tests/outreach/test_campaigns.py::{name}"
            for name in (
                "test_a_time_in_the_quiet_hours_moves_to_their_end_and_others_stay",
                "test_in_the_hour_the_clocks_go_back_the_quiet_hours_end_after_the_moment_asked_about",
                "test_the_spread_counts_sending_time_only_and_never_lands_in_quiet_hours",
                "test_a_spread_over_the_nights_the_clocks_change_never_lands_in_quiet_hours",
                "test_quiet_hours_that_end_where_they_begin_hold_no_time_and_cannot_be_changed",
            )
        ],
        only=(
            "QuietHours",
            "_local_at",
            "next_allowed",
            "_next_quiet_start",
            "_first_after",
            "_clock_change",
            "Timeline",
        ),
    ),
    # The sender's decision, per claimed message, to send it now, put it back, or drop it.
    "outreach/sender.py": Target(
        [
            "tests/outreach/test_reminder_retries.py",
            "tests/outreach/test_campaign_timing.py::test_a_row_back_for_a_retry_after_a_pause_waits_with_its_campaign_and_after_a_cancel_is_cancelled",
            "tests/outreach/test_sender.py::test_one_chat_never_gets_two_messages_within_a_second",
            "tests/outreach/test_sender_decisions.py",
        ],
        only=("Sender._sort_out", "Sender._stopped", "Sender._in_window", "Sender._retry", "Sender._drop"),
    ),
    "programme/reminders.py": Target(
        [
            "tests/programme/test_reminder_rules.py",
            "tests/outreach/test_reminder_schedule.py::test_the_default_reminders_are_24_and_2_hours_before",
            "tests/outreach/test_reminder_schedule.py::test_a_reminder_due_in_quiet_hours_goes_out_before_they_begin_never_after",
            "tests/outreach/test_reminder_schedule.py::test_a_reminder_whose_time_passed_at_booking_is_not_scheduled",
            "tests/outreach/test_reminder_schedule.py::test_offsets_and_quiet_hours_are_read_from_their_settings",
            "tests/outreach/test_reminder_schedule.py::test_a_no_show_is_followed_up_within_seven_days_of_the_appointment_and_not_after",
        ]
    ),
    # Erasure: the deletes that find a person's rows (their key first), the tombstones, the audit
    # entries, and erasing again after a restore. Not the erasure requests' queries.
    "storage/erasure.py": Target(
        [
            "tests/storage/test_erasure_coverage.py",
            "tests/storage/test_erasure_scope.py",
            "tests/storage/test_erasure_ledger.py",
            "tests/storage/test_person_keys.py",
            "tests/console/test_console_erasure.py",
        ],
        only=(
            "People",
            "_people",
            "_by_case",
            "_by_appointment",
            "_by_beneficiary",
            "_by_hash",
            "_exports_since",
            "erase_person",
            "erase_people",
            "_find",
            "_closed_at",
            "clear_logs_if_erased",
            "has_erased_anyone",
            "reapply",
        ),
    ),
    # Key rotation: every sealed value and lookup hash under the newest key, people's keys rewrapped.
    "storage/rotation.py": Target(
        [
            "tests/storage/test_rotation.py",
            "tests/storage/test_person_keys.py",
            "tests/storage/test_key_check.py",
        ]
    ),
    # Consent checks: which consent is current, a new one superseding it (and a withdrawal undone
    # only by consent given anew), whether it allows case work, and the plan's access under it.
    "storage/journey.py": Target(
        [
            "tests/storage/test_consent_records.py",
            "tests/console/test_console_consent.py",
            "tests/bot/test_withdrawal.py",
        ],
        only=("current_consent", "record_consent"),
    ),
    "storage/casework.py": Target(
        ["tests/storage/test_consent_records.py", "tests/console/test_console_consent.py"],
        only=("has_casework_consent",),
    ),
    "caseworker_console/viewmodels/plan.py": Target(
        ["tests/console/test_console_viewmodels_plan.py"], only=("needs_consent", "access_of")
    ),
    # The consent text a record's version and hash are taken from.
    "programme/consent.py": Target(
        ["tests/bot/test_consent_text.py"], only=("period", "data_protection", "rendered", "text_hash")
    ),
    # The dialog token check: a button's data, and which token is live.
    "wording/taps.py": Target(["tests/bot/test_taps.py"]),
    "bot/conversation.py": Target(
        [
            "tests/bot/test_taps.py",
            "tests/bot/test_screening.py::test_forged_and_stale_buttons_change_nothing",
            "tests/bot/test_screening.py::test_an_earlier_questions_genuine_buttons_and_a_double_tap_answer_once",
        ],
        only=("FreshTap", "Conversation.buttons", "Conversation.spend_buttons", "keyboard"),
    ),
    # The small-cell rule.
    "programme/figures.py": Target(
        [
            "tests/console/test_console_figures.py::test_the_small_cell_rule",
            "tests/console/test_console_viewmodels_figures.py",
            "tests/programme/test_small_cell_rule.py",
        ],
        only=("Cell", "masked", "breakdown", "share", "neutralised"),
    ),
}
# cosmic-ray also swaps the `|` of a type annotation for another operator; under `from __future__
# import annotations` (every module here) annotations are never evaluated: such mutants are equivalent.
OPERATOR = re.compile(r" (?:\||/|//|\^|<<|>>|\*\*|\*|%|\+|-|&|@) ")
SIGNATURE = re.compile(r"^\s*(?:async )?def |^\s*\w+: |^\s*\) -> ")
HUNK = re.compile(r"^@@ -(\d+)")
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
SKIPPED = (".git", ".venv", "var", "test-artifacts", "node_modules", ".pytest_cache", ".ruff_cache")


@dataclass
class Score:
    module: str
    mutants: int
    killed: int
    survivors: list[str]
    equivalent: int = 0  # annotations
    named: list[Equivalent] = field(default_factory=list)  # survivors bench/equivalents.py names
    seconds: float = 0.0

    @property
    def percent(self) -> float:
        counted = self.mutants - self.equivalent - len(self.named)
        return 100.0 * self.killed / counted if counted else 100.0


@dataclass(frozen=True)
class Change:
    """A mutant's one changed line: its number in the module, as it was and as the mutant has it."""

    line: int
    before: str
    after: str


def run(command: list[str], cwd: Path) -> None:
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)  # noqa: S603 - our own tools


def mutate(module: str, target: Target, python: str, *, warm: bool = True) -> Score:
    with tempfile.TemporaryDirectory(prefix="intake-mutate-") as scratch:
        tree = Path(scratch) / "tree"
        shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(*SKIPPED), symlinks=True)
        pytest_args = ["-x", "-q", "-p", "no:cacheprovider", *PLUGINS, "-k", "not postgresql", *target.tests]
        imported = Path(scratch) / "imported.json"
        # The tests once on the unmutated copy (recording, for the warm runner, what they import),
        # writing the bytecode of the copy's modules and pytest's of its tests as they are: each
        # mutant's run then compiles only the mutated module (newer than its bytecode) and writes
        # nothing, as cosmic-ray asks.
        writing = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
        probed = time.monotonic()
        baseline = subprocess.run(  # noqa: S603 - our own tools
            [python, str(WARM), "probe", str(imported), "--", *pytest_args],
            cwd=tree,
            env=writing,
            capture_output=True,
            text=True,
            check=False,
        )
        if baseline.returncode != 0:
            # Every mutant would count as killed: no score rather than a false one.
            raise RuntimeError(f"{module}'s tests fail on the unmutated copy:\n{baseline.stdout[-3000:]}")
        timeout = min(TIMEOUT, max(MIN_TIMEOUT, SLOWER * (time.monotonic() - probed)))
        with contextlib.ExitStack() as stack:
            if warm:
                listening = Path(scratch) / "warm.sock"
                stack.enter_context(warm_runner(python, listening, tree, imported, timeout - 10))
                test_command = [python, "-c", CLIENT, str(listening), *pytest_args]
            else:
                test_command = [python, "-m", "pytest", *pytest_args]
            config = Path(scratch) / "cosmic-ray.toml"
            text = (
                "[cosmic-ray]\n"
                f"module-path = {json.dumps(module)}\n"
                f"timeout = {timeout}\n"
                "excluded-modules = []\n"
                f"test-command = {json.dumps(shlex.join(test_command))}\n"
                "[cosmic-ray.distributor]\n"
                'name = "local"\n'
            )
            if target.only:
                ranges = [f"{first}-{last}" for first, last in line_ranges(ROOT / module, target.only)]
                lines = f"{{ {json.dumps(module)} = {json.dumps(ranges)} }}"
                text += f"[cosmic-ray.filters.line-filter]\nlines = {lines}\n"
            config.write_text(text)
            session = Path(scratch) / "session.sqlite"
            tools = Path(python).parent
            run([str(tools / "cosmic-ray"), "init", str(config), str(session)], tree)
            if target.only:
                run([str(tools / "cr-filter-lines"), "--config", str(config), str(session)], tree)
            started = time.monotonic()
            run([str(tools / "cosmic-ray"), "exec", str(config), str(session)], tree)
            score = read_session(module, session, tree / module)
            score.seconds = time.monotonic() - started
            return score


@contextlib.contextmanager
def warm_runner(python: str, listening: Path, tree: Path, imported: Path, timeout: float) -> Iterator[None]:
    """bench/warm.py serving on `listening` until the block ends; its `timeout` is shorter than
    cosmic-ray's, so a hung mutant's child is killed by it and counted as killed."""
    server = subprocess.Popen(  # noqa: S603 - our own tools
        [python, str(WARM), "serve", str(listening), str(tree), str(imported), str(timeout)],
        cwd=tree,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready = server.stdout.readline() if server.stdout else ""
        if "listening" not in ready:
            raise RuntimeError(f"the warm runner did not start: {ready or server.wait()}")
        yield
    finally:
        server.terminate()
        server.communicate()


def line_ranges(path: Path, names: tuple[str, ...]) -> list[tuple[int, int]]:
    """The lines (decorators included) of each named function, class or `Class.method` in `path`."""
    module = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, int]] = []
    for name in names:
        scope: list[ast.stmt] = module.body
        for part in name.split("."):
            named = [node for node in scope if isinstance(node, DEFINITIONS) and node.name == part]
            if not named:
                raise ValueError(f"{path.name} has no {name}")
            node = named[0]
            scope = node.body
        first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
        found.append((first, node.end_lineno or node.lineno))
    return found


def read_session(module: str, session: Path, source: Path | None = None) -> Score:
    """Killed: the tests failed or timed out on the mutant; a survivor's diff is kept to show,
    unless it only changes an annotation or bench/equivalents.py names it (`source`: the module as
    mutated). A mutant outside the lines a module is restricted to was skipped and is not counted."""
    with sqlite3.connect(session) as db:
        rows = db.execute("SELECT worker_outcome, test_outcome, diff FROM work_results").fetchall()
    rows = [(test, diff) for worker, test, diff in rows if str(worker).lower() != "skipped"]
    survived = [diff for outcome, diff in rows if str(outcome).lower() == "survived"]
    unexplained = [diff for diff in survived if not in_annotation(diff)]
    named = {
        diff: entry
        for diff in unexplained
        if (entry := named_equivalent(module, diff, source or ROOT / module))
    }
    return Score(
        module,
        len(rows),
        len(rows) - len(survived),
        [diff for diff in unexplained if diff not in named],
        equivalent=len(survived) - len(unexplained),
        named=list(named.values()),
    )


def changed_line(diff: str) -> Change | None:
    """The line a mutant changed, if it changed exactly one."""
    line, found = 0, []
    for text in diff.splitlines():
        if hunk := HUNK.match(text):
            line = int(hunk.group(1))
        elif text.startswith(("---", "+++")):
            continue
        elif text.startswith("-"):
            found.append(("-", line, text[1:]))
            line += 1
        elif text.startswith("+"):
            found.append(("+", line, text[1:]))
        elif text.startswith(" "):
            line += 1
    if [sign for sign, _, _ in found] != ["-", "+"]:
        return None
    (_, number, before), (_, _, after) = found
    return Change(number, before, after)


def in_annotation(diff: str) -> bool:
    """Whether the mutant only changed the operator of a type annotation."""
    change = changed_line(diff)
    if change is None or not SIGNATURE.match(change.before):
        return False
    return " | " in change.before and OPERATOR.sub(" | ", change.after) == change.before


def _bare(line: str) -> str:
    """A line without its spaces: cosmic-ray writes `rows[- 2]` and `token_urlsafe( 7)`."""
    return "".join(line.split())


def named_equivalent(module: str, diff: str, source: Path) -> Equivalent | None:
    """The entry of bench/equivalents.py that names this survivor: the same change of the same
    line, inside the function or class it names."""
    change = changed_line(diff)
    if change is None:
        return None
    for entry in EQUIVALENT.get(module, ()):
        if (_bare(entry.before), _bare(entry.after)) != (_bare(change.before), _bare(change.after)):
            continue
        with contextlib.suppress(ValueError):  # it names what the module no longer has: no match
            [(first, last)] = line_ranges(source, (entry.within,))
            if first <= change.line <= last:
                return entry
    return None


def table(scores: list[Score]) -> str:
    lines = [
        "| module | mutants | equivalent (annotations + named) | killed | score | goal |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for score in scores:
        met = "met" if score.percent >= GOAL else "NOT met"
        equivalent = f"{score.equivalent} + {len(score.named)}"
        counts = f"{score.mutants} | {equivalent} | {score.killed} | {score.percent:.0f}%"
        lines.append(f"| {score.module} | {counts} | ≥ {GOAL:.0f}%: {met} |")
    return "\n".join(lines)


def main() -> None:
    # The copy is made outside this checkout, where the sandbox cannot find the Bot API description
    # in a `shared/` above it: it is named here, for the bot's tests.
    with contextlib.suppress(FileNotFoundError):  # without it, only the bot's tests fail (a baseline)
        os.environ.setdefault(SPEC_ENV_VAR, str(default_spec_path()))
    os.environ.update(AUTOLOAD)  # for every pytest run here, the baseline's, the server's and cosmic-ray's
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="some of the listed modules (default: all)")
    parser.add_argument(
        "--cold", action="store_true", help="a fresh `python -m pytest` per mutant instead of the warm runner"
    )
    args = parser.parse_args()
    unknown = [module for module in args.modules if module not in MODULES]
    if unknown:
        parser.error(f"not a listed module: {', '.join(unknown)} (listed: {', '.join(MODULES)})")
    scores = []
    for module in args.modules or list(MODULES):
        target = MODULES[module]
        lines = f" ({', '.join(target.only)} only)" if target.only else ""
        print(f"mutating {module}{lines} against {' '.join(target.tests)} …", flush=True)
        scores.append(mutate(module, target, sys.executable, warm=not args.cold))
        print(table(scores[-1:]).splitlines()[-1], flush=True)
        each = scores[-1].seconds / max(scores[-1].mutants, 1)
        print(f"{scores[-1].seconds:.0f} s for the mutants, {each:.1f} s each", flush=True)
    for score in scores:
        for diff in score.survivors:
            print(f"\nsurvived in {score.module}:\n{diff}")
    for score in scores:
        print(f"\nequivalent in {score.module}, as bench/equivalents.py names them:")
        for entry in score.named:
            print(f"  in {entry.within}: {entry.before}  →  {entry.after}\n    {entry.why}")
        # An entry no survivor matched: a test kills it now (it was not equivalent) or its line changed.
        for entry in sorted(set(EQUIVALENT.get(score.module, ())) - set(score.named), key=str):
            print(f"  named, but no survivor matched it: in {entry.within}: {entry.before}  →  {entry.after}")
    print()
    print(table(scores))


if __name__ == "__main__":
    main()
