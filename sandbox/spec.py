"""Loads the official Bot API description (api.json) and checks request parameters against it."""

from __future__ import annotations

import functools
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEC_ENV_VAR = "INTAKE_BOT_API_SPEC"
_SPEC_IN_SHARED = Path("shared") / "telegram-bot-api" / "api.json"
_ARRAY_PREFIX = "Array of "
_INTEGER_RE = re.compile(r"-?\d+")
# Telegram words some "missing parameter" errors specially; bots and tests match on these texts.
_MISSING_WORDING = {
    "text": "message text is empty",
    "document": "there is no document in the request",
    "photo": "there is no photo in the request",
}

Path_ = tuple[str, ...]


class SpecError(ValueError):
    """A parameter does not match the API description.

    ``depth`` is how far into the value the check got before failing; among the alternatives of a
    union, the deepest failure is the one that explains the mistake best.
    """

    def __init__(self, detail: str, depth: int = 0) -> None:
        super().__init__(detail)
        self.depth = depth


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request; ``data`` is None when it was too big to keep."""

    filename: str
    content_type: str
    size: int
    data: bytes | None


@dataclass(frozen=True)
class Field:
    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class Method:
    name: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class ObjectType:
    name: str
    fields: tuple[Field, ...] | None  # None: the description lists no fields (e.g. CallbackGame)
    subtypes: tuple[str, ...]


def default_spec_path() -> Path:
    """The api.json named by INTAKE_BOT_API_SPEC, else the nearest ``shared/`` above this package."""
    configured = os.environ.get(SPEC_ENV_VAR)
    if configured:
        return Path(configured)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / _SPEC_IN_SHARED
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"Bot API description not found: set {SPEC_ENV_VAR} or provide {_SPEC_IN_SHARED}")


def load_spec(path: str | os.PathLike[str] | None = None) -> BotApiSpec:
    """The parsed description at ``path`` (default: :func:`default_spec_path`), parsed once per path."""
    resolved = Path(path) if path is not None else default_spec_path()
    return _load_cached(str(resolved.resolve()))


@functools.lru_cache(maxsize=8)
def _load_cached(path: str) -> BotApiSpec:
    with open(path, encoding="utf-8") as handle:
        return BotApiSpec(json.load(handle))


def _fields(raw: Sequence[Mapping[str, Any]]) -> tuple[Field, ...]:
    return tuple(Field(f["name"], tuple(f["types"]), bool(f["required"])) for f in raw)


def _describe(path: Path_) -> str:
    text = path[0] if path else ""
    for part in path[1:]:
        text += part if part.startswith("[") else f".{part}"
    return text


def _type_error(path: Path_, types: Sequence[str]) -> SpecError:
    return SpecError(f'field "{_describe(path)}" must be of type {" or ".join(types)}', len(path))


class BotApiSpec:
    """Methods and types of one Bot API version, with Telegram-like lenient type coercion."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.version: str = raw.get("version", "unknown")
        self._methods = {
            name.lower(): Method(name, _fields(body.get("fields", ())))
            for name, body in raw["methods"].items()
        }
        self._types = {
            name: ObjectType(
                name,
                _fields(body["fields"]) if "fields" in body else None,
                tuple(body.get("subtypes", ())),
            )
            for name, body in raw["types"].items()
        }

    def method(self, name: str) -> Method | None:
        """The method called ``name``, ignoring case like Telegram does."""
        return self._methods.get(name.lower())

    def validate(
        self, method: Method, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> dict[str, Any]:
        """The method's parameters coerced to their declared types; unknown parameters are dropped.

        Raises :class:`SpecError` whose message is the detail after ``Bad Request:``.
        """
        checked: dict[str, Any] = {}
        for field in method.fields:
            value = params.get(field.name)
            if value is None or value == "":
                if field.required:
                    raise SpecError(_MISSING_WORDING.get(field.name, f"{field.name} is empty"))
                continue
            checked[field.name] = self._coerce_union(field.types, value, (field.name,), files)
        return checked

    def _coerce_union(
        self, types: Sequence[str], value: Any, path: Path_, files: Mapping[str, UploadedFile]
    ) -> Any:
        failures: list[SpecError] = []
        for type_expr in types:
            try:
                return self._coerce(type_expr, value, path, files)
            except SpecError as error:
                failures.append(error)
        deepest = max(failures, key=lambda error: error.depth)
        if len(failures) == 1 or deepest.depth > len(path):
            raise deepest
        raise _type_error(path, types)

    def _coerce(self, type_expr: str, value: Any, path: Path_, files: Mapping[str, UploadedFile]) -> Any:
        if type_expr.startswith(_ARRAY_PREFIX):
            items = _decode_json(value, list, path, type_expr)
            item_type = type_expr[len(_ARRAY_PREFIX) :]
            return [
                self._coerce(item_type, item, (*path, f"[{index}]"), files)
                for index, item in enumerate(items)
            ]
        scalar = _SCALARS.get(type_expr)
        if scalar is not None:
            return scalar(value, path)
        if type_expr == "InputFile":
            return _input_file(value, path, files)
        object_type = self._types.get(type_expr)
        if object_type is None:  # a type the description mentions but never defines
            return value
        if object_type.subtypes:
            return self._coerce_union(object_type.subtypes, value, path, files)
        data = _decode_json(value, dict, path, type_expr)
        if object_type.fields is None:
            return data
        return self._coerce_object(object_type.fields, data, path, files)

    def _coerce_object(
        self,
        fields: Sequence[Field],
        data: Mapping[str, Any],
        path: Path_,
        files: Mapping[str, UploadedFile],
    ) -> dict[str, Any]:
        # Unknown keys pass through: clients may be newer than the description.
        checked = {key: value for key, value in data.items() if value is not None}
        for field in fields:
            value = checked.get(field.name)
            if value is None:
                if field.required:
                    raise SpecError(f'field "{_describe((*path, field.name))}" is required', len(path))
                continue
            checked[field.name] = self._coerce_union(field.types, value, (*path, field.name), files)
        return checked


def _decode_json(value: Any, expected: type, path: Path_, type_expr: str) -> Any:
    """Form encodings carry objects and arrays as JSON text; JSON bodies carry them directly."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise SpecError(
                f'field "{_describe(path)}" must be a JSON-serialized {type_expr}', len(path)
            ) from None
    if not isinstance(value, expected):
        raise _type_error(path, [type_expr])
    return value


def _integer(value: Any, path: Path_) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER_RE.fullmatch(value.strip()):
        return int(value)
    raise _type_error(path, ["Integer"])


def _float(value: Any, path: Path_) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return number
    raise _type_error(path, ["Float"])


def _boolean(value: Any, path: Path_) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise _type_error(path, ["Boolean"])


def _string(value: Any, path: Path_) -> str:
    if isinstance(value, str):
        return value
    # Telegram accepts JSON numbers where it expects strings (e.g. a numeric callback_data).
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise _type_error(path, ["String"])


def _input_file(value: Any, path: Path_, files: Mapping[str, UploadedFile]) -> UploadedFile:
    if isinstance(value, UploadedFile):
        return value
    if isinstance(value, str) and value.startswith("attach://"):
        uploaded = files.get(value.removeprefix("attach://"))
        if uploaded is not None:
            return uploaded
    raise _type_error(path, ["InputFile"])


_SCALARS = {"Integer": _integer, "Float": _float, "Boolean": _boolean, "String": _string}
