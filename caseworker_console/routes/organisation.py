"""The organisation page: the data controller's name and the contact for data questions (each per
language), and the programme's hours, when the bot says a caseworker will answer. Administrators
keep it; every save is audited, with the consent text version it makes.

Until the page is first saved the environment's values hold (INTAKE_DATA_CONTROLLER,
INTAKE_DATA_CONTACT; Monday to Friday 09:00-18:00). The bot reads the settings at each use, so a
change is in the next consent text it shows (storage.organisation).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console.config import config
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routing import action, page, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.views import BOT_LANGUAGES, FIX_BELOW
from programme import organisation as rules
from programme.offices import WEEKDAYS
from programme.organisation import Organisation
from storage.organisation import save_organisation, stored_organisation
from storage.queries import record_audit


def _changed(before: Organisation, after: Organisation) -> list[str]:
    """Which parts changed, for the audit log (the values themselves are on the page)."""
    pairs = {
        "controller": (
            (before.controller, dict(before.controllers)),
            (after.controller, dict(after.controllers)),
        ),
        "contact": ((before.contact, dict(before.contacts)), (after.contact, dict(after.contacts))),
        "hours": (before.stored_hours(), after.stored_hours()),
    }
    return [name for name, (old, new) in pairs.items() if old != new]


async def render(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, rules.Message] | None = None,
    status_code: int = 200,
) -> Response:
    db = database(request)
    settings = config(request)
    translate = gettext_for(request)
    saved = await stored_organisation(db)
    current = saved or settings.organisation_defaults()
    errors = errors or {}
    return pages(request).render(
        request,
        "organisation.html",
        {
            "active": "organisation",
            "values": values if values is not None else rules.form_values(current),
            "errors": {field: translate.gettext(msgid) % params for field, (msgid, params) in errors.items()},
            "summary": translate.gettext(FIX_BELOW) if errors else None,
            "languages": BOT_LANGUAGES,
            "weekdays": [translate.gettext(day) for day in WEEKDAYS],
            "timezone": settings.timezone.key,
            "version": settings.consent_version(current),
            "first_start": saved is None,
            "saved": request.query_params.get("saved") == "1",
            "limits": {"name": rules.NAME_MAX, "contact": rules.CONTACT_MAX},
        },
        status_code=status_code,
    )


async def organisation_page(request: Request) -> Response:
    return await render(request)


async def save(request: Request) -> Response:
    db = database(request)
    settings = config(request)
    user = signed_in_user(request)
    form: Any = await request.form()
    organisation, values, errors = rules.read_form(form)
    if errors:
        return await render(request, values=values, errors=errors, status_code=400)
    before = await settings.organisation(db)
    await save_organisation(db, organisation, staff_id=user.staff_id)
    await record_audit(
        db,
        actor=user.actor,
        action="organisation.changed",
        object_type="organisation",
        object_id=None,
        details={
            "changed": _changed(before, organisation),
            "consent_version": settings.consent_version(organisation),
        },
    )
    await db.commit()
    return RedirectResponse(request.url_for("organisation").path + "?saved=1", status_code=303)


routes = [
    page("/organisation", organisation_page, name="organisation", permission=Permission.ORGANISATION),
    action("/organisation", save, name="organisation_save", permission=Permission.ORGANISATION),
]
