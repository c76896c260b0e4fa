"""What the operations page reads about the running system: the sender's heartbeat, the key check."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, utcnow


class OpsMarker(Base):
    """One named fact about the installation, rewritten in place.

    - `sender_heartbeat`: the active sender (the elected leader on PostgreSQL) writes `at` every few
      seconds and `detail` (host and process id), so the operations page can say it is alive;
    - `key_check`: a known value sealed under the newest master key when the database was first
      opened (`sealed`), opened at every start so that a wrong `INTAKE_DATA_KEYS` stops the
      processes with one sentence instead of treating returning people as new;
    - `erasure_ledger`: when this database's erasures were first written to an erasure ledger
      (storage.erasure_ledger), so that a start that finds the ledger missing knows it was lost;
    - `replayed <ledger>`: how far into that erasure ledger (each machine keeps its own) this
      database was last checked (`detail`: a byte offset and a digest of the line before it), so
      that a start reads only the newer lines.

    Who may read it: administrators, on the operations page. How long it is kept: as long as the
    installation. How it is erased: never with a person, it holds nothing about anyone.
    """

    __tablename__ = "ops_markers"
    __encrypted__ = ("sealed",)

    # Which fact: `sender_heartbeat`, `key_check`, `erasure_ledger` or `replayed …` (named `id`
    # as every sealed row's key is: the rotation and the sealing bind a value to its row by it).
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[str | None] = mapped_column(String(120))
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
