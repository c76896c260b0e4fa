"""The supervisors' audit page: who viewed or changed what, filterable and paged. It only reads."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from caseworker_console import audit_labels, i18n
from caseworker_console.config import config
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routes.cases import MAX_PAGE, page_number
from caseworker_console.routing import page, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.viewmodels.audit import entry_rows
from storage import casework, staff
from storage.queries import record_audit

FILTER_MAX_LENGTH = 80


def _text(request: Request, name: str) -> str:
    return request.query_params.get(name, "").strip()[:FILTER_MAX_LENGTH]


def _day(request: Request, name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(_text(request, name))
    except ValueError:
        return None


def read_filter(request: Request, zone: zoneinfo.ZoneInfo) -> casework.AuditFilter:
    """The query's filters; an unreadable day is dropped rather than refused."""
    first, last = _day(request, "from"), _day(request, "to")
    return casework.AuditFilter(
        actor=_text(request, "actor") or None,
        action=_text(request, "action") or None,
        case_code=_text(request, "case").upper() or None,
        # Days are the office's days: from its midnight to the next.
        since=dt.datetime.combine(first, dt.time(), tzinfo=zone) if first else None,
        before=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone) if last else None,
    )


async def audit_page(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    settings = config(request)
    zone = settings.timezone
    where = read_filter(request, zone)
    number = page_number(request)
    found = await casework.audit_entries(
        db, where=where, limit=settings.page_size + 1, offset=(number - 1) * settings.page_size
    )
    people = await staff.all_users(db)
    names = {f"staff:{person.id}": person.display_name or person.username for person in people}
    translations = gettext_for(request)
    rows = entry_rows(
        found[: settings.page_size],
        names=names,
        translate=translations,
        locale=i18n.request_locale(request),
        zone=zone,
    )
    actions = await casework.audit_actions(db)
    await record_audit(
        db,
        actor=user.actor,
        action="audit.viewed",
        object_type="audit_log",
        object_id=None,
        details={"page": number},
    )
    await db.commit()
    filters = {
        key: value for key in ("actor", "action", "case", "from", "to") if (value := _text(request, key))
    }

    def page_link(target: int) -> str:
        return request.url_for("audit").path + "?" + urlencode({**filters, "page": target})

    return pages(request).render(
        request,
        "audit.html",
        {
            "active": "audit",
            "rows": rows,
            "filters": filters,
            "actors": sorted(names.items(), key=lambda item: item[1].casefold()),
            "actions": [(code, audit_labels.action_label(translations, code)) for code in actions],
            "page": number,
            "previous_link": page_link(number - 1) if number > 1 else None,
            "next_link": page_link(number + 1)
            if len(found) > settings.page_size and number < MAX_PAGE
            else None,
        },
    )


routes = [
    page("/audit", audit_page, name="audit", permission=Permission.AUDIT),
]
