"""A case's appointments tab as a view model, built from rows made by hand: no database, no HTTP."""

from __future__ import annotations

import datetime as dt
import gettext
import uuid
import zoneinfo

from caseworker_console.viewmodels.appointments import Loaded, Reader, build_appointments
from storage.models import StaffUser
from storage.models_appointments import Appointment, AppointmentProposal, Office

BAKU = zoneinfo.ZoneInfo("Asia/Baku")
# A Wednesday, 10:00 in Baku.
NOW = dt.datetime(2026, 12, 2, 6, 0, tzinfo=dt.UTC)


def office(office_id: int = 1, name: str = "North office", zone: str | None = None) -> Office:
    return Office(
        id=office_id,
        name=name,
        timezone=zone,
        opening_hours={str(day): [["09:00", "12:00"]] for day in range(5)},
        holidays=[],
        closures=[],
        slot_minutes=60,
        capacity=2,
        appointment_types=["first"],
    )


def appointment(where: Office, starts_at: dt.datetime, status: str = "booked", **more: object) -> Appointment:
    return Appointment(
        id=uuid.uuid4(),
        office=where,
        office_id=where.id,
        type="first",
        starts_at=starts_at,
        status=status,
        **more,
    )


def loaded(**changes: object) -> Loaded:
    values: dict[str, object] = {
        "appointments": [],
        "proposals": [],
        "staff": {7: StaffUser(id=7, username="amina", display_name="Amina K.")},
        "confirmed": {},
        "offices": {1: office()},
        "held": {},
    }
    values.update(changes)
    return Loaded(**values)  # type: ignore[arg-type]


def reader(*, can_write: bool = True, now: dt.datetime = NOW) -> Reader:
    return Reader(translate=gettext.NullTranslations(), locale="en", zone=BAKU, now=now, can_write=can_write)


def test_appointments_show_in_their_office_clock_with_who_marked_them_and_what_may_be_done() -> None:
    north, west = office(), office(2, "West office", "Europe/Istanbul")
    today = appointment(north, NOW - dt.timedelta(hours=1))
    marked = appointment(
        west, NOW - dt.timedelta(days=1), "attended", marked_at=NOW - dt.timedelta(hours=20), marked_by=7
    )
    later = appointment(north, NOW + dt.timedelta(days=2))
    confirmed = {later.id: NOW - dt.timedelta(hours=2)}
    tab = build_appointments(
        loaded(appointments=[today, marked, later], confirmed=confirmed), chosen={}, reader=reader()
    )
    shown = {view.id: view for view in tab.appointments}
    assert shown[str(today.id)].when == "Dec 2, 2026, 9:00\u202fAM"
    # Istanbul's clock is an hour behind Baku's.
    assert shown[str(marked.id)].when == "Dec 1, 2026, 9:00\u202fAM"
    assert shown[str(marked.id)].marked == "Marked by Amina K., Dec 1, 2026, 1:00\u202fPM."
    assert shown[str(marked.id)].status == "Attended"
    assert shown[str(today.id)].can_mark and not shown[str(today.id)].movable
    assert not shown[str(later.id)].can_mark and shown[str(later.id)].movable
    assert (
        shown[str(later.id)].confirmed
        == "Confirmed by the person with a reminder, Dec 2, 2026, 8:00\u202fAM."
    )
    read_only = build_appointments(loaded(appointments=[today]), chosen={}, reader=reader(can_write=False))
    assert not read_only.appointments[0].can_mark


def test_a_proposed_appointment_is_shown_with_its_proposal_and_a_stale_pending_one_as_expired() -> None:
    north = office()
    booked = appointment(north, NOW + dt.timedelta(days=1))
    seat = appointment(north, NOW + dt.timedelta(days=3), "proposed")
    waiting = AppointmentProposal(
        id=uuid.uuid4(),
        appointment=seat,
        replaces_id=booked.id,
        status="pending",
        proposed_by=7,
        created_at=NOW - dt.timedelta(hours=1),
        expires_at=NOW + dt.timedelta(hours=47),
    )
    lapsed = AppointmentProposal(
        id=uuid.uuid4(),
        appointment=seat,
        status="pending",
        proposed_by=None,
        created_at=NOW - dt.timedelta(days=3),
        expires_at=NOW - dt.timedelta(days=1),
    )
    tab = build_appointments(
        loaded(appointments=[booked, seat], proposals=[waiting, lapsed]), chosen={}, reader=reader()
    )
    assert [view.id for view in tab.appointments] == [str(booked.id)]
    first, second = tab.proposals
    assert (
        first.open and first.state == "Waiting for the beneficiary's answer" and first.made_by == "Amina K."
    )
    assert first.moving == tab.appointments[0].when
    assert not second.open and second.state_code == "expired" and second.made_by is None


def test_the_form_offers_the_free_times_of_the_chosen_day_and_keeps_what_was_chosen() -> None:
    north = office()
    nine = dt.datetime(2026, 12, 3, 5, 0, tzinfo=dt.UTC)
    ten, eleven = nine + dt.timedelta(hours=1), nine + dt.timedelta(hours=2)
    chosen = {"office": "1", "day": "2026-12-03", "type": "first", "slot": ten.isoformat(), "replaces": ""}
    tab = build_appointments(
        loaded(offices={1: north}, held={ten: 2, eleven: 1}), chosen=chosen, reader=reader()
    )
    assert tab.looked
    assert tab.slots == [(nine.isoformat(), "9:00\u202fAM"), (eleven.isoformat(), "11:00\u202fAM")]
    assert tab.chosen.office == 1 and tab.chosen.type == "first" and tab.chosen.slot == ten.isoformat()
    assert tab.today == "2026-12-02"


def test_a_form_without_a_known_office_or_a_readable_day_looks_at_nothing() -> None:
    for chosen in (
        {"office": "9", "day": "2026-12-03"},
        {"office": "1", "day": "3 December"},
        {"office": "one", "day": "2026-12-03"},
        {"office": "1", "day": "9999-12-03"},
        {},
    ):
        tab = build_appointments(loaded(), chosen={**chosen, "type": "<script>"}, reader=reader())
        assert not tab.looked and tab.slots == []
        assert tab.chosen.type is None
        assert tab.chosen.day in (chosen.get("day"), "2026-12-02")
