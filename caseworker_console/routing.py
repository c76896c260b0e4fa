"""The route table's entries: each route declares the permission it needs, and one guard enforces it.

Routes are built with `page(...)` or `action(...)` (POST). The guard answers, in this order:
anonymous → sign in; a temporary password → the page to change it; a role without the
permission → 403; a POST without the session's CSRF token → 403; for a route with {code}: a case
the person may not see (or none) → 404, a case they may see but not change → 403. Only then does
the endpoint run, with the case in `request_case()`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from caseworker_console.auth import ConsoleUser, csrf_protected, redirect_to_login
from caseworker_console.config import config
from caseworker_console.database import database
from caseworker_console.permissions import (
    CASE_PERMISSIONS,
    CaseAccess,
    Permission,
    allows,
    case_access,
    sees_identity,
)
from caseworker_console.setup import setup_steps
from storage import casework, erasure
from storage.models import Case
from storage.models_erasure import CaseTombstone

Endpoint = Callable[[Request], Awaitable[Response]]

# What a holder of a temporary password may open: the page where they choose their own, and the way out.
PASSWORD_CHANGE_ROUTES = frozenset({"account", "account_password", "account_language", "logout"})

CASE_PARAM = "code"
CASE_STATE = "case"
# When the person of that case stopped taking part (None: they have not), for its header.
WITHDRAWN_STATE = "case_withdrawn_at"


class ConsoleRoute(Route):
    """A Starlette route that knows the permission it requires (None: public, such as sign-in)."""

    def __init__(
        self, path: str, endpoint: Endpoint, *, method: str, name: str, permission: Permission | None
    ) -> None:
        self.permission = permission
        self.method = method
        self.case_scoped = "{" + CASE_PARAM + "}" in path
        if permission is not None and self.case_scoped != (permission in CASE_PERMISSIONS):
            # A case route under a non-case permission would skip the caseload check entirely.
            raise ValueError(f"{path}: permission {permission} does not fit a route of this kind")
        guarded = (
            endpoint if permission is None else _guard(endpoint, permission, method, self.case_scoped, name)
        )
        super().__init__(path, guarded, methods=[method], name=name)


class CaseErased(HTTPException):
    """A {code} route for a case that was erased: 410 Gone, with its tombstone."""

    def __init__(self, tombstone: CaseTombstone) -> None:
        super().__init__(status_code=410)
        self.tombstone = tombstone


def page(path: str, endpoint: Endpoint, *, name: str, permission: Permission | None) -> ConsoleRoute:
    return ConsoleRoute(path, endpoint, method="GET", name=name, permission=permission)


def action(path: str, endpoint: Endpoint, *, name: str, permission: Permission | None) -> ConsoleRoute:
    return ConsoleRoute(path, endpoint, method="POST", name=name, permission=permission)


def signed_in_user(request: Request) -> ConsoleUser:
    user = request.user
    if not isinstance(user, ConsoleUser):
        raise RuntimeError("signed_in_user() outside a guarded route")
    return user


def saved(request: Request, name: str, **path_params: str) -> RedirectResponse:
    """After a change is committed: back to the page `name` (303), which then says it was saved."""
    return RedirectResponse(request.url_for(name, **path_params).path + "?saved=1", status_code=303)


def request_withdrawn_at(request: Request, case: Case) -> dt.datetime | None:
    """When the person of `case`, the {code} route's case, stopped taking part (None: they have not,
    or `case` is another one, such as a row of the queue)."""
    if getattr(request.state, CASE_STATE, None) is not case:
        return None
    at: dt.datetime | None = getattr(request.state, WITHDRAWN_STATE, None)
    return at


def request_case(request: Request) -> Case:
    """The case of a {code} route, loaded and checked by the guard."""
    case: Case = getattr(request.state, CASE_STATE)
    return case


def identity_shown(request: Request) -> bool:
    """Whether the signed-in reader may see the identity of the {code} route's case (see
    caseworker_console.permissions.sees_identity); False: its pages show it pseudonymised."""
    user = signed_in_user(request)
    return sees_identity(role=user.role, staff_id=user.staff_id, case=request_case(request))


def _guard(endpoint: Endpoint, permission: Permission, method: str, case_scoped: bool, name: str) -> Endpoint:
    async def checked(request: Request) -> Response:
        if case_scoped:
            await _load_case(request, permission)
        return await endpoint(request)

    inner: Endpoint = csrf_protected(checked) if method == "POST" else checked

    async def guarded(request: Request) -> Response:
        user = request.user
        if not isinstance(user, ConsoleUser):
            return redirect_to_login(request)
        if user.must_change_password and name not in PASSWORD_CHANGE_ROUTES:
            # Nothing else works until the temporary password is replaced (not even a read).
            return RedirectResponse(request.url_for("account").path, status_code=303)
        if not allows(user.role, permission):
            raise HTTPException(status_code=403)
        if method == "GET" and allows(user.role, Permission.OPERATIONS):
            # Until the installation is set up, its administrators see what is left at the top.
            steps = await setup_steps(database(request), config(request))
            request.state.setup_steps = steps if not all(step.done for step in steps) else []
        return await inner(request)

    guarded.__name__ = getattr(endpoint, "__name__", "endpoint")
    guarded.__doc__ = endpoint.__doc__
    return guarded


async def _load_case(request: Request, permission: Permission) -> None:
    user = signed_in_user(request)
    code = str(request.path_params[CASE_PARAM])
    found = await casework.find_case_and_withdrawal(database(request), code=code) if len(code) <= 20 else None
    case, withdrawn = found if found is not None else (None, None)
    if case is None and len(code) <= 20:
        # An erased case says so plainly (its tombstone holds nothing about the person).
        grave = await erasure.tombstone(database(request), code=code)
        if grave is not None:
            raise CaseErased(grave)
    access = (
        CaseAccess.NONE if case is None else case_access(role=user.role, staff_id=user.staff_id, case=case)
    )
    if case is None or access is CaseAccess.NONE:
        raise HTTPException(status_code=404)
    if CASE_PERMISSIONS[permission] and access is not CaseAccess.OWN:
        raise HTTPException(status_code=403)
    setattr(request.state, CASE_STATE, case)
    setattr(request.state, WITHDRAWN_STATE, withdrawn)
