"""Every table is declared in storage.erasure's registry, and a table that can hold someone's data
(a foreign-key path to a beneficiary or a case, a sealed column, a chat or Telegram hash) is erased
or kept with a reason: a table added later without erasure fails here."""

from __future__ import annotations

from sqlalchemy import Table

from storage.erasure import COVERAGE, ERASURE, Cover
from storage.schema import ENCRYPTED_MODELS, Base

PEOPLE = {"beneficiaries", "cases"}


def reaches_a_person(table: Table, seen: frozenset[str] = frozenset()) -> bool:
    """Whether a chain of foreign keys leads from `table` to a beneficiary or a case."""
    for key in table.foreign_keys:
        target = key.column.table
        if target.name in PEOPLE:
            return True
        if target.name not in seen and reaches_a_person(target, seen | {table.name}):
            return True
    return False


def holds_a_chat(table: Table) -> bool:
    return any(
        column.name in {"telegram_hash", "city_hash", "chat_hash"} or "telegram" in column.name
        for column in table.columns
    )


SEALED = {model.__tablename__ for model in ENCRYPTED_MODELS}


def test_every_table_is_in_the_erasure_registry() -> None:
    tables = set(Base.metadata.tables)
    assert tables - set(COVERAGE) == set(), "add these tables to storage.erasure.COVERAGE"
    assert set(COVERAGE) - tables == set(), "these tables are gone: remove them from COVERAGE"


def test_a_table_that_can_hold_someones_data_is_erased_or_kept_for_a_stated_reason() -> None:
    for table in Base.metadata.sorted_tables:
        personal = (
            table.name in PEOPLE or reaches_a_person(table) or table.name in SEALED or holds_a_chat(table)
        )
        coverage = COVERAGE[table.name]
        if personal:
            assert coverage.cover is not Cover.NOT_PERSONAL, table.name
        if coverage.cover is Cover.KEPT:
            assert len(coverage.why) > 20, table.name


def test_a_table_reached_from_a_person_by_a_foreign_key_is_erased_never_kept() -> None:
    for table in Base.metadata.sorted_tables:
        if table.name in PEOPLE or reaches_a_person(table):
            assert COVERAGE[table.name].cover is Cover.ERASED, table.name


def test_every_erased_table_has_its_delete_and_children_go_before_their_parents() -> None:
    order = [name for name, _ in ERASURE]
    erased = {name for name, coverage in COVERAGE.items() if coverage.cover is Cover.ERASED}
    assert sorted(order) == sorted(erased)
    position = {name: n for n, name in enumerate(order)}
    for name in order:
        for key in Base.metadata.tables[name].foreign_keys:
            parent = key.column.table.name
            if parent in position and parent != name:
                assert position[name] < position[parent], (name, parent)
