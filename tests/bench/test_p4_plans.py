"""The P4 plan check: reads without an index and sorts of everything read are found; a sort of
what an index search found is not a full scan."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, select

from bench.p4 import full_scans
from storage.engine import create_engine

metadata = MetaData()
people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("team", Integer, index=True),
    Column("name", String(20)),
)


async def test_full_reads_and_their_sorts_are_found_a_searched_sort_is_not(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'plans.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)

    def compiled(statement: object) -> tuple[str, tuple[object, ...]]:
        query = statement.compile(engine.sync_engine)  # type: ignore[attr-defined]
        return str(query), tuple(query.params.values())

    try:
        searched = compiled(select(people.c.id).where(people.c.team == 7).order_by(people.c.name))
        assert await full_scans(engine, [searched]) == []
        read_whole = compiled(select(people.c.id).where(people.c.name == "x"))
        assert await full_scans(engine, [read_whole]) == ["people: every row read"]
        sorted_whole = compiled(select(people.c.id).order_by(people.c.name))
        found = await full_scans(engine, [sorted_whole])
        assert "people: every row read" in found
        assert any("every row sorted" in entry for entry in found)
    finally:
        await engine.dispose()
