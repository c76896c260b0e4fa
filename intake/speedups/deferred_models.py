"""Speed patch: aiogram's Telegram types built when first used, not all at import.

- **Written against** aiogram 3.31.0 and pydantic 2.13.5 (`BaseModel.model_rebuild`'s private
  `_parent_namespace_depth` and `_types_namespace` parameters, and aiogram.types calling it).
- **What it changes**: aiogram declares its ~440 pydantic models with `defer_build`, then calls
  `model_rebuild` on every one of them at import, so that each has its forward references resolved:
  that builds a validator and a serializer for every type Telegram has. Installed before aiogram is
  imported, `install` replaces pydantic's `BaseModel.model_rebuild` for the whole process; the calls
  aiogram makes at import (recognised by the caller's frame, `sys._getframe`) only keep the namespace
  aiogram resolves names in, and pydantic builds each model (type, method or `Response[T]`) the first
  time it validates or serializes one, given that namespace then: the same schema as aiogram's own.
- **Gain measured**: about 110 MB of every process's resident memory and most of its import time (a
  sender only ever reads a `Message`, a bot a few dozen types); the worker idle at 114 MiB instead of
  222 MiB. `make bench BENCH_ARGS="--only speedups"` measures it again, stock beside patched.
- **Test**: tests/speedups/test_deferred_models.py (the same answers as aiogram's eager build).
- **To remove**: delete this module, its lines in `intake.speedups.install` and its test. The worker's
  memory goal (< 200 MB) then needs checking with `make bench BENCH_ARGS="--only sender"`.
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


def installed() -> bool:
    return BaseModel.__dict__["model_rebuild"] is not _rebuild


def install() -> bool:
    """Replace `model_rebuild` and import aiogram's types deferred; False when aiogram was imported
    already (every type built: nothing to gain, so nothing is changed)."""
    global _importing
    if installed():
        return True
    if "aiogram.types" in sys.modules:
        return False
    BaseModel.model_rebuild = classmethod(_model_rebuild)  # type: ignore[assignment,method-assign]
    _importing = True
    try:
        import aiogram.methods
        import aiogram.types  # noqa: F401
    finally:
        _importing = False
    return True
