"""The programme figures: the dashboard (counts only, small cells masked), its exports, the
pseudonymised case export and the full export a supervisor asks for with a written reason.

Filters are a GET form (they change nothing). Exports are audited with what was exported, never
with its content; a full export's reason is sealed in its row, and the archive is encrypted with a
passphrase that is shown once in the answer to the request and never stored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gettext
import uuid
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from caseworker_console import exports, i18n
from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.permissions import Permission, allows
from caseworker_console.routing import action, page, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.viewmodels.figures import CHART_LABEL, CHART_WIDTH, Figures, build_figures
from caseworker_console.views import source_label, stage_label
from programme import figures as rules
from programme.text import N_
from storage import figures as store
from storage.models import utcnow
from storage.models_figures import FullExport
from storage.queries import record_audit
from storage.sealing import seal

FILTER_MAX_LENGTH = 64
BREAKDOWNS = {
    "month": N_("Month opened"),
    "language": N_("Language"),
    "channel": N_("Channel"),
}
EXPORT_LIMIT = 200_000
FULL_EXPORT_HOURS = 24
REASON_MIN_LENGTH = 20
REASON_MAX_LENGTH = 2000
REASON_NEEDED = N_("Write why the full export is needed (at least 20 characters).")
FORMAT_NEEDED = N_("Choose CSV or XLSX.")


@dataclasses.dataclass(frozen=True)
class Filters:
    where: store.FigureFilter
    # What the form shows back, by field name.
    values: dict[str, str]
    breakdown: str


def _text(request: Request, name: str) -> str:
    return request.query_params.get(name, "").strip()[:FILTER_MAX_LENGTH]


def _day(request: Request, name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(_text(request, name))
    except ValueError:
        return None


def read_filters(request: Request) -> Filters:
    """The period (office days), language, channel and office of the query; unreadable values
    are dropped rather than refused, as in the audit log's filters."""
    zone = config(request).timezone
    first, last = _day(request, "from"), _day(request, "to")
    office = _text(request, "office")
    office_id = int(office) if office.isdigit() and len(office) < 10 else None
    language, channel = _text(request, "language"), _text(request, "channel")
    breakdown = _text(request, "by")
    values = {
        "from": first.isoformat() if first else "",
        "to": last.isoformat() if last else "",
        "language": language,
        "channel": channel,
        "office": str(office_id) if office_id is not None else "",
        "by": breakdown if breakdown in BREAKDOWNS else "month",
    }
    where = store.FigureFilter(
        since=dt.datetime.combine(first, dt.time(), tzinfo=zone) if first else None,
        before=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone) if last else None,
        language=language or None,
        channel=channel or None,
        office_id=office_id,
    )
    return Filters(where=where, values=values, breakdown=values["by"])


def _query(filters: Filters, **extra: str) -> str:
    return urlencode({**{key: value for key, value in filters.values.items() if value}, **extra})


# --- the figures, masked ---------------------------------------------------------------------------


async def compute(request: Request, filters: Filters) -> Figures:
    """The dashboard under the query's filters, in the reader's language."""
    data = await store.dashboard(database(request), where=filters.where, group=filters.breakdown)
    return build_figures(
        data, breakdown=filters.breakdown, translate=gettext_for(request), locale=i18n.request_locale(request)
    )


async def dashboard(request: Request) -> Response:
    db = database(request)
    filters = read_filters(request)
    translate = gettext_for(request)
    locale = i18n.request_locale(request)
    figures = await compute(request, filters)
    languages, channels, offices = await store.filter_choices(db)
    user = signed_in_user(request)
    query = _query(filters)
    return pages(request).render(
        request,
        "figures.html",
        {
            "active": "figures",
            "figures": figures,
            "funnel": rules.FUNNEL,
            "statuses": [translate.gettext(label) for label in rules.REFERRAL_STATUSES.values()],
            "filters": filters.values,
            "breakdowns": [(key, translate.gettext(label)) for key, label in BREAKDOWNS.items()],
            "breakdown_label": translate.gettext(BREAKDOWNS[filters.breakdown]),
            "languages": [(code, i18n.language_name(code, locale) or code) for code in languages],
            "channels": [(code, source_label(code, translate)) for code in channels],
            "offices": [(str(office.id), office.name) for office in offices],
            "chart": {
                "width": CHART_WIDTH - CHART_LABEL + figures.label_room,
                "label": figures.label_room,
            },
            "query": ("?" + query) if query else "",
            "amp_query": ("&" + query) if query else "",
            "can_export_cases": allows(user.role, Permission.EXPORT_CASES),
        },
    )


# --- exports -----------------------------------------------------------------------------------------


