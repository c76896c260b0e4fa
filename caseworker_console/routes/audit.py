"""The supervisors' audit page: who viewed or changed what, filterable and paged. It only reads."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gettext
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
from storage import casework, staff
from storage.queries import record_audit

FILTER_MAX_LENGTH = 80


@dataclasses.dataclass(frozen=True)
class EntryRow:
    at: str
    at_iso: str
    actor: str
    action: str
    action_label: str
    object_type: str
    object: str
    details: str


def _text(request: Request, name: str) -> str:
    return request.query_params.get(name, "").strip()[:FILTER_MAX_LENGTH]


def _day(request: Request, name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(_text(request, name))
    except ValueError:
        return None


def _details(translations: gettext.NullTranslations, action: str, details: dict[str, object]) -> str:
    # Details hold codes and counts only (never personal data); a code with a label shows the label.
    return ", ".join(
        f"{key}: {audit_labels.detail_value(translations, action, key, value)}"
        for key, value in sorted(details.items())
    )


async def audit_page(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    settings = config(request)
    zone = settings.timezone
    first, last = _day(request, "from"), _day(request, "to")
    where = casework.AuditFilter(
        actor=_text(request, "actor") or None,
        action=_text(request, "action") or None,
        case_code=_text(request, "case").upper() or None,
        # Days are the office's days: from its midnight to the next.
        since=dt.datetime.combine(first, dt.time(), tzinfo=zone) if first else None,
        before=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone) if last else None,
    )
    number = page_number(request)
    found = await casework.audit_entries(
        db, where=where, limit=settings.page_size + 1, offset=(number - 1) * settings.page_size
    )
    people = await staff.all_users(db)
    names = {f"staff:{person.id}": person.display_name or person.username for person in people}
    locale = i18n.request_locale(request)
    translations = gettext_for(request)
    rows = [
        EntryRow(
            at=i18n.format_local_datetime(entry.at, locale=locale, timezone=zone),
            at_iso=entry.at.isoformat(),
            actor=names.get(entry.actor, entry.actor),
            action=entry.action,
            action_label=audit_labels.action_label(translations, entry.action),
            object_type=entry.object_type,
            object=" ".join(
                part
                for part in (audit_labels.object_label(translations, entry.object_type), entry.object_id)
                if part
            ),
            details=_details(translations, entry.action, entry.details or {}),
        )
        for entry in found[: settings.page_size]
    ]
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
