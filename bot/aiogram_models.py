"""aiogram's Telegram types built when first used, not all at import.

aiogram declares its ~440 pydantic models with `defer_build`, then calls `model_rebuild` on every one
of them at import, so that each has its forward references resolved: that builds a validator and a
serializer for every type Telegram has (about 110 MB of a process's resident memory and most of its
import time), though a sender only ever reads a `Message`, and a bot a few dozen types. Imported before
aiogram, this module lets those calls only keep the namespace aiogram resolves names in; pydantic
builds each model (type, method or `Response[T]`) the first time it validates or serializes one, and
is given that namespace then: the same schema as aiogram's own build.
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel

_rebuild = BaseModel.__dict__["model_rebuild"]
_namespace: dict[str, Any] | None = None
_importing = False


def _model_rebuild(
    cls: type[BaseModel],
    *,
    force: bool = False,
    raise_errors: bool = True,
    _parent_namespace_depth: int = 2,
    _types_namespace: Any = None,
) -> bool | None:
    """pydantic's `model_rebuild`; for aiogram's models, with the namespace of aiogram's types."""
    global _namespace
    if cls.__module__.startswith("aiogram."):
        if (
            _importing
            and _types_namespace is not None
            and sys._getframe(1).f_globals["__name__"] == "aiogram.types"
        ):
            _namespace = _types_namespace  # aiogram's import resolving every type: later, on first use
            return None
        if _types_namespace is None and _namespace is not None:
            _types_namespace = _namespace
    return _rebuild.__func__(  # type: ignore[no-any-return]
        cls,
        force=force,
        raise_errors=raise_errors,
        _parent_namespace_depth=_parent_namespace_depth + 1,
        _types_namespace=_types_namespace,
    )


def _import_aiogram_deferred() -> None:
    global _importing
    if "aiogram.types" in sys.modules:
        return  # imported already, every type built: nothing to gain
    BaseModel.model_rebuild = classmethod(_model_rebuild)  # type: ignore[assignment,method-assign]
    _importing = True
    try:
        import aiogram.methods
        import aiogram.types  # noqa: F401
    finally:
        _importing = False


_import_aiogram_deferred()
