"""Appointments in the console: each office's calendar (case codes only, never names), a case's
appointments tab, marking attended or no-show, and proposing or moving a time.

A proposal holds its seat (an appointment with status "proposed") until the person answers in the
bot, the caseworker withdraws it, or it expires: 48 hours after it was made, and never past the
time itself (storage.appointments.PROPOSAL_HOLD). An expired one's seat is free for everyone at
once; its row is settled the next time that slot is booked or its buttons are pressed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from caseworker_console import casework as work
from caseworker_console import i18n
from caseworker_console.casetabs import CLOSED, Refused, commit_change, open_tab, tab_context
from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routing import action, page, request_case, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.viewmodels import appointments as view
from caseworker_console.viewmodels import calendar
from caseworker_console.viewmodels.appointments import markable, parse_day
from programme.appointments import APPOINTMENT_TYPES, Schedule, free_slots
from programme.cycle import Stage
from programme.text import N_
from storage import appointments as store
from storage import casework
from storage.models import Case
from storage.models_appointments import AppointmentProposal, Office
from storage.queries import record_audit
from storage.reminders import confirmations

NOT_YET = N_("Only an appointment of today or earlier can be marked.")
NOT_MARKABLE = N_("That appointment cannot be marked.")
NO_SUCH_APPOINTMENT = N_("That appointment is not one of this case's appointments.")
NO_SUCH_PROPOSAL = N_("That proposal is not one of this case's open proposals.")
PROPOSAL_CLOSED = N_("The beneficiary answered, or the proposal expired, before it could be withdrawn.")
CHOOSE_TIME = N_("Choose an office, a type, a day and then one of the free times.")
TIME_TAKEN = N_("That time is no longer free. Choose another one.")
ONE_AT_A_TIME = N_("A proposal is already waiting for an answer. Withdraw it before proposing another time.")
CANNOT_MOVE = N_("Only a booked appointment that has not begun can be moved.")
UNREACHABLE = N_(
    "The beneficiary has blocked the bot, so a proposal would not reach them. Agree a time by phone."
)
ASKED_TO_DELETE = N_(
    "The beneficiary asked for their data to be deleted or to leave the programme: no time can be "
    "proposed. Work the request first."
)


def office_zone(request: Request, office: Office) -> zoneinfo.ZoneInfo:
    return view.office_zone(office, config(request).timezone)


def schedule_of(request: Request, office: Office) -> Schedule:
    return store.office_schedule(office, default_timezone=config(request).timezone.key)


def day_span(day: dt.date, days: int, zone: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=days), dt.time(), tzinfo=zone).astimezone(dt.UTC)
    return start, end


# ── the calendar of an office ──────────────────────────────────────────────────────────────────────


async def calendar_page(request: Request) -> Response:
    db = database(request)
    locale = i18n.request_locale(request)
    offices = await store.active_offices(db)
    wanted = request.query_params.get("office", "")
    office = next((o for o in offices if str(o.id) == wanted), offices[0] if offices else None)
    view = "day" if request.query_params.get("view") == "day" else "week"
    context: dict[str, Any] = {"active": "calendar", "offices": offices, "office": office, "view": view}
    if office is None:
        return pages(request).render(request, "calendar.html", context)
    now = config(request).clock()
    shown = parse_day(request.query_params.get("date")) or now.astimezone(office_zone(request, office)).date()
    days = calendar.span(view, shown, locale)
    start, end = day_span(days.first, days.count, office_zone(request, office))
    loaded = calendar.Loaded(
        office=office,
        schedule=schedule_of(request, office),
        appointments=await store.office_appointments(db, office_id=office.id, start=start, end=end),
        held=await store.booked_counts(db, office_id=office.id, start=start, end=end, now=now),
    )
    shown_view = calendar.build_calendar(
        loaded, days=days, shown=shown, now=now, translate=gettext_for(request), locale=locale
    )
    await record_audit(
        db,
        actor=signed_in_user(request).actor,
        action="calendar.viewed",
        object_type="office",
        object_id=str(office.id),
        details={"from": days.first.isoformat(), "days": days.count},
    )
    await db.commit()
    context.update({field.name: getattr(shown_view, field.name) for field in dataclasses.fields(shown_view)})
    return pages(request).render(request, "calendar.html", context)


# ── a case's appointments ─────────────────────────────────────────────────────────────────────────


async def refusal(request: Request, case: Case) -> str | None:
    """Why no time can be proposed for this case now (a msgid), or None."""
    if case.stage == Stage.CLOSED:
        return CLOSED
    requests = await casework.case_requests(database(request), case=case)
    if any(r.status == "open" and r.kind in ("deletion", "withdrawal") for r in requests):
        return ASKED_TO_DELETE
    if (await casework.beneficiary_of(database(request), case=case)).unreachable_at is not None:
        return UNREACHABLE
    return None


async def open_proposal(request: Request, case: Case, now: dt.datetime) -> AppointmentProposal | None:
    proposal = await store.pending_proposal(database(request), case_id=case.id)
    return proposal if proposal is not None and proposal.expires_at > now else None


async def load(request: Request, case: Case, chosen: dict[str, Any], now: dt.datetime) -> view.Loaded:
    """The case's appointments and proposals, and the seats held on the day the form looks at."""
    db = database(request)
    offices = {office.id: office for office in await store.active_offices(db)}
    rows = list(await store.case_appointments(db, case_id=case.id))
    proposals = list(await store.case_proposals(db, case_id=case.id))
    staff_ids = [row.marked_by for row in rows if row.marked_by]
    staff_ids += [proposal.proposed_by for proposal in proposals if proposal.proposed_by]
    office, day = view.looked_at(chosen, offices)
    held: dict[dt.datetime, int] = {}
    if office is not None and day is not None:
        start, end = day_span(day, 1, office_zone(request, office))
        held = await store.booked_counts(db, office_id=office.id, start=start, end=end, now=now)
    return view.Loaded(
        appointments=rows,
        proposals=proposals,
        staff=await casework.staff_by_id(db, ids=staff_ids),
        confirmed=await confirmations(db, appointment_ids=[row.id for row in rows]),
        offices=offices,
        held=held,
    )


