"""docs/benchmarks.md: a run rewrites only the generated table, replacing the rows it measured (by
part and database) and keeping the others, each stamped with when it was measured."""

from __future__ import annotations

from pathlib import Path

from bench import document


def _row(name: str, db: str, result: str) -> list[str]:
    return [name, db, "load", result, "goal"]


def test_a_partial_run_replaces_its_own_rows_and_keeps_the_text_around_the_table(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(f"# Benchmarks\n\nWritten by hand.\n\n{document.BEGIN}\n{document.END}\n\nAfter.\n")
    first = [
        _row("P1 echo bot (bare aiogram)", "-", "500 upd/s"),
        _row("P1 intake bot, polling, paced", "sqlite", "p99 90 ms"),
        _row("Sender: holding 25/s", "sqlite", "24.9/s | busiest 25"),
        _row("Sender: holding 25/s", "postgresql", "24.8/s"),
    ]
    document.write(first, "2 cores", document=page, measured="2026-12-06 16:08 UTC, 1ce75b7")

    # Only the sender, and only on SQLite (no PostgreSQL answered this time).
    document.write(
        [_row("Sender: holding 25/s", "sqlite", "25.0/s")], "4 cores", document=page, measured="later"
    )

    text = page.read_text()
    assert text.startswith("# Benchmarks\n\nWritten by hand.\n") and text.endswith("\nAfter.\n")
    assert "Machine of the latest run: 4 cores." in text
    assert [(row[0], row[1], row[3], row[5]) for row in document.parse(text)] == [
        ("P1 echo bot (bare aiogram)", "-", "500 upd/s", "2026-12-06 16:08 UTC, 1ce75b7"),
        ("P1 intake bot, polling, paced", "sqlite", "p99 90 ms", "2026-12-06 16:08 UTC, 1ce75b7"),
        ("Sender: holding 25/s", "postgresql", "24.8/s", "2026-12-06 16:08 UTC, 1ce75b7"),
        ("Sender: holding 25/s", "sqlite", "25.0/s", "later"),
    ]


def test_each_row_belongs_to_the_part_that_measures_it() -> None:
    assert document.part_of("P1 echo bot (bare aiogram)") == "p1"
    assert document.part_of("P1 intake bot, polling") == "p1"
    assert document.part_of("P1 intake bot, polling, paced") == "paced"
    assert document.part_of("P1 intake bot, polling, paced, flood limit 20/10s, one chat flooding") == "flood"
    assert document.part_of("P1 intake bot, webhook, paced") == "webhook"
    assert document.part_of("P4 query plans: full scans") == "p4"
    assert document.part_of("Campaign expansion into the outbox") == "campaign"


def test_a_page_without_the_markers_gets_the_table_at_its_end(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n")
    document.write(
        [_row("Memory: intake bot RSS", "sqlite", "idle 120 MiB")], "2 cores", document=page, measured="now"
    )
    assert [row[0] for row in document.parse(page.read_text())] == ["Memory: intake bot RSS"]
    assert document.parse("no table") == []


def test_the_repository_page_holds_one_generated_table() -> None:
    text = document.DOCUMENT.read_text()
    assert text.count(document.BEGIN) == 1 and text.count(document.END) == 1
    assert document.parse(text), "docs/benchmarks.md has no rows"


def test_the_dialog_rows_of_a_run_fall_into_the_parts_that_ran_them() -> None:
    from bench.__main__ import table_rows
    from bench.p1 import P1Result

    def result(bot: str, mode: str, backend: str | None, think: float) -> P1Result:
        return P1Result(
            bot=bot, mode=mode, backend=backend, users=100, think=think, updates=900, seconds=3.0,
            updates_per_s=300.0, steady_per_s=100.0, p50_ms=10.0, p99_ms=90.0, bot_cpu_ms_per_update=3.0,
            sandbox_cpu_ms_per_update=2.0, bot_peak_mib=120.0, unfinished=0, nudges=0,
        )  # fmt: skip

    report = {
        "p1": [
            result("echo", "polling", None, 0.0),
            result("intake", "polling", "sqlite", 0.0),
            result("intake", "webhook", "postgresql", 0.0),
            result("intake", "webhook", "postgresql", 1.0),
            result("intake", "polling", "sqlite", 1.0),
        ],
        "p4": [],
        "outreach": [],
    }
    rows = table_rows(report)
    assert [(document.part_of(row[0]), row[1]) for row in rows] == [
        ("p1", "-"),
        ("p1", "sqlite"),
        ("webhook", "postgresql"),
        ("webhook", "postgresql"),
        ("paced", "sqlite"),
    ]
    assert rows[1][4] == "≥ 60% of echo: met" and rows[4][4] == "p99 < 100 ms: met"
    assert rows[4][3].startswith("100 upd/s while all are under way")
