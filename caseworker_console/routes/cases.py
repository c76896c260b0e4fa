"""The case list: codes, stages and screening results only, never anything that names a person."""

from __future__ import annotations

import dataclasses
import gettext
import zoneinfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from caseworker_console import i18n
from caseworker_console.auth import login_required
from caseworker_console.config import config
from caseworker_console.database import database
from caseworker_console.templating import gettext_for, pages
from programme.cycle import STAGE_LABELS, Stage
from storage.models import Case
from storage.queries import list_cases, record_audit

# Roles whose work is case content (PROGRAMME.md: outreach officers and administrators see none).
CASE_ROLES = ("caseworker", "supervisor")
# Deep offsets make the database walk every earlier row; nobody pages this far by hand.
MAX_PAGE = 10_000


@dataclasses.dataclass(frozen=True)
class CaseRow:
    """What one line of the list shows, already in the reader's language."""

    code: str
    stage: str
    language: str | None
    provisionally_eligible: bool | None
    created: str
    created_iso: str
    urgent: bool


def stage_label(stage: str, translate: gettext.NullTranslations) -> str:
    try:
        return translate.gettext(STAGE_LABELS[Stage(stage)])
    except ValueError:
        # A stage this version does not know (a newer writer): show its code rather than fail.
        return stage


def case_row(
    case: Case, *, locale: str, timezone: zoneinfo.ZoneInfo, translate: gettext.NullTranslations
) -> CaseRow:
    return CaseRow(
        code=case.code,
        stage=stage_label(case.stage, translate),
        language=i18n.language_name(case.language, locale),
        provisionally_eligible=case.provisionally_eligible,
        created=i18n.format_local_datetime(case.created_at, locale=locale, timezone=timezone),
        created_iso=case.created_at.isoformat(),
        urgent=case.urgent,
    )


def page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return min(int(raw), MAX_PAGE) if raw.isdigit() and int(raw) >= 1 else 1


@login_required(roles=CASE_ROLES)
async def case_list(request: Request) -> Response:
    db = database(request)
    settings = config(request)
    page = page_number(request)
    found = await list_cases(db, limit=settings.page_size + 1, offset=(page - 1) * settings.page_size)
    locale = i18n.request_locale(request)
    translate = gettext_for(request)
    rows = [
        case_row(case, locale=locale, timezone=settings.timezone, translate=translate)
        for case in found[: settings.page_size]
    ]
    await record_audit(
        db,
        actor=request.user.actor,
        action="cases.list",
        object_type="case",
        object_id=None,
        details={"page": page, "shown": len(rows)},
    )
    await db.commit()
    return pages(request).render(
        request,
        "cases.html",
        {
            "rows": rows,
            "page": page,
            "previous_page": page - 1 if page > 1 else None,
            "next_page": page + 1 if len(found) > settings.page_size and page < MAX_PAGE else None,
        },
    )


routes = [
    Route("/cases", case_list, methods=["GET"], name="cases"),
]
