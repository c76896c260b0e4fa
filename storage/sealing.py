"""Reading and writing encrypted columns of model instances, bound to their table, column and row."""

from __future__ import annotations

import json
from typing import Any

from storage.crypto import Crypto
from storage.models import Base


def _row_id(obj: Base) -> str:
    row = getattr(obj, "id", None)
    if row is None:
        raise ValueError(f"{type(obj).__name__} has no id yet; it is needed to seal a value")
    return str(row)


def seal(crypto: Crypto, obj: Base, column: str, value: str | None) -> None:
    if column not in obj.__encrypted__:
        raise KeyError(f"{obj.__tablename__}.{column} is not an encrypted column")
    sealed = (
        None
        if value is None
        else crypto.encrypt(value, table=obj.__tablename__, column=column, row=_row_id(obj))
    )
    setattr(obj, column, sealed)


def unseal(crypto: Crypto, obj: Base, column: str) -> str | None:
    blob = getattr(obj, column)
    if blob is None:
        return None
    return crypto.decrypt(blob, table=obj.__tablename__, column=column, row=_row_id(obj))


def seal_json(crypto: Crypto, obj: Base, column: str, value: Any) -> None:
    seal(crypto, obj, column, None if value is None else json.dumps(value, ensure_ascii=False))


def unseal_json(crypto: Crypto, obj: Base, column: str) -> Any:
    text = unseal(crypto, obj, column)
    return None if text is None else json.loads(text)
