"""A case's appointments tab as it is shown: its appointments, the times proposed to the person, and
the proposing form with the free times of the day chosen, in the reader's language and each
office's clock."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gettext
import uuid
import zoneinfo
from collections.abc import Mapping
from typing import Any

from babel.dates import format_time

from caseworker_console import i18n
from caseworker_console.views import staff_name
from programme.appointments import APPOINTMENT_TYPES, free_slots
from programme.text import N_
from storage import appointments as store
from storage.models import StaffUser
from storage.models_appointments import Appointment, AppointmentProposal, Office

STATUS_LABELS: dict[str, str] = {
    store.BOOKED: N_("Booked"),
    store.PROPOSED: N_("Proposed, waiting for an answer"),
    store.ATTENDED: N_("Attended"),
    store.NO_SHOW: N_("Did not come"),
    store.CANCELLED: N_("Cancelled"),
}
PROPOSAL_LABELS: dict[str, str] = {
    store.PENDING: N_("Waiting for the beneficiary's answer"),
    store.ACCEPTED: N_("Accepted"),
    store.DECLINED: N_("The beneficiary asked for another time"),
    store.WITHDRAWN: N_("Withdrawn"),
    store.EXPIRED: N_("Expired without an answer"),
}


def type_label(value: str, translate: Any) -> str:
    return translate.gettext(APPOINTMENT_TYPES[value]) if value in APPOINTMENT_TYPES else value


def status_label(value: str, translate: Any) -> str:
    return translate.gettext(STATUS_LABELS[value]) if value in STATUS_LABELS else value


def office_zone(office: Office, default: zoneinfo.ZoneInfo) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(office.timezone or default.key)


def parse_day(value: object) -> dt.date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    # A calendar never needs more; the bound keeps week arithmetic away from year 9999.
    return day if 2000 <= day.year <= 2100 else None


def markable(appointment: Appointment, zone: zoneinfo.ZoneInfo, now: dt.datetime) -> bool:
    """Booked (or already marked, to correct it) and on a day that has begun in the office."""
    return (
        appointment.status in (store.BOOKED, *store.MARKS)
        and appointment.starts_at.astimezone(zone).date() <= now.astimezone(zone).date()
    )


def looked_at(
    chosen: Mapping[str, Any], offices: Mapping[int, Office]
) -> tuple[Office | None, dt.date | None]:
    """The office and day the proposing form asks the free times of (either None: not asked)."""
    office = offices.get(int(chosen["office"])) if str(chosen.get("office", "")).isdigit() else None
    return office, parse_day(chosen.get("day"))


@dataclasses.dataclass(frozen=True)
class Loaded:
    """What the tab is built from, as storage gives it."""

    appointments: list[Appointment]
    proposals: list[AppointmentProposal]
    # The staff who marked an appointment or proposed a time, by id.
    staff: dict[int, StaffUser]
    # When the person confirmed an appointment with a reminder's button, by appointment.
    confirmed: dict[uuid.UUID, dt.datetime]
    offices: dict[int, Office]  # the active ones, for the proposing form
    # Seats held at each time of the day the form looks at (empty when it looks at none).
    held: dict[dt.datetime, int]


@dataclasses.dataclass(frozen=True)
class AppointmentView:
    id: str
    when: str
    when_iso: str
    office: str
    type: str
    status: str
    status_code: str
    marked: str | None
    can_mark: bool
    movable: bool
    # When the person confirmed it with a reminder's button.
    confirmed: str | None = None


@dataclasses.dataclass(frozen=True)
class ProposalView:
    id: str
    when: str
    office: str
    type: str
    state: str
    state_code: str
    made: str
    made_by: str | None
    until: str
    moving: str | None
    open: bool


@dataclasses.dataclass(frozen=True)
class Chosen:
    """The proposing form's choices as it shows them back."""

    office: int | None
    type: str | None
    day: str
    replaces: str
    slot: str


@dataclasses.dataclass(frozen=True)
class AppointmentsTab:
    appointments: list[AppointmentView]
    proposals: list[ProposalView]
    chosen: Chosen
    looked: bool  # an office and a day were chosen: `slots` are that day's free times
    slots: list[tuple[str, str]]  # (ISO time, as the office's clock shows it)
    today: str


