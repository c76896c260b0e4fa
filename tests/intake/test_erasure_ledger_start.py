"""The erasure ledger through the processes' own start-up (intake.runtime.open_runtime) and the real
`intake reapply-erasures` command: an erasure made by a process's sessions is in its ledger, and a
restored backup is erased again, said in one sentence that names no one."""

from __future__ import annotations

import types
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake.runtime import open_runtime
from intake.settings import Settings
from storage.crypto import generate_key
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.models import Beneficiary
from storage.models_keys import PersonKey
from tests.conftest import BACKENDS
from tests.intake.test_startup_mistakes import empty_database, intake
from tests.storage.test_erasure_ledger import Backup, erase
from tests.storage.test_person_keys import person_with_everything

pytestmark = pytest.mark.slow


@pytest.fixture(params=BACKENDS)
async def migrated(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[types.SimpleNamespace]:
    async with empty_database(request.param, tmp_path) as url:
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()
        yield types.SimpleNamespace(backend=request.param, url=url)


async def test_a_restored_backup_is_erased_again_by_the_command_and_at_every_start(
    migrated: types.SimpleNamespace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {
        "DATABASE_URL": migrated.url,
        "INTAKE_DATA_KEYS": generate_key(),
        "INTAKE_ERASURE_LEDGER": str(tmp_path / "ledger" / "erasure-ledger"),
    }
    settings = Settings(**env)  # type: ignore[arg-type]
    engine = create_engine(migrated.url)
    backup = Backup(migrated, engine, tmp_path / "backup.db")  # type: ignore[arg-type]
    try:
        async with open_runtime(settings) as runtime:
            person = await person_with_everything(runtime.sessionmaker, runtime.crypto, 730_001)
            await backup.take()
            await erase(runtime.sessionmaker, runtime.crypto, person)
        assert f" done {person} request\n" in (tmp_path / "ledger" / "erasure-ledger").read_text()

        async def held() -> tuple[int, int]:
            async with engine.connect() as connection:
                people = select(func.count()).select_from(Beneficiary).where(Beneficiary.id == person)
                keys = select(func.count()).select_from(PersonKey).where(PersonKey.id == person)
                return (await connection.scalar(people) or 0, await connection.scalar(keys) or 0)

        await backup.restore()
        assert await held() == (1, 1)
        code, output = await intake("reapply-erasures", cwd=tmp_path, **env)
        assert (code, output) == (
            0,
            "Erased again 1 person whom the erasure ledger names and the database still held "
            "(a backup from before their erasure was restored).\n",
        )
        assert await held() == (0, 0)
        code, output = await intake("reapply-erasures", cwd=tmp_path, **env)
        assert (code, output) == (
            0,
            "No one the erasure ledger names is in the database: nothing was erased again.\n",
        )

        # A start does it too, and a start that finds no one says nothing.
        await backup.restore()
        capsys.readouterr()
        async with open_runtime(settings):
            pass
        assert capsys.readouterr().out.startswith("Erased again 1 person whom")
        assert await held() == (0, 0)
        async with open_runtime(settings):
            pass
        assert capsys.readouterr().out == ""
    finally:
        await engine.dispose()


async def test_a_start_without_the_ledger_it_used_is_one_sentence(
    migrated: types.SimpleNamespace, tmp_path: Path
) -> None:
    ledger = tmp_path / "erasure-ledger"
    env = {
        "DATABASE_URL": migrated.url,
        "INTAKE_DATA_KEYS": generate_key(),
        "INTAKE_ERASURE_LEDGER": str(ledger),
    }
    code, output = await intake("reapply-erasures", cwd=tmp_path, **env)
    assert code == 0, output
    ledger.unlink()
    code, output = await intake("reapply-erasures", cwd=tmp_path, **env)
    assert (code, output) == (
        2,
        f"intake: The erasure ledger {ledger} is missing, yet this database's erasures were written to "
        "one: restore it from its own backup or set INTAKE_ERASURE_LEDGER to where it is "
        "(docs/DATA-PROTECTION.md, the erasure ledger).\n",
    )
