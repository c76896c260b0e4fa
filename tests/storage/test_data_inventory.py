"""docs/DATA-PROTECTION.md keeps a section for every table and a row for every column, each table
saying who reads it, how long it is kept and how it is erased; nothing it names may be stale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storage.schema import Base

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "DATA-PROTECTION.md"
SECTION = re.compile(r"^### `(?P<table>\w+)`\n(?P<body>.*?)(?=^### |\Z)", re.MULTILINE | re.DOTALL)
COLUMN_ROW = re.compile(r"^\| (?P<names>`[^|]+`) \|", re.MULTILINE)
NAME = re.compile(r"`(\w+)`")
DUTIES = ("**Who reads:**", "**Kept:**", "**Erased:**")


def inventory(text: str) -> dict[str, tuple[str, set[str]]]:
    """Table → (its section's text, the column names its column table lists)."""
    sections = {}
    for match in SECTION.finditer(text):
        body = match["body"]
        columns = {name for row in COLUMN_ROW.finditer(body) for name in NAME.findall(row["names"])}
        sections[match["table"]] = (body, columns)
    return sections


@pytest.fixture(scope="module")
def documented() -> dict[str, tuple[str, set[str]]]:
    return inventory(DOCUMENT.read_text(encoding="utf-8"))


def test_every_table_has_a_section_and_every_section_a_table(documented: dict) -> None:
    tables = set(Base.metadata.tables)
    assert sorted(tables - set(documented)) == [], "tables missing from docs/DATA-PROTECTION.md"
    assert sorted(set(documented) - tables) == [], "sections for tables that no longer exist"


def test_every_column_is_in_its_tables_inventory(documented: dict) -> None:
    missing, stale = [], []
    for name, table in Base.metadata.tables.items():
        _, listed = documented.get(name, ("", set()))
        columns = {column.name for column in table.columns}
        missing += [f"{name}.{column}" for column in sorted(columns - listed)]
        stale += [f"{name}.{column}" for column in sorted(listed - columns)]
    assert missing == [], "columns missing from docs/DATA-PROTECTION.md"
    assert stale == [], "columns the inventory names that no longer exist"


def test_every_table_says_who_reads_it_how_long_it_is_kept_and_how_it_is_erased(documented: dict) -> None:
    lacking = [
        f"{name}: {duty}" for name, (body, _) in documented.items() for duty in DUTIES if duty not in body
    ]
    assert lacking == []


def protection(body: str, column: str) -> str:
    """The last cell of the row that names `column` ("" when there is none)."""
    row = re.search(rf"^\|[^\n]*`{column}`[^\n]*$", body, re.MULTILINE)
    return "" if row is None else row.group(0).rsplit("|", 2)[-2].strip()


def test_every_sealed_column_is_marked_sealed_and_every_lookup_hash_hash(documented: dict) -> None:
    unmarked = []
    for mapper in Base.registry.mappers:
        model = mapper.class_
        body, _ = documented.get(model.__tablename__, ("", set()))
        unmarked += [
            f"{model.__tablename__}.{column}"
            for column in model.__encrypted__
            if protection(body, column) != "sealed"
        ]
        unmarked += [
            f"{model.__tablename__}.{column}"
            for column in model.__blind_indexes__
            if protection(body, column) != "hash"
        ]
    assert unmarked == []


def test_the_parser_finds_what_a_missing_row_would_lose() -> None:
    # The check above reads rows with this parser: a table whose row for `name_enc` is gone must
    # be seen without it, or the inventory could lose a column unnoticed.
    text = DOCUMENT.read_text(encoding="utf-8")
    without = re.sub(r"^\| `name_enc` \|.*\n", "", text, flags=re.MULTILINE)
    assert "name_enc" in inventory(text)["beneficiaries"][1]
    assert "name_enc" not in inventory(without)["beneficiaries"][1]
