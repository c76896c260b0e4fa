"""The table of current figures in docs/benchmarks.md: `python -m bench` rewrites it after each run.

Only the text between the two markers is generated; the rest of the page is written by hand. A run
replaces the rows it measured, by part (`--only`) and database, and keeps the others, so
`make bench BENCH_ARGS="--only sender"` refreshes the sender's rows and leaves the dialog rows as they
were. Each row says when and at which commit it was measured: the page holds today's figures, one
table, and their history is in git log.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterable
from pathlib import Path

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
BEGIN = "<!-- bench: the table below is written by `python -m bench`; edit the text around it -->"
END = "<!-- bench: end of the table -->"
HEADER = ["benchmark", "db", "load", "result", "goal", "measured"]

# A row's part (the name `--only` knows it by), read from the start of its benchmark's name.
_PARTS = (
    ("P1 intake bot, webhook", "webhook"),
    ("P1 intake bot, polling, paced, flood limit", "flood"),
    ("P1 paced, intake serve", "purge"),
    ("P1 intake bot, polling, paced", "paced"),
    ("P1 ", "p1"),
    ("P4 ", "p4"),
    ("Start-up", "startup"),
    ("Memory", "memory"),
    ("Sender", "sender"),
    ("Restart", "restart"),
    ("Campaign", "campaign"),
    ("Reminders", "reminders"),
    ("Keys", "keys"),
    ("Speed patch", "speedups"),
)
# The order the parts run in, which is the table's.
ORDER = (
    "p1",
    "webhook",
    "paced",
    "flood",
    "p4",
    "startup",
    "memory",
    "sender",
    "restart",
    "campaign",
    "reminders",
    "purge",
    "keys",
    "speedups",
)


def part_of(benchmark: str) -> str:
    """The part of `python -m bench` that measures the row named `benchmark`."""
    for prefix, part in _PARTS:
        if benchmark.startswith(prefix):
            return part
    return benchmark


def stamp(now: dt.datetime | None = None) -> str:
    """When and at which commit a row was measured: `2026-12-06 16:08 UTC, 1ce75b7`."""
    when = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, as a developer runs it
            cwd=DOCUMENT.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return when
    return f"{when}, {commit}"


def merged(old: Iterable[list[str]], new: Iterable[list[str]], measured: str) -> list[list[str]]:
    """The old rows whose (part, db) this run did not measure, then this run's rows, stamped."""
    fresh = [[*row, measured] for row in new]
    replaced = {(part_of(row[0]), row[1]) for row in fresh}
    kept = [row for row in old if (part_of(row[0]), row[1]) not in replaced]
    order = {part: index for index, part in enumerate(ORDER)}
    return sorted([*kept, *fresh], key=lambda row: order.get(part_of(row[0]), len(order)))


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def markdown(rows: list[list[str]], machine: str) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_escape(cell) for cell in row) + " |" for row in rows]
    return "\n".join([*lines, "", f"Machine of the latest run: {machine}."])


def parse(text: str) -> list[list[str]]:
    """The rows of the generated table in `text` (none when it has no table yet)."""
    if BEGIN not in text or END not in text:
        return []
    inside = text.split(BEGIN, 1)[1].split(END, 1)[0]
    rows = []
    for line in inside.splitlines():
        if not line.startswith("| ") or line.startswith("| " + HEADER[0] + " |"):
            continue
        cells = [cell.strip().replace("\\|", "|") for cell in line.strip().strip("|").split(" | ")]
        if len(cells) == len(HEADER):
            rows.append(cells)
    return rows


def write(
    rows: list[list[str]], machine: str, *, document: Path = DOCUMENT, measured: str | None = None
) -> None:
    """Put this run's rows into the document's table, keeping the rows it did not measure."""
    text = document.read_text() if document.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = f"{text.rstrip()}\n\n{BEGIN}\n{END}\n"
    table = markdown(merged(parse(text), rows, measured or stamp()), machine)
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    document.write_text(f"{before}{BEGIN}\n{table}\n{END}{after}")
