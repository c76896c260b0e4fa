"""The case list: codes, stages and screening results only, never anything that names a person."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gettext
import re
import zoneinfo

from starlette.requests import Request
from starlette.responses import Response

from caseworker_console import i18n
from caseworker_console.config import config, crypto
from caseworker_console.config import today as office_today
from caseworker_console.database import database
from caseworker_console.permissions import Permission, feedback_routings
from caseworker_console.routing import page, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.views import stage_label
from programme.forms import SERVICE_AREAS
from programme.plan import ACTIVITY_STATUSES
from programme.text import N_
from storage import casework, feedback, phone
from storage.digest import DueActivity, due_activities
from storage.journey import withdrawn_cases
from storage.models import Case, utcnow
from storage.queries import record_audit

# Deep offsets make the database walk every earlier row; nobody pages this far by hand.
MAX_PAGE = 10_000
# A search shows at most this many cases (one person's, or one code's).
SEARCH_LIMIT = 50
MAX_QUERY = 64
CODE_PATTERN = re.compile(r"IP-\d{4}-\d{6}")
NOT_A_SEARCH = N_("Type a case code (such as IP-2026-000123) or a phone number with at least 6 digits.")
NO_USERNAMES = N_(
    "The bot does not keep Telegram usernames, so a case cannot be found by one. "
    "Search by the case code or the phone number."
)


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
    # The person stopped taking part: the case is to be closed with reason 1.
    withdrawn: bool = False


def case_row(
    case: Case,
    *,
    locale: str,
    timezone: zoneinfo.ZoneInfo,
    translate: gettext.NullTranslations,
    withdrawn: bool = False,
) -> CaseRow:
    return CaseRow(
        code=case.code,
        stage=stage_label(case.stage, translate),
        language=i18n.language_name(case.language, locale),
        provisionally_eligible=case.provisionally_eligible,
        created=i18n.format_local_datetime(case.created_at, locale=locale, timezone=timezone),
        created_iso=case.created_at.isoformat(),
        urgent=case.urgent,
        withdrawn=withdrawn,
    )


@dataclasses.dataclass(frozen=True)
class DueRow:
    """A line of the daily digest: a plan activity due today or overdue, without its text."""

    code: str
    area: str
    status: str
    due: str
    due_iso: str
    overdue: bool


def digest_rows(
    due: list[DueActivity], *, today: dt.date, locale: str, translate: gettext.NullTranslations
) -> list[DueRow]:
    areas = {option.value: translate.gettext(option.label) for option in SERVICE_AREAS}
    statuses = {option.value: translate.gettext(option.label) for option in ACTIVITY_STATUSES}
    return [
        DueRow(
            code=item.case_code,
            area=areas.get(item.service_area, item.service_area),
            status=statuses.get(item.status, item.status),
            due=i18n.format_day(item.due_on, locale=locale),
            due_iso=item.due_on.isoformat(),
            overdue=item.due_on < today,
        )
        for item in due
    ]


def page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return min(int(raw), MAX_PAGE) if raw.isdigit() and int(raw) >= 1 else 1


def _search_kind(query: str) -> tuple[str, str | None]:
    """What a search is for: ("code", the code), ("phone", None), ("username", None) or ("", None)."""
    code = query.strip().upper()
    if CODE_PATTERN.fullmatch(code):
        return "code", code
    if query.strip().startswith("@"):
        return "username", None
    return ("phone", None) if phone.index_value(query) else ("", None)


async def search(request: Request, query: str) -> Response:
    """Finding a case within what the reader may see: the same rows as the list (never a name), and a
    case opened from here is pseudonymised for anyone not on it, as everywhere."""
    db = database(request)
    user = signed_in_user(request)
    settings = config(request)
    translate = gettext_for(request)
    kind, code = _search_kind(query)
    found: list[Case] = []
    if kind in ("code", "phone"):
        found = list(
            await casework.search_cases(
                db,
                code=code,
                phone_hashes=phone.lookup_hashes(crypto(request), query) if kind == "phone" else (),
                caseworker_id=None if user.role == "supervisor" else user.staff_id,
                limit=SEARCH_LIMIT,
            )
        )
        # What was looked for is not recorded (a phone number is personal data): only how.
        await record_audit(
            db,
            actor=user.actor,
            action="cases.searched",
            object_type="case",
            object_id=None,
            details={"by": kind, "found": len(found)},
        )
    locale = i18n.request_locale(request)
    withdrawn = await withdrawn_cases(db, case_ids=[case.id for case in found])
    rows = [
        case_row(
            case,
            locale=locale,
            timezone=settings.timezone,
            translate=translate,
            withdrawn=case.id in withdrawn,
        )
        for case in found
    ]
    await db.commit()
    advice = {"username": NO_USERNAMES, "": NOT_A_SEARCH}.get(kind)
    return pages(request).render(
        request,
        "cases.html",
        {
            "rows": rows,
            "digest": [],
            "show_digest": False,
            "feedback_overdue": 0,
            "page": 1,
            "previous_page": None,
            "next_page": None,
            "query": query,
            "searched": kind in ("code", "phone"),
            "advice": translate.gettext(advice) if advice else None,
        },
        status_code=200 if advice is None else 400,
    )


async def case_list(request: Request) -> Response:
    """Supervisors see every case; a caseworker their own caseload and the unassigned queue."""
    db = database(request)
    user = signed_in_user(request)
    settings = config(request)
    if "q" in request.query_params:
        query = request.query_params["q"][:MAX_QUERY]
        if query.strip():
            return await search(request, query)
    number = page_number(request)
    found = await casework.list_cases(
        db,
        caseworker_id=None if user.role == "supervisor" else user.staff_id,
        limit=settings.page_size + 1,
        offset=(number - 1) * settings.page_size,
    )
    locale = i18n.request_locale(request)
    translate = gettext_for(request)
    shown = found[: settings.page_size]
    withdrawn = await withdrawn_cases(db, case_ids=[case.id for case in shown])
    rows = [
        case_row(
            case,
            locale=locale,
            timezone=settings.timezone,
            translate=translate,
            withdrawn=case.id in withdrawn,
        )
        for case in shown
    ]
    # The digest heads the first page: the reader's own cases, the office's today.
    today = office_today(request)
    due = await due_activities(db, staff_id=user.staff_id, today=today) if number == 1 else []
    # Feedback past its due time for a first answer, for those who answer it (never a caseworker).
    routings = feedback_routings(role=user.role, focal_point=user.focal_point)
    feedback_overdue = (
        await feedback.overdue_count(db, routings=routings, now=utcnow()) if number == 1 and routings else 0
    )
    await record_audit(
        db,
        actor=user.actor,
        action="cases.list",
        object_type="case",
        object_id=None,
        details={"page": number, "shown": len(rows)},
    )
    await db.commit()
    return pages(request).render(
        request,
        "cases.html",
        {
            "rows": rows,
            "digest": digest_rows(due, today=today, locale=locale, translate=translate),
            "show_digest": number == 1,
            "feedback_overdue": feedback_overdue,
            "page": number,
            "previous_page": number - 1 if number > 1 else None,
            "next_page": number + 1 if len(found) > settings.page_size and number < MAX_PAGE else None,
            "query": "",
            "searched": False,
            "advice": None,
        },
    )


routes = [
    page("/cases", case_list, name="cases", permission=Permission.CASES_LIST),
]