async def render(
    request: Request,
    *,
    values: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    case = request_case(request)
    translate = gettext_for(request)
    context = await tab_context(request, "appointments")
    now = config(request).clock()
    # The proposing form: office, type, day and what it moves come back through a GET (which
    # only reads), and the free times of that day are offered.
    chosen = {**dict(request.query_params), **(values or {})}
    loaded = await load(request, case, chosen, now)
    reader = view.Reader(
        translate=translate,
        locale=i18n.request_locale(request),
        zone=config(request).timezone,
        now=now,
        can_write=context["can_write"],
    )
    tab = view.build_appointments(loaded, chosen=chosen, reader=reader)
    refused = await refusal(request, case)
    waiting = await open_proposal(request, case, now)
    return pages(request).render(
        request,
        "appointments.html",
        {
            **context,
            "error": translate.gettext(error) if error else None,
            "saved": request.query_params.get("saved") == "1",
            "appointments": tab.appointments,
            "proposals": tab.proposals,
            "refused": translate.gettext(refused) if refused else None,
            "waiting": waiting is not None,
            "offices": list(loaded.offices.values()),
            "types": [(value, translate.gettext(label)) for value, label in APPOINTMENT_TYPES.items()],
            "chosen": tab.chosen,
            "looked": tab.looked,
            "slots": tab.slots,
            "today": tab.today,
        },
        status_code=status_code,
    )


async def appointments_tab(request: Request) -> Response:
    return await open_tab(request, "appointments", render)


async def mark(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    form = await request.form()
    if case.stage == Stage.CLOSED:
        return await render(request, error=CLOSED, status_code=400)
    appointment = await store.find_appointment(
        db, case_id=case.id, appointment_id=str(form.get("appointment"))
    )
    status = form.get("status")
    if appointment is None:
        return await render(request, error=NO_SUCH_APPOINTMENT, status_code=400)
    if status not in store.MARKS or appointment.status not in (store.BOOKED, *store.MARKS):
        return await render(request, error=NOT_MARKABLE, status_code=400)
    if not markable(appointment, office_zone(request, appointment.office), config(request).clock()):
        return await render(request, error=NOT_YET, status_code=400)

    async def change() -> None:
        await work.mark_appointment(
            db,
            case=case,
            appointment=appointment,
            status=str(status),
            staff_id=user.staff_id,
            actor=user.actor,
        )

    return await commit_change(
        request, version=form.get("version"), change=change, render=render, tab="case_appointments"
    )


async def propose(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    form = await request.form()
    values = {key: str(form.get(key) or "") for key in ("office", "type", "day", "slot", "replaces")}
    refused = await refusal(request, case)
    if refused is not None:
        return await render(request, values=values, error=refused, status_code=400)
    now = config(request).clock()
    if await open_proposal(request, case, now) is not None:
        return await render(request, values=values, error=ONE_AT_A_TIME, status_code=409)
    offices = {office.id: office for office in await store.active_offices(db)}
    office = offices.get(int(values["office"])) if values["office"].isdigit() else None
    day = parse_day(values["day"])
    if office is None or day is None or values["type"] not in office.appointment_types:
        return await render(request, values=values, error=CHOOSE_TIME, status_code=400)
    replaces = None
    if values["replaces"]:
        replaces = await store.find_appointment(db, case_id=case.id, appointment_id=values["replaces"])
        if replaces is None or replaces.status != store.BOOKED or replaces.starts_at <= now:
            return await render(request, values=values, error=CANNOT_MOVE, status_code=400)
    zone = office_zone(request, office)
    start, end = day_span(day, 1, zone)
    held = await store.booked_counts(db, office_id=office.id, start=start, end=end, now=now)
    free = {at.isoformat(): at for at in free_slots(schedule_of(request, office), day, booked=held, now=now)}
    if not values["slot"]:
        return await render(request, values=values, error=CHOOSE_TIME, status_code=400)
    starts_at = free.get(values["slot"])
    if starts_at is None:
        return await render(request, values=values, error=TIME_TAKEN, status_code=409)

    async def change() -> None:
        proposal = await work.propose_time(
            db,
            crypto(request),
            case=case,
            office=office,
            appointment_type=values["type"],
            starts_at=starts_at,
            replaces=replaces,
            zone=zone,
            staff_id=user.staff_id,
            actor=user.actor,
            now=now,
        )
        if proposal is None:
            raise Refused(TIME_TAKEN)

    return await commit_change(
        request,
        version=form.get("version"),
        change=change,
        render=render,
        values=values,
        tab="case_appointments",
    )


async def withdraw(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    form = await request.form()
    proposal = await store.find_proposal(db, case_id=case.id, proposal_id=str(form.get("proposal")))
    if proposal is None or proposal.status != store.PENDING:
        return await render(request, error=NO_SUCH_PROPOSAL, status_code=400)

    async def change() -> None:
        withdrawn = await work.withdraw_proposal(
            db,
            crypto(request),
            case=case,
            proposal=proposal,
            zone=office_zone(request, proposal.appointment.office),
            actor=user.actor,
        )
        if not withdrawn:
            raise Refused(PROPOSAL_CLOSED)

    return await commit_change(
        request, version=form.get("version"), change=change, render=render, tab="case_appointments"
    )


routes = [
    page("/appointments", calendar_page, name="calendar", permission=Permission.CALENDAR),
    page(
        "/cases/{code}/appointments",
        appointments_tab,
        name="case_appointments",
        permission=Permission.CASE_READ,
    ),
    action(
        "/cases/{code}/appointments/mark",
        mark,
        name="case_appointments_mark",
        permission=Permission.CASE_WRITE,
    ),
    action(
        "/cases/{code}/appointments/propose",
        propose,
        name="case_appointments_propose",
        permission=Permission.CASE_WRITE,
    ),
    action(
        "/cases/{code}/appointments/withdraw",
        withdraw,
        name="case_appointments_withdraw",
        permission=Permission.CASE_WRITE,
    ),
]
