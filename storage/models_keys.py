"""Each person's data key, wrapped under the master key: what makes their values readable at all."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, LargeBinary, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, utcnow


class PersonKey(Base):
    """One beneficiary's random data key (AES-256-GCM), sealed under the newest master key and bound
    to its row; every value about the person is sealed under it (storage.crypto, format 2).

    Who may read it: no person; the processes unwrap it to read and write the person's values for
    whoever may read those. How long it is kept: as long as the beneficiary. How it is erased:
    deleted first when the person is erased (storage.erasure), in the same transaction, which makes
    every surviving copy of their values (a backup, a dead tuple, a log segment) unreadable.
    """

    __tablename__ = "person_keys"
    __encrypted__ = ("wrapped",)

    id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("beneficiaries.id", ondelete="CASCADE"), primary_key=True
    )
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
