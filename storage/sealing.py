"""Reading and writing encrypted columns, bound to their table, column and row: of model instances,
and of rows written or read as plain values (`seal_value`, `open_value`).

A model's values are sealed under the key of the person they are about (`__owner__`, see
storage.person_keys), other values under the master key."""

from __future__ import annotations

import json
import uuid
from typing import Any

from storage import person_keys  # noqa: F401  (loads the keys of the people a SELECT reads)
from storage.crypto import PERSON_KEYS, Crypto, MissingPersonKey
from storage.models import Base


def _row_id(obj: Base) -> str:
    row = getattr(obj, "id", None)
    if row is None:
        raise ValueError(f"{type(obj).__name__} has no id yet; it is needed to seal a value")
    return str(row)


def owner_of_row(obj: Base) -> uuid.UUID | None:
    """The person whose key seals `obj`'s values: by its own id, its beneficiary's or its case's."""
    attribute = obj.__owner__
    value = None if attribute is None else getattr(obj, attribute)
    if attribute != "case_id":
        return value
    owner = None if value is None else PERSON_KEYS.owner_of_case(value)
    if owner is None:
        raise MissingPersonKey(
            f"{obj.__tablename__}: load its case's person key first (person_keys.load_for_case)"
        )
    return owner


def seal_value(
    crypto: Crypto, table: str, column: str, row_id: object, value: str, *, owner: uuid.UUID | None = None
) -> bytes:
    """`value` sealed for one column of one row, which a plain INSERT or UPDATE writes; under the
    key of `owner`, the person it is about, when given."""
    return crypto.encrypt(value, table=table, column=column, row=str(row_id), owner=owner)


def open_value(crypto: Crypto, table: str, column: str, row_id: object, blob: bytes | None) -> str | None:
    """A sealed column of a row read as plain values (no model instance)."""
    return None if blob is None else crypto.decrypt(blob, table=table, column=column, row=str(row_id))


def seal(crypto: Crypto, obj: Base, column: str, value: str | None) -> None:
    if column not in obj.__encrypted__:
        raise KeyError(f"{obj.__tablename__}.{column} is not an encrypted column")
    sealed = (
        None
        if value is None
        else seal_value(crypto, obj.__tablename__, column, _row_id(obj), value, owner=owner_of_row(obj))
    )
    setattr(obj, column, sealed)


def unseal(crypto: Crypto, obj: Base, column: str) -> str | None:
    blob = getattr(obj, column)
    if blob is None:
        return None
    return open_value(crypto, obj.__tablename__, column, _row_id(obj), blob)


def seal_json(crypto: Crypto, obj: Base, column: str, value: Any) -> None:
    seal(crypto, obj, column, None if value is None else json.dumps(value, ensure_ascii=False))


def unseal_json(crypto: Crypto, obj: Base, column: str) -> Any:
    text = unseal(crypto, obj, column)
    return None if text is None else json.loads(text)
