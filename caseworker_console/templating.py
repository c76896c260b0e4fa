"""Jinja2 pages in the reader's language: one autoescaping environment, translations per render."""

from __future__ import annotations

import gettext
from typing import Any, cast

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import HTMLResponse

from caseworker_console import i18n
from caseworker_console.config import config
from caseworker_console.permissions import ROLE_PERMISSIONS, Permission

TRANSLATIONS_KEY = "translations"


# The environment is shared by concurrent requests, so its gettext callables hold no language
# of their own: they read the translations each render puts in its context.
@pass_context
def _gettext(context: Context, message: str) -> str:
    return cast(gettext.NullTranslations, context[TRANSLATIONS_KEY]).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, number: int) -> str:
    return cast(gettext.NullTranslations, context[TRANSLATIONS_KEY]).ngettext(singular, plural, number)


def create_environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("caseworker_console", "templates"),
        autoescape=True,  # every template, whatever its name ends with
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # newstyle: placeholders are filled (and escaped) by gettext itself, as _("… %(name)s", name=…).
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, newstyle=True
    )
    return environment


def gettext_for(request: Request) -> gettext.NullTranslations:
    """The request's translations, for strings made in Python rather than in a template."""
    return i18n.translations(i18n.request_locale(request))


def _url_for(request: Request) -> Any:
    def url_for(name: str, /, **path_params: Any) -> str:
        # The path alone (with any mount prefix): links must not depend on the Host header.
        return request.url_for(name, **path_params).path

    return url_for


class Pages:
    """Renders a template to a complete HTML response for one request."""

    def __init__(self) -> None:
        self.environment = create_environment()

    def base_context(self, request: Request) -> dict[str, Any]:
        locale = i18n.request_locale(request)
        user = request.scope.get("user")
        signed_in = user if getattr(user, "is_authenticated", False) else None
        permissions = ROLE_PERMISSIONS.get(signed_in.role, frozenset()) if signed_in else frozenset()
        if signed_in is not None and getattr(signed_in, "must_change_password", False):
            # A temporary password opens nothing but "My account" (caseworker_console.routing).
            permissions = frozenset({Permission.SIGNED_IN})
        return {
            "request": request,
            "locale": locale,
            "direction": i18n.text_direction(locale),
            TRANSLATIONS_KEY: i18n.translations(locale),
            "user": signed_in,
            "csrf_token": signed_in.csrf_token if signed_in is not None else None,
            # What the navigation may offer: the same table the routes are guarded by.
            "permissions": permissions,
            "url_for": _url_for(request),
            "timezone_name": i18n.timezone_name(config(request).timezone, locale=locale),
            # The setup checklist (caseworker_console.setup): an administrator's, until it is done.
            "setup_steps": getattr(request.state, "setup_steps", []),
        }

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any] | None = None,
        *,
        status_code: int = 200,
    ) -> HTMLResponse:
        content = self.environment.get_template(template).render(
            {**self.base_context(request), **(context or {})}
        )
        return HTMLResponse(content, status_code=status_code)


def pages(request: Request) -> Pages:
    renderer: Pages = request.app.state.pages
    return renderer
