"""Offices: where and when people are received. Administrators create, edit, close and deactivate
them; supervisors read them. Every change is audited.

A change that leaves booked appointments outside the office's new opening (new hours, a holiday,
a closure, deactivating) lists those appointments first; confirming saves it and proposes each
person a new time through the proposal flow (caseworker_console.casework.propose_time), in their
language. An appointment no time can be proposed for stays booked and is listed for a phone call:
nothing booked is dropped silently.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from functools import cache
from typing import Any

from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console import casework as work
from caseworker_console import i18n
from caseworker_console.config import config, crypto, today
from caseworker_console.database import database
from caseworker_console.i18n import translated
from caseworker_console.permissions import Permission, allows
from caseworker_console.routes.appointments import refusal
from caseworker_console.routing import action, page, saved, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.viewmodels.appointments import status_label, type_label
from caseworker_console.views import BOT_LANGUAGES, FIX_BELOW
from programme import offices as rules
from programme.appointments import APPOINTMENT_TYPES, parse_hours
from programme.offices import DayOff, stored_days_off
from programme.text import N_
from storage import appointments as store
from storage import offices as office_store
from storage.models import Case, utcnow
from storage.models_appointments import Office
from storage.queries import record_audit

NOT_FOUND = N_("This office does not exist.")
CLOSURE_NOT_FOUND = N_("This closure is not one of the office's closures.")
MOVED = N_("Case %(code)s: a new time, %(when)s, was proposed to the person.")
WITHDRAWN = N_("Case %(code)s: the proposed time was withdrawn and the person told.")
CALL = N_(
    "Case %(code)s: no new time could be proposed. %(why)s The appointment stays booked: agree a new time "
    "with the person by phone."
)
NO_TIME = N_("No office has a free time in the coming weeks.")
SUGGESTED = N_(
    "Azerbaijan's public holidays of the coming year were added to the list below. Check them, change "
    "what you need and save the office."
)


# The bot's languages, in which an office's name and address may be given.
LANGUAGE_CODES = tuple(code for code, _label in BOT_LANGUAGES)


@cache
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@dataclasses.dataclass(frozen=True)
class OfficeView:
    id: int
    name: str
    address: str
    map_url: str
    point: str
    timezone: str
    hours: list[tuple[str, str]]
    slot_minutes: int
    capacity: int
    types: list[str]
    holidays: list[tuple[str, str]]
    closures: list[tuple[str, str, str]]  # (dates, reason, the closure's key for removing it)
    active: bool
    # (language code, its name, the office's name, its address) where given in that language.
    translations: list[tuple[str, str, str, str]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class StrandedView:
    code: str
    when: str
    type: str
    status: str


def map_url(latitude: float, longitude: float) -> str:
    """The point on openstreetmap.org (a link, not an embedded map: no third party sees the console)."""
    return f"https://www.openstreetmap.org/?mlat={latitude:.5f}&mlon={longitude:.5f}#map=17/{latitude:.5f}/{longitude:.5f}"


def _dates(item: DayOff, locale: str) -> str:
    first = i18n.format_day(item.start, locale=locale)
    return first if item.start == item.end else f"{first} – {i18n.format_day(item.end, locale=locale)}"


def closure_key(item: DayOff) -> str:
    return f"{item.start.isoformat()}/{item.end.isoformat()}"


def _view(request: Request, office: Office) -> OfficeView:
    translate = gettext_for(request)
    locale = i18n.request_locale(request)
    hours = parse_hours(office.opening_hours)
    today = _today(request, office.timezone)
    return OfficeView(
        id=office.id,
        name=office.name,
        address=office.address,
        map_url=map_url(office.latitude, office.longitude),
        point=f"{office.latitude:.5f}, {office.longitude:.5f}",
        timezone=office.timezone or config(request).timezone.key,
        hours=[
            (translate.gettext(label), rules.hours_text(hours.get(weekday, ())))
            for weekday, label in enumerate(rules.WEEKDAYS)
        ],
        slot_minutes=office.slot_minutes,
        capacity=office.capacity,
        types=[type_label(value, translate) for value in office.appointment_types],
        # Those that are over no longer matter (they stay stored, and in the audit log).
        holidays=[
            (_dates(item, locale), item.label)
            for item in stored_days_off(office.holidays)
            if item.end >= today
        ],
        closures=[
            (_dates(item, locale), item.label, closure_key(item))
            for item in stored_days_off(office.closures)
            if item.end >= today
        ],
        active=office.active,
        translations=[
            (code, label, (office.names or {}).get(code, ""), (office.addresses or {}).get(code, ""))
            for code, label in BOT_LANGUAGES
            if (office.names or {}).get(code) or (office.addresses or {}).get(code)
        ],
    )


def _today(request: Request, timezone: str | None = None) -> dt.date:
    return today(request, zoneinfo.ZoneInfo(timezone) if timezone in time_zones() else None)


async def offices_page(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    db = database(request)
    user = signed_in_user(request)
    found = [_view(request, office) for office in await office_store.all_offices(db)]
    return pages(request).render(
        request,
        "offices.html",
        {
            "active": "offices",
            "offices": found,
            "manage": allows(user.role, Permission.OFFICES_MANAGE),
            "saved": request.query_params.get("saved") == "1",
            "today": _today(request).isoformat(),
            "error": gettext_for(request).gettext(error) if error else None,
        },
        status_code=status_code,
    )


async def no_such_office(request: Request) -> Response:
    """A forged or stale office id in a posted form: said plainly, nothing changed."""
    return await offices_page(request, error=NOT_FOUND, status_code=400)


# ── the office form ────────────────────────────────────────────────────────────────────────────────


def _form_values(office: Office | None, request: Request) -> dict[str, Any]:
    """What the form shows for an office (or a new one): the texts the administrator edits."""
    if office is None:
        return {
            "timezone": config(request).timezone.key,
            "slot_minutes": "30",
            "capacity": "1",
            "appointment_types": list(APPOINTMENT_TYPES),
            "active": "1",
        }
    hours = parse_hours(office.opening_hours)
    today = _today(request, office.timezone)
    return {
        "name": office.name,
        "address": office.address,
        "latitude": f"{office.latitude:.6f}",
        "longitude": f"{office.longitude:.6f}",
        "timezone": office.timezone or config(request).timezone.key,
        **{f"hours_{weekday}": rules.hours_text(hours.get(weekday, ())) for weekday in range(7)},
        "slot_minutes": str(office.slot_minutes),
        "capacity": str(office.capacity),
        "appointment_types": list(office.appointment_types),
        # Holidays that are over no longer matter, and the form refuses a date in the past.
        "holidays": "\n".join(
            item.as_line() for item in stored_days_off(office.holidays) if item.end >= today
        ),
        "active": "1" if office.active else "",
        **{f"name_{code}": value for code, value in (office.names or {}).items()},
        **{f"address_{code}": value for code, value in (office.addresses or {}).items()},
    }


def _posted(form: Any) -> dict[str, Any]:
    keys = (
        "name",
        "address",
        "latitude",
        "longitude",
        "timezone",
        "slot_minutes",
        "capacity",
        "holidays",
        "active",
    )
    values: dict[str, Any] = {key: str(form.get(key) or "") for key in keys}
    values.update({f"hours_{weekday}": str(form.get(f"hours_{weekday}") or "") for weekday in range(7)})
    values["appointment_types"] = [str(item) for item in form.getlist("appointment_types")]
    for code in LANGUAGE_CODES:
        values[f"name_{code}"] = str(form.get(f"name_{code}") or "")
        values[f"address_{code}"] = str(form.get(f"address_{code}") or "")
    return values


async def render_form(
    request: Request,
    *,
    office: Office | None,
    values: dict[str, Any],
    errors: dict[str, rules.Message] | None = None,
    notice: str | None = None,
    stranded: list[StrandedView] | None = None,
    status_code: int = 200,
) -> Response:
    translate = gettext_for(request)
    errors = errors or {}
    return pages(request).render(
        request,
        "office_form.html",
        {
            "active": "offices",
            "office": office,
            "values": values,
            "errors": {
                field: translated(translate, message, params) for field, (message, params) in errors.items()
            },
            "summary": translate.gettext(FIX_BELOW) if errors else None,
            "notice": translate.gettext(notice) if notice else None,
            "weekdays": [translate.gettext(label) for label in rules.WEEKDAYS],
            "types": [(value, translate.gettext(label)) for value, label in APPOINTMENT_TYPES.items()],
            "zones": sorted(time_zones()),
            "languages": BOT_LANGUAGES,
            "stranded": stranded,
            "limits": {
                "name": rules.NAME_MAX,
                "address": rules.ADDRESS_MAX,
                "places": (rules.PLACES_MIN, rules.PLACES_MAX),
                "slot": (rules.SLOT_MIN, rules.SLOT_MAX),
            },
        },
        status_code=status_code,
    )


async def edit_page(request: Request) -> Response:
    db = database(request)
    wanted = request.query_params.get("office")
    office = None
    if wanted is not None:
        office = await office_store.find_office(db, office_id=wanted)
        if office is None:
            raise HTTPException(status_code=404)
    return await render_form(request, office=office, values=_form_values(office, request))


async def _stranded_views(request: Request, items: list[office_store.Stranded]) -> list[StrandedView]:
    translate = gettext_for(request)
    locale = i18n.request_locale(request)
    zone_of = {}
    views = []
    for item in items:
        office = item.appointment.office
        zone_of.setdefault(office.id, zoneinfo.ZoneInfo(office.timezone or config(request).timezone.key))
        views.append(
            StrandedView(
                code=item.code,
                when=i18n.format_local_datetime(
                    item.appointment.starts_at, locale=locale, timezone=zone_of[office.id]
                ),
                type=type_label(item.appointment.type, translate),
                status=status_label(item.appointment.status, translate),
            )
        )
    return views


async def save_office(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    form = await request.form()
    raw_id = form.get("office")
    office = None
    if raw_id:
        office = await office_store.find_office(db, office_id=raw_id)
        if office is None:
            return await no_such_office(request)
    values = _posted(form)
    today = _today(request, values["timezone"])
    if form.get("do") == "suggest":
        # Only reads: the library's holidays join the list in the form, to accept or edit.
        present = {line.strip() for line in values["holidays"].splitlines() if line.strip()}
        language = rules.holiday_language(i18n.request_locale(request))
        offered = [item.as_line() for item in rules.country_holidays(today=today, language=language)]
        values["holidays"] = "\n".join([*present, *(line for line in offered if line not in present)])
        return await render_form(request, office=office, values=values, notice=SUGGESTED)
    settings = rules.read_office(
        values, types=list(APPOINTMENT_TYPES), today=today, zones=time_zones(), languages=LANGUAGE_CODES
    )
    if "name" not in settings.errors and await office_store.name_taken(
        db, name=settings.name, other_than=office.id if office else None
    ):
        settings.errors["name"] = (rules.NAME_TAKEN, {})
    if settings.errors:
        return await render_form(
            request, office=office, values=values, errors=settings.errors, status_code=400
        )
    stranded: list[office_store.Stranded] = []
    if office is not None:
        schedule = settings.schedule(closures=stored_days_off(office.closures))
        stranded = await office_store.stranded(db, office=office, schedule=schedule, active=settings.active)
        if stranded and form.get("confirm") != "1":
            return await render_form(
                request,
                office=office,
                values=values,
                stranded=await _stranded_views(request, stranded),
                status_code=409,
            )
    created = office is None
    if office is None:
        office = Office(created_at=utcnow())
        db.add(office)
    before = _audit_values(office) if not created else None
    office_store.apply_settings(office, settings)
    try:
        await db.flush()
    except IntegrityError:
        # The name was taken between the check and now: by this very form sent twice at once, or
        # by another administrator. Nothing is saved; the form says so with everything typed.
        await db.rollback()
        again = await office_store.find_office(db, office_id=raw_id) if raw_id else None
        return await render_form(
            request, office=again, values=values, errors={"name": (rules.NAME_TAKEN, {})}, status_code=400
        )
    await record_audit(
        db,
        actor=user.actor,
        action="office.created" if created else "office.changed",
        object_type="office",
        object_id=str(office.id),
        details={"changed": _changes(before, _audit_values(office)), "stranded": len(stranded)},
    )
    outcomes = await _move(request, stranded)
    await db.commit()
    if outcomes:
        return await render_moved(request, office, outcomes)
    return saved(request, "offices")


def _audit_values(office: Office) -> dict[str, Any]:
    """The settings an audit entry compares: no personal data is held by an office."""
    return {
        "name": office.name,
        "address": office.address,
        "point": [office.latitude, office.longitude],
        "timezone": office.timezone,
        "hours": office.opening_hours,
        "slot_minutes": office.slot_minutes,
        "capacity": office.capacity,
        "types": office.appointment_types,
        "holidays": office.holidays,
        "closures": office.closures,
        "active": office.active,
        "names": office.names,
        "addresses": office.addresses,
    }


def _changes(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, Any]:
    if before is None:
        return after
    return {key: value for key, value in after.items() if before.get(key) != value}


# ── moving what a change strands ────────────────────────────────────────────────────────────────────


async def _move(request: Request, items: list[office_store.Stranded]) -> list[str]:
    """Withdraw stranded proposals and propose stranded bookings a new time; a line per appointment."""
    db = database(request)
    user = signed_in_user(request)
    translate = gettext_for(request)
    locale = i18n.request_locale(request)
    default_zone = config(request).timezone.key
    lines = []
    for item in items:
        appointment = item.appointment
        case = await db.get(Case, appointment.case_id)
        assert case is not None
        if item.proposal is not None:
            zone = zoneinfo.ZoneInfo(appointment.office.timezone or default_zone)
            await work.withdraw_proposal(
                db, crypto(request), case=case, proposal=item.proposal, zone=zone, actor=user.actor
            )
            lines.append(translate.gettext(WITHDRAWN) % {"code": item.code})
            if item.proposal.replaces_id is not None:
                continue  # the appointment it would have moved is still booked (and checked itself)
            replaces = None
        else:
            replaces = appointment
        why = await refusal(request, case)
        found = None if why else await _new_time(request, appointment.type, prefer=appointment.office_id)
        if found is None:
            lines.append(
                translate.gettext(CALL) % {"code": item.code, "why": translate.gettext(why or NO_TIME)}
            )
            continue
        office, starts_at = found
        zone = zoneinfo.ZoneInfo(office.timezone or default_zone)
        proposal = await work.propose_time(
            db,
            crypto(request),
            case=case,
            office=office,
            appointment_type=appointment.type,
            starts_at=starts_at,
            replaces=replaces,
            zone=zone,
            staff_id=user.staff_id,
            actor=user.actor,
            now=config(request).clock(),
        )
        if proposal is None:
            lines.append(translate.gettext(CALL) % {"code": item.code, "why": translate.gettext(NO_TIME)})
            continue
        when = i18n.format_local_datetime(starts_at, locale=locale, timezone=zone)
        lines.append(translate.gettext(MOVED) % {"code": item.code, "when": f"{when}, {office.name}"})
    return lines


async def _new_time(
    request: Request, appointment_type: str, *, prefer: int
) -> tuple[Office, dt.datetime] | None:
    """The earliest free time of the same office (if it still offers the type), else of another."""
    db = database(request)
    now = config(request).clock()
    offices = await store.active_offices(db, appointment_type=appointment_type)
    offices.sort(key=lambda office: office.id != prefer)
    for office in offices:
        starts_at = await office_store.first_free_time(
            db, office=office, default_timezone=config(request).timezone.key, now=now
        )
        if starts_at is not None:
            return office, starts_at
    return None


async def render_moved(request: Request, office: Office, lines: list[str]) -> Response:
    return pages(request).render(
        request, "office_moved.html", {"active": "offices", "office": office, "lines": lines}
    )


# ── closures ────────────────────────────────────────────────────────────────────────────────────────


async def close_office(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    form = await request.form()
    office = await office_store.find_office(db, office_id=form.get("office"))
    if office is None:
        return await no_such_office(request)
    closure, error = rules.read_closure(form, today=_today(request, office.timezone))
    values = {key: str(form.get(key) or "")[:200] for key in ("start", "end", "reason")}
    if closure is None:
        return await render_closure(request, office, values=values, error=error, status_code=400)
    closures = office_store.with_closure(office, closure)
    schedule = store.office_schedule(office, default_timezone=config(request).timezone.key)
    schedule = dataclasses.replace(schedule, holidays=schedule.holidays | rules.closed_days([closure]))
    stranded = await office_store.stranded(db, office=office, schedule=schedule, active=office.active)
    if stranded and form.get("confirm") != "1":
        return await render_closure(
            request, office, values=values, stranded=await _stranded_views(request, stranded), status_code=409
        )
    office.closures = closures
    await record_audit(
        db,
        actor=user.actor,
        action="office.closed",
        object_type="office",
        object_id=str(office.id),
        details={**closure.as_stored(), "stranded": len(stranded)},
    )
    await db.flush()
    outcomes = await _move(request, stranded)
    await db.commit()
    if outcomes:
        return await render_moved(request, office, outcomes)
    return saved(request, "offices")


async def render_closure(
    request: Request,
    office: Office,
    *,
    values: dict[str, str],
    error: rules.Message | None = None,
    stranded: list[StrandedView] | None = None,
    status_code: int = 200,
) -> Response:
    translate = gettext_for(request)
    return pages(request).render(
        request,
        "office_closure.html",
        {
            "active": "offices",
            "office": _view(request, office),
            "values": values,
            "error": translate.gettext(error[0]) % error[1] if error else None,
            "stranded": stranded,
            "today": _today(request, office.timezone).isoformat(),
        },
        status_code=status_code,
    )


async def closure_page(request: Request) -> Response:
    wanted = request.query_params.get("office")
    if wanted is None:
        return RedirectResponse(request.url_for("offices").path, status_code=303)
    office = await office_store.find_office(database(request), office_id=wanted)
    if office is None:
        raise HTTPException(status_code=404)
    return await render_closure(request, office, values={})


async def reopen_office(request: Request) -> Response:
    """Remove a closure (entered by mistake, or the office reopens early): it only adds times."""
    db = database(request)
    user = signed_in_user(request)
    form = await request.form()
    office = await office_store.find_office(db, office_id=form.get("office"))
    if office is None:
        return await no_such_office(request)
    key = str(form.get("closure") or "")
    kept = [item for item in stored_days_off(office.closures) if closure_key(item) != key]
    if len(kept) == len(office.closures or []):
        return await render_closure(
            request, office, values={}, error=(CLOSURE_NOT_FOUND, {}), status_code=400
        )
    office.closures = [item.as_stored() for item in kept]
    await record_audit(
        db,
        actor=user.actor,
        action="office.reopened",
        object_type="office",
        object_id=str(office.id),
        details={"closure": key},
    )
    await db.commit()
    return saved(request, "offices")


async def list_page(request: Request) -> Response:
    return await offices_page(request)


routes = [
    page("/offices", list_page, name="offices", permission=Permission.OFFICES),
    page("/offices/edit", edit_page, name="office_edit", permission=Permission.OFFICES_MANAGE),
    action("/offices/save", save_office, name="office_save", permission=Permission.OFFICES_MANAGE),
    page("/offices/closure", closure_page, name="office_closure", permission=Permission.OFFICES_MANAGE),
    action("/offices/close", close_office, name="office_close", permission=Permission.OFFICES_MANAGE),
    action("/offices/reopen", reopen_office, name="office_reopen", permission=Permission.OFFICES_MANAGE),
]