def _format(request: Request) -> str:
    wanted = request.query_params.get("format", "")
    if wanted not in exports.FORMATS:
        raise HTTPException(status_code=400)
    return wanted


def _download(content: bytes, *, name: str, media_type: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def figures_table(figures: Figures, translate: gettext.NullTranslations) -> list[list[object]]:
    """Every figure of the dashboard as (section, category, count) rows, masked as shown."""
    table: list[list[object]] = [
        [translate.gettext(N_("Figure")), translate.gettext(N_("Category")), translate.gettext(N_("Count"))]
    ]
    funnel_title = translate.gettext(N_("Funnel"))
    table.extend([funnel_title, bar.label, bar.cell.text] for bar in figures.bars)
    for section in figures.sections:
        table.extend([section.title, line.label, line.cell.text] for line in section.lines)
        table.append([section.title, translate.gettext(N_("Total")), section.total.text])
    partner_title = translate.gettext(N_("Referrals by partner"))
    statuses = [translate.gettext(label) for label in rules.REFERRAL_STATUSES.values()]
    for partner in figures.partners:
        for status, cell in zip(statuses, partner.cells, strict=True):
            table.append([partner_title, f"{partner.name}: {status}", cell.text])
    return table


async def export_figures(request: Request) -> Response:
    file_format = _format(request)
    filters = read_filters(request)
    figures = await compute(request, filters)
    table = figures_table(figures, gettext_for(request))
    db = database(request)
    await record_audit(
        db,
        actor=signed_in_user(request).actor,
        action="figures.exported",
        object_type="figures",
        object_id=None,
        details={"format": file_format, **_filter_details(filters)},
    )
    await db.commit()
    content = exports.render(table, file_format=file_format, sheet="figures")
    name = f"figures-{utcnow():%Y%m%d}.{file_format}"
    return _download(content, name=name, media_type=exports.FORMATS[file_format])


def _filter_details(filters: Filters) -> dict[str, str]:
    # Codes and days only: the audit log never holds personal data.
    return {f"filter_{key}": value for key, value in filters.values.items() if value and key != "by"}


def case_table(
    rows: list[store.CaseRow],
    translate: gettext.NullTranslations,
    *,
    identities: dict[uuid.UUID, tuple[str, str]] | None = None,
) -> list[list[object]]:
    """Case rows: codes, stage, language, channel, month opened, the funnel's steps and the
    closing reason. With `identities` (a full export) the name and phone follow the code."""
    yes, no = translate.gettext(N_("yes")), translate.gettext(N_("no"))
    header: list[object] = [translate.gettext(N_("Case"))]
    if identities is not None:
        header += [translate.gettext(N_("Name")), translate.gettext(N_("Phone"))]
    header += [
        translate.gettext(N_("Stage")),
        translate.gettext(N_("Language")),
        translate.gettext(N_("Channel")),
        translate.gettext(N_("Month opened")),
        *(translate.gettext(step.label) for step in rules.FUNNEL),
        translate.gettext(N_("Closing reason")),
    ]
    table: list[list[object]] = [header]
    for row in rows:
        line: list[object] = [row.code]
        if identities is not None:
            line += list(identities.get(row.beneficiary_id, ("", "")))
        reason = row.closing_reason
        line += [
            stage_label(row.stage, translate),
            row.language or "",
            row.channel,
            # The month, not the day: a pseudonymised row should not be matched by its date.
            f"{row.opened:%Y-%m}",
            *(yes if row.steps[step.key] else no for step in rules.FUNNEL),
            reason or "",
        ]
        table.append(line)
    return table


async def export_cases(request: Request) -> Response:
    """Case rows without names, phones or any free text: pseudonymised by their case codes."""
    file_format = _format(request)
    filters = read_filters(request)
    db = database(request)
    rows = await store.case_rows(db, where=filters.where, limit=EXPORT_LIMIT)
    table = case_table(rows, gettext_for(request))
    await record_audit(
        db,
        actor=signed_in_user(request).actor,
        action="cases.exported",
        object_type="cases",
        object_id=None,
        details={"format": file_format, "rows": len(rows), "full": False, **_filter_details(filters)},
    )
    await db.commit()
    content = exports.render(table, file_format=file_format, sheet="cases")
    name = f"cases-{utcnow():%Y%m%d}.{file_format}"
    return _download(content, name=name, media_type=exports.FORMATS[file_format])


async def _render_full_form(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    filters = read_filters(request)
    translate = gettext_for(request)
    return pages(request).render(
        request,
        "full_export.html",
        {
            "active": "figures",
            "values": values or {"format": "xlsx", "reason": ""},
            "error": translate.gettext(error) if error else None,
            "query": ("?" + _query(filters)) if _query(filters) else "",
            "hours": FULL_EXPORT_HOURS,
            "reason_max": REASON_MAX_LENGTH,
        },
        status_code=status_code,
    )


async def full_export_form(request: Request) -> Response:
    return await _render_full_form(request)


async def full_export(request: Request) -> Response:
    """Build the named export, encrypt it, keep it until it expires; show the passphrase once."""
    db = database(request)
    user = signed_in_user(request)
    keys = crypto(request)
    form = await request.form()
    reason = " ".join(str(form.get("reason", "")).split())
    file_format = str(form.get("format", ""))
    values = {"format": file_format, "reason": str(form.get("reason", ""))[:REASON_MAX_LENGTH]}
    if file_format not in exports.FORMATS:
        return await _render_full_form(request, values=values, error=FORMAT_NEEDED, status_code=400)
    if not REASON_MIN_LENGTH <= len(reason) <= REASON_MAX_LENGTH:
        return await _render_full_form(request, values=values, error=REASON_NEEDED, status_code=400)
    now = utcnow()
    # Expired archives go first: nothing outlives its expiry for longer than the next request.
    await store.drop_expired_exports(db, now=now)
    filters = read_filters(request)
    rows = await store.case_rows(db, where=filters.where, limit=EXPORT_LIMIT)
    # Someone who stopped taking part or asked to be erased is not handed out by name, at all.
    left_out = await store.left_out_of_named_exports(db, beneficiary_ids={row.beneficiary_id for row in rows})
    rows = [row for row in rows if row.beneficiary_id not in left_out]
    identities = await store.identities(db, keys, beneficiary_ids={row.beneficiary_id for row in rows})
    table = case_table(rows, gettext_for(request), identities=identities)
    passphrase = exports.new_passphrase()
    record = full_export_record(table, file_format=file_format, passphrase=passphrase, now=now)
    record.requested_by, record.rows = user.staff_id, len(rows)
    seal(keys, record, "reason_enc", reason)
    db.add(record)
    await db.flush()
    await record_audit(
        db,
        actor=user.actor,
        action="cases.exported",
        object_type="full_export",
        object_id=str(record.id),
        details={"format": file_format, "rows": len(rows), "full": True, **_filter_details(filters)},
    )
    await db.commit()
    locale = i18n.request_locale(request)
    return pages(request).render(
        request,
        "full_export_ready.html",
        {
            "active": "figures",
            "passphrase": passphrase,
            "download": request.url_for("full_export_download", export_id=str(record.id)).path,
            "rows": len(rows),
            "expires": i18n.format_local_datetime(
                record.expires_at, locale=locale, timezone=config(request).timezone
            ),
        },
    )


def full_export_record(
    table: list[list[object]], *, file_format: str, passphrase: str, now: dt.datetime
) -> FullExport:
    """The table as a file in an archive encrypted with the passphrase, kept until it expires."""
    inner = f"cases-full-{now:%Y%m%d-%H%M}.{file_format}"
    content = exports.render(table, file_format=file_format, sheet="cases")
    return FullExport(
        file_name=inner.rsplit(".", 1)[0] + ".zip",
        archive=exports.encrypted_archive({inner: content}, passphrase=passphrase),
        created_at=now,
        expires_at=now + dt.timedelta(hours=FULL_EXPORT_HOURS),
    )


async def full_export_download(request: Request) -> Response:
    """The encrypted archive, for the person who asked for it, until it expires."""
    db = database(request)
    user = signed_in_user(request)
    try:
        export_id = uuid.UUID(str(request.path_params["export_id"]))
    except ValueError:
        raise HTTPException(status_code=404) from None
    record = await db.get(FullExport, export_id)
    if record is None or record.requested_by != user.staff_id or record.expires_at <= utcnow():
        raise HTTPException(status_code=404)
    await record_audit(
        db,
        actor=user.actor,
        action="full_export.downloaded",
        object_type="full_export",
        object_id=str(record.id),
        details={},
    )
    archive = record.archive or b""
    name = record.file_name
    await db.commit()
    return _download(archive, name=name, media_type=exports.ZIP_TYPE)


routes = [
    page("/figures", dashboard, name="figures", permission=Permission.FIGURES),
    page("/figures/export", export_figures, name="figures_export", permission=Permission.FIGURES),
    page("/figures/cases-export", export_cases, name="cases_export", permission=Permission.EXPORT_CASES),
    page(
        "/figures/full-export", full_export_form, name="full_export_form", permission=Permission.EXPORT_CASES
    ),
    action("/figures/full-export", full_export, name="full_export", permission=Permission.EXPORT_CASES),
    page(
        "/figures/full-export/{export_id}",
        full_export_download,
        name="full_export_download",
        permission=Permission.EXPORT_CASES,
    ),
]
