"""A caseworker's appointments as an iCalendar feed at a secret URL, and the page that makes,
replaces and revokes that URL.

The feed is public by its token (a calendar app cannot sign in): the token is 256 random bits, only
its SHA-256 is stored, a new one replaces the old at once, revoking deletes it, and an unknown or
revoked token answers 404 like any missing page. The feed names no one: each event is a case
code, the kind of appointment, the office and the time. Serving it changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from icalendar import Calendar, Event
from sqlalchemy import delete, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console import i18n
from caseworker_console.config import config
from caseworker_console.database import database
from caseworker_console.permissions import Permission, allows
from caseworker_console.routing import action, page, signed_in_user
from caseworker_console.templating import pages
from programme.appointments import APPOINTMENT_TYPES
from programme.text import N_
from storage.models import Case, StaffUser
from storage.models_appointments import Appointment, Office
from storage.models_figures import CalendarFeed
from storage.queries import record_audit

TOKEN_BYTES = 32
ICS_TYPE = "text/calendar; charset=utf-8"
# The feed: appointments from a month back, at most this many.
FEED_PAST = dt.timedelta(days=30)
FEED_LIMIT = 1000
SUMMARY = N_("%(kind)s · case %(code)s")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def _render(request: Request, *, feed_url: str | None = None) -> Response:
    db = database(request)
    user = signed_in_user(request)
    feed = await db.get(CalendarFeed, user.staff_id)
    created = None
    if feed is not None:
        created = i18n.format_local_datetime(
            feed.created_at, locale=i18n.request_locale(request), timezone=config(request).timezone
        )
    return pages(request).render(
        request,
        "calendar_feed.html",
        {"active": "calendar_feed", "has_feed": feed is not None, "created": created, "feed_url": feed_url},
    )


async def calendar_page(request: Request) -> Response:
    return await _render(request)


async def new_feed(request: Request) -> Response:
    """A new secret URL, shown once in this answer; any earlier one stops working."""
    db = database(request)
    user = signed_in_user(request)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed = await db.get(CalendarFeed, user.staff_id)
    if feed is None:
        db.add(
            CalendarFeed(
                staff_id=user.staff_id, token_hash=token_hash(token), created_at=config(request).clock()
            )
        )
    else:
        feed.token_hash = token_hash(token)
        feed.created_at = config(request).clock()
    await record_audit(
        db,
        actor=user.actor,
        action="calendar_feed.created",
        object_type="staff",
        object_id=str(user.staff_id),
        details={"replaced": feed is not None},
    )
    await db.commit()
    # A calendar app needs the whole address, so this one link is absolute.
    return await _render(request, feed_url=str(request.url_for("calendar_feed", token=token)))


async def revoke_feed(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    result = await db.execute(delete(CalendarFeed).where(CalendarFeed.staff_id == user.staff_id))
    await record_audit(
        db,
        actor=user.actor,
        action="calendar_feed.revoked",
        object_type="staff",
        object_id=str(user.staff_id),
        details={"existed": bool(getattr(result, "rowcount", 0))},
    )
    await db.commit()
    return RedirectResponse(request.url_for("calendar_feed_page").path, status_code=303)


async def feed(request: Request) -> Response:
    db = database(request)
    token = str(request.path_params["token"])
    if not 20 <= len(token) <= 100:
        raise HTTPException(status_code=404)
    row = (
        await db.execute(select(CalendarFeed).where(CalendarFeed.token_hash == token_hash(token)))
    ).scalar_one_or_none()
    owner = None if row is None else await db.get(StaffUser, row.staff_id)
    if row is None or owner is None or not owner.active or not allows(owner.role, Permission.CALENDAR_FEED):
        raise HTTPException(status_code=404)
    translate = i18n.translations(i18n.supported(owner.language) or i18n.DEFAULT_LOCALE)
    statement = (
        select(Appointment, Case.code, Office)
        .join(Case, Case.id == Appointment.case_id)
        .join(Office, Office.id == Appointment.office_id)
        .where(
            Case.assigned_to == owner.id,
            # Booked, attended or missed: a proposal the person has not accepted is no appointment yet.
            Appointment.status.in_(("booked", "attended", "no_show")),
            Appointment.starts_at >= config(request).clock() - FEED_PAST,
        )
        .order_by(Appointment.starts_at, Appointment.id)
        .limit(FEED_LIMIT)
    )
    calendar = Calendar()
    calendar.add("prodid", "-//Intake Bridge//caseworker appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", translate.gettext(N_("Appointments")))
    stamp = config(request).clock()
    for appointment, code, office in (await db.execute(statement)).all():
        kind = translate.gettext(APPOINTMENT_TYPES.get(appointment.type, N_("Other")))
        event = Event()
        event.add("uid", f"{appointment.id}@intake-bridge")
        event.add("dtstamp", stamp)
        event.add("dtstart", appointment.starts_at)
        event.add("dtend", appointment.starts_at + dt.timedelta(minutes=office.slot_minutes))
        event.add("summary", translate.gettext(SUMMARY) % {"kind": kind, "code": code})
        event.add("location", f"{office.name}, {office.address}")
        calendar.add_component(event)
    return Response(calendar.to_ical(), media_type=ICS_TYPE)


routes = [
    page("/calendar-feed", calendar_page, name="calendar_feed_page", permission=Permission.CALENDAR_FEED),
    action("/calendar-feed/new", new_feed, name="calendar_feed_new", permission=Permission.CALENDAR_FEED),
    action(
        "/calendar-feed/revoke", revoke_feed, name="calendar_feed_revoke", permission=Permission.CALENDAR_FEED
    ),
    # Public: the token in the path is the credential (see the module's docstring).
    page("/feeds/{token}.ics", feed, name="calendar_feed", permission=None),
]