@dataclasses.dataclass(frozen=True)
class Reader:
    """Who reads the tab, and how: their language, the default office clock, and now."""

    translate: gettext.NullTranslations
    locale: str
    zone: zoneinfo.ZoneInfo
    now: dt.datetime
    can_write: bool


def build_appointments(loaded: Loaded, *, chosen: Mapping[str, Any], reader: Reader) -> AppointmentsTab:
    """The tab: appointments (proposed ones are shown with their proposal), proposals, the form."""
    office, day = looked_at(chosen, loaded.offices)
    slots: list[tuple[str, str]] = []
    if office is not None and day is not None:
        zone = office_zone(office, reader.zone)
        schedule = store.office_schedule(office, default_timezone=reader.zone.key)
        slots = [
            (at.isoformat(), format_time(at, "short", tzinfo=zone, locale=reader.locale))
            for at in free_slots(schedule, day, booked=loaded.held, now=reader.now)
        ]
    today = reader.now.astimezone(reader.zone).date().isoformat()
    kind = chosen.get("type")
    return AppointmentsTab(
        appointments=[
            appointment_view(row, loaded, reader)
            for row in loaded.appointments
            if row.status != store.PROPOSED
        ],
        proposals=[proposal_view(proposal, loaded, reader) for proposal in loaded.proposals],
        chosen=Chosen(
            office=office.id if office else None,
            type=kind if kind in APPOINTMENT_TYPES else None,
            day=day.isoformat() if day else today,
            replaces=str(chosen.get("replaces") or ""),
            slot=str(chosen.get("slot") or ""),
        ),
        looked=office is not None and day is not None,
        slots=slots,
        today=today,
    )


def _when(at: dt.datetime, office: Office, reader: Reader) -> str:
    return i18n.format_local_datetime(at, locale=reader.locale, timezone=office_zone(office, reader.zone))


def appointment_view(row: Appointment, loaded: Loaded, reader: Reader) -> AppointmentView:
    translate, locale = reader.translate, reader.locale
    zone = office_zone(row.office, reader.zone)
    marked = None
    if row.marked_at is not None:
        marked = translate.gettext("Marked by %(name)s, %(when)s.") % {
            "name": staff_name(loaded.staff.get(row.marked_by or 0)) or "—",
            "when": i18n.format_local_datetime(row.marked_at, locale=locale, timezone=zone),
        }
    confirmed = None
    if row.id in loaded.confirmed:
        confirmed = translate.gettext("Confirmed by the person with a reminder, %(when)s.") % {
            "when": i18n.format_local_datetime(loaded.confirmed[row.id], locale=locale, timezone=zone)
        }
    return AppointmentView(
        id=str(row.id),
        when=_when(row.starts_at, row.office, reader),
        when_iso=row.starts_at.isoformat(),
        office=row.office.name,
        type=type_label(row.type, translate),
        status=status_label(row.status, translate),
        status_code=row.status,
        marked=marked,
        can_mark=reader.can_write and markable(row, zone, reader.now),
        movable=row.status == store.BOOKED and row.starts_at > reader.now,
        confirmed=confirmed,
    )


def proposal_view(proposal: AppointmentProposal, loaded: Loaded, reader: Reader) -> ProposalView:
    """A proposal as it stands now: a pending one past its expiry shows as expired."""
    state = proposal.status
    if state == store.PENDING and proposal.expires_at <= reader.now:
        state = store.EXPIRED
    appointment = proposal.appointment
    by_id = {row.id: row for row in loaded.appointments}
    replaced = by_id.get(proposal.replaces_id) if proposal.replaces_id else None
    return ProposalView(
        id=str(proposal.id),
        when=_when(appointment.starts_at, appointment.office, reader),
        office=appointment.office.name,
        type=type_label(appointment.type, reader.translate),
        state=reader.translate.gettext(PROPOSAL_LABELS[state]),
        state_code=state,
        made=_when(proposal.created_at, appointment.office, reader),
        made_by=staff_name(loaded.staff.get(proposal.proposed_by or 0)),
        until=_when(proposal.expires_at, appointment.office, reader),
        moving=_when(replaced.starts_at, replaced.office, reader) if replaced else None,
        open=state == store.PENDING,
    )
