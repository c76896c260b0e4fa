"""The cost of the person-key read hook (storage.person_keys) per SELECT, with its check of what a
statement selects and with every SELECT looked at (as before the check), side by side in one
process, alternating rounds. On an in-memory SQLite database through a plain (sync) session, so that
what is measured is SQLAlchemy's and the hook's work, not the driver's thread hops:

- a case by its id (`session.get(Case, id)`) and a case's id and stage by code: nothing sealed, the
  check skips them;
- a person's row (`session.get(Beneficiary, id)`): sealed values, looked at either way.

    python -m bench.read_hook [--statements 5000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from storage import person_keys
from storage.crypto import Crypto, generate_key, parse_keys
from storage.models import Beneficiary, Case, utcnow
from storage.models_keys import PersonKey
from storage.schema import Base

Statement = Callable[[Session], Any]


def _seed(session: Session, crypto: Crypto) -> tuple[uuid.UUID, uuid.UUID, str]:
    person, case = uuid.uuid4(), uuid.uuid4()
    now = utcnow()

    def sealed(column: str, value: str) -> bytes:
        return crypto.encrypt(value, table="beneficiaries", column=column, row=person, owner=person)

    session.add(PersonKey(id=person, wrapped=crypto.new_person_key(person), created_at=now))
    session.add(
        Beneficiary(
            id=person,
            telegram_hash="bench",
            telegram_id_enc=sealed("telegram_id_enc", "900000001"),
            name_enc=sealed("name_enc", "Leyla Mammadova"),
            created_at=now,
            last_active_at=now,
        )
    )
    session.flush()
    session.add(
        Case(id=case, code="IB-2026-000001", beneficiary_id=person, stage="screening", created_at=now)
    )
    session.commit()
    return person, case, "IB-2026-000001"


def _cpu_us(session: Session, statement: Statement, n: int) -> float:
    statement(session)
    started = time.process_time()
    for _ in range(n):
        statement(session)
        session.expunge_all()  # each read builds its objects, as in a new update
    return (time.process_time() - started) * 1e6 / n


def run(statements: int, rounds: int) -> dict[str, Any]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    crypto = Crypto(parse_keys(generate_key()))
    with Session(engine) as session:
        person, case, code = _seed(session, crypto)
        shapes: dict[str, Statement] = {
            "case by id (nothing sealed)": lambda s: s.get(Case, case),
            "case id and stage by code (nothing sealed)": lambda s: s.execute(
                select(Case.id, Case.stage).where(Case.code == code)
            ).all(),
            "person's row (sealed values)": lambda s: s.get(Beneficiary, person),
        }
        checked = person_keys.reads_sealed
        best: dict[str, dict[str, float]] = {name: {} for name in shapes}
        for _ in range(rounds):
            for variant, check in (("every SELECT looked at", lambda _: True), ("checked", checked)):
                person_keys.reads_sealed = check  # type: ignore[assignment]
                try:
                    for name, statement in shapes.items():
                        cost = _cpu_us(session, statement, statements)
                        best[name][variant] = min(best[name].get(variant, cost), cost)
                finally:
                    person_keys.reads_sealed = checked  # type: ignore[assignment]
    engine.dispose()
    return {
        name: {variant: round(us, 1) for variant, us in costs.items()}
        | {"saved_us": round(costs["every SELECT looked at"] - costs["checked"], 1)}
        for name, costs in best.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.read_hook", description=__doc__)
    parser.add_argument("--statements", type=int, default=5000, help="statements timed a round (5000)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds; the best of each is kept (7)")
    args = parser.parse_args()
    print(json.dumps(run(args.statements, args.rounds), indent=2))


if __name__ == "__main__":
    main()
