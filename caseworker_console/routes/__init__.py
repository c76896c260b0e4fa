"""The console's routes, one module per area; the app mounts what `all_routes()` lists."""

from __future__ import annotations

from starlette.routing import BaseRoute

from caseworker_console.routes import auth, cases, system


def all_routes() -> list[BaseRoute]:
    return [*system.routes, *auth.routes, *cases.routes]
