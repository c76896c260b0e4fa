"""Appointments in the console: an office's calendar, a case's tab, marking, proposing and moving a time."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from caseworker_console.app import create_app
from storage.appointments import book_appointment, booked_counts, office_appointments, propose
from storage.crypto import Crypto
from storage.models import AuditEntry, Beneficiary, Case, OutboxMessage, StaffUser, utcnow
from storage.models_appointments import Appointment, AppointmentProposal, Office, SlotBooking
from storage.models_journey import DataRequest
from storage.outbox import Lane
from storage.sealing import unseal_json
from tests.bot.test_appointments import add_office
from wording.languages import create_i18n
from wording.taps import Tap

SignIn = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

BAKU = zoneinfo.ZoneInfo("Asia/Baku")
CODE = "IP-2026-000100"
TAB = f"/cases/{CODE}/appointments"
NAME = "Zarina Nazarova"


@pytest.fixture
def app(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, now: dt.datetime) -> Starlette:
    """The console, its clock at the test's moment: today, what may be marked and the free times
    follow from it, whatever the hour the test runs at."""
    return create_app(sessionmaker=sessionmaker, crypto=crypto, clock=lambda: now)


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


def baku_day(days_ahead: int = 0, now: dt.datetime | None = None) -> dt.date:
    """The Baku date `days_ahead` after `now` (the console's set clock; else the time it is)."""
    return (now or utcnow()).astimezone(BAKU).date() + dt.timedelta(days=days_ahead)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BAKU).astimezone(dt.UTC)


async def office_with(sessionmaker: async_sessionmaker[AsyncSession], **changes: Any) -> Office:
    async with sessionmaker() as session, session.begin():
        return await add_office(session, **changes)


async def book(
    sessionmaker: async_sessionmaker[AsyncSession], case: Case, office: Office, starts_at: dt.datetime
) -> Appointment:
    async with sessionmaker() as session, session.begin():
        stored = await session.get(Case, case.id)
        assert stored is not None
        appointment = await book_appointment(
            session, case=stored, office=office, appointment_type="first", starts_at=starts_at
        )
        assert appointment is not None
        return appointment


async def all_rows(sessionmaker: async_sessionmaker[AsyncSession], model: Any) -> list[Any]:
    async with sessionmaker() as session:
        return list((await session.execute(select(model))).scalars())


async def seats(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(SlotBooking))).scalar_one()


def hidden_fields(form: Any) -> dict[str, str]:
    return {field["name"]: field["value"] for field in form.select("input[type=hidden]")}


async def test_the_calendar_shows_each_slots_bookings_by_case_code_never_a_name_and_pages_by_week(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
) -> None:
    await sign_in_as("sabina", role="supervisor")
    office = await office_with(sessionmaker, capacity=2)
    case = await seed_person(name=NAME, code=CODE, stage="screening")
    day = baku_day(2, now)
    await book(sessionmaker, case, office, at(day, 10))
    page = soup(await client.get("/appointments", params={"office": str(office.id), "date": day.isoformat()}))
    assert NAME not in page.text
    slot = page.select_one(f"section[data-day='{day.isoformat()}'] tr[data-at='{at(day, 10).isoformat()}']")
    assert slot is not None
    booking = slot.select_one("li.calendar-booking")
    assert booking is not None and booking["data-case"] == CODE
    assert "First meeting" in booking.text and "Booked" in booking.text
    assert booking.select_one("a")["href"] == TAB
    assert slot.select_one(".calendar-free").text.strip() == "1"  # two seats, one taken
    assert len(page.select("section.calendar-day")) == 7
    # The next week's page no longer shows it; the day view shows only that day.
    following = page.select_one("a[rel=next]")["href"]
    later = soup(await client.get(following))
    assert not later.select("li.calendar-booking")
    one_day = soup(
        await client.get(
            "/appointments", params={"office": str(office.id), "date": day.isoformat(), "view": "day"}
        )
    )
    assert [s["data-day"] for s in one_day.select("section.calendar-day")] == [day.isoformat()]
    assert one_day.select_one("li.calendar-booking")["data-case"] == CODE


async def test_odd_calendar_and_tab_parameters_fall_back_to_today(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
) -> None:
    me = await sign_in_as("leyla")
    office = await office_with(sessionmaker)
    await seed_person(code=CODE, stage="screening", assigned_to=me.id)
    today = baku_day(0, now).isoformat()
    for params in (
        {"date": "9999-12-31"},
        {"date": "0001-01-01", "view": "day"},
        {"office": "x", "date": "1"},
    ):
        page = soup(await client.get("/appointments", params=params))
        assert today in [section["data-day"] for section in page.select("section.calendar-day")], params
    for params in ({"office": str(office.id), "day": "9999-12-31"}, {"office": "'", "day": "<b>"}):
        answer = await client.get(TAB, params=params)
        assert answer.status_code == 200 and soup(answer).select_one("form.propose-form") is None


async def test_the_calendar_is_for_caseworkers_and_supervisors_only(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await office_with(sessionmaker)
    await sign_in_as("olga", role="outreach")
    assert (await client.get("/appointments")).status_code == 403


async def test_only_an_appointment_of_today_or_earlier_is_marked_version_checked_and_audited(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
) -> None:
    me = await sign_in_as("leyla")
    office = await office_with(sessionmaker)
    case = await seed_person(code=CODE, stage="screening", assigned_to=me.id)
    today = await book(sessionmaker, case, office, at(baku_day(0, now), 9))
    future = await book(sessionmaker, case, office, at(baku_day(3, now), 9))
    page = soup(await client.get(TAB))
    rows = {row["data-appointment"]: row for row in page.select("tr.appointment")}
    assert rows[str(today.id)].select_one("form.mark-form") is not None
    assert rows[str(future.id)].select_one("form.mark-form") is None
    fields = hidden_fields(rows[str(today.id)].select_one("form.mark-form"))

    too_early = await client.post(
        f"{TAB}/mark", data={**fields, "appointment": str(future.id), "status": "no_show"}
    )
    assert too_early.status_code == 400
    assert "Only an appointment of today or earlier can be marked." in too_early.text
    stale = await client.post(
        f"{TAB}/mark",
        data={**fields, "version": str(int(fields["version"]) - 1), "status": "no_show"},
    )
    assert stale.status_code == 409
    forged = await client.post(f"{TAB}/mark", data={**fields, "status": "cancelled"})
    assert forged.status_code == 400
    statuses = {row.id: row.status for row in await all_rows(sessionmaker, Appointment)}
    assert statuses == {today.id: "booked", future.id: "booked"}

    done = await client.post(f"{TAB}/mark", data={**fields, "status": "no_show"})
    assert done.status_code == 303
    [marked] = [row for row in await all_rows(sessionmaker, Appointment) if row.id == today.id]
    assert (marked.status, marked.marked_by) == ("no_show", me.id) and marked.marked_at is not None
    # The same form again is stale: the case moved on with the mark.
    assert (await client.post(f"{TAB}/mark", data={**fields, "status": "attended"})).status_code == 409
    [entry] = [e for e in await all_rows(sessionmaker, AuditEntry) if e.action == "appointment.marked"]
    assert entry.object_id == CODE and entry.details["to"] == "no_show"
    page = soup(await client.get(TAB))
    assert "Did not come" in page.select_one(f"tr[data-appointment='{today.id}']").text


async def propose_via_page(
    client: httpx.AsyncClient, office: Office, day: dt.date, hour: int, replaces: str = ""
) -> httpx.Response:
    """Look up the day's free times through the GET form, then post the proposal with one of them."""
    params = {"office": str(office.id), "type": "review", "day": day.isoformat(), "replaces": replaces}
    page = soup(await client.get(TAB, params=params))
    form = page.select_one("form.propose-form")
    assert form is not None, page.select_one("main").text
    wanted = at(day, hour).isoformat()
    offered = [field["value"] for field in form.select("input[name=slot]")]
    assert wanted in offered
    return await client.post(f"{TAB}/propose", data={**hidden_fields(form), "slot": wanted})


async def test_a_proposal_holds_its_seat_and_tells_the_beneficiary_in_their_language_with_two_buttons(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    me = await sign_in_as("leyla")
    office = await office_with(sessionmaker)
    case = await seed_person(code=CODE, stage="screening", assigned_to=me.id, language="fa")
    day = baku_day(2, now)
    old = await book(sessionmaker, case, office, at(day, 9))
    answer = await propose_via_page(client, office, day, 11, replaces=str(old.id))
    assert answer.status_code == 303
    [proposal] = await all_rows(sessionmaker, AppointmentProposal)
    assert proposal.status == "pending" and proposal.replaces_id == old.id
    assert proposal.expires_at <= now + dt.timedelta(hours=48)
    # The seat is held: nobody else sees 11:00 free, and the old one is still booked until answered.
    async with sessionmaker() as session:
        held = await booked_counts(session, office_id=office.id, start=at(day, 0), end=at(day, 23))
    assert held == {at(day, 9): 1, at(day, 11): 1}
    statuses = {row.id: row.status for row in await all_rows(sessionmaker, Appointment)}
    assert statuses == {old.id: "booked", proposal.appointment_id: "proposed"}

    [message] = await all_rows(sessionmaker, OutboxMessage)
    assert message.lane == Lane.REPLY and message.beneficiary_id == case.beneficiary_id
    payload = unseal_json(crypto, message, "payload_enc")
    i18n = create_i18n()
    assert (
        i18n.gettext("<b>Your caseworker proposes to move your appointment</b>", locale="fa")
        in payload["text"]
    )
    assert i18n.gettext("Does this time suit you?", locale="fa") != "Does this time suit you?"
    assert i18n.gettext("Does this time suit you?", locale="fa") in payload["text"]
    buttons = [button for row in payload["reply_markup"]["inline_keyboard"] for button in row]
    taps = [Tap.unpack(button["callback_data"]) for button in buttons]
    assert {tap.token for tap in taps} == {proposal.token}
    assert [tap.value for tap in taps] == ["pa", "po"]
    assert buttons[0]["text"] == "✅ " + i18n.gettext("Accept", locale="fa")

    page = soup(await client.get(TAB))
    shown = page.select_one(f"li[data-proposal='{proposal.id}']")
    assert "Waiting for the beneficiary's answer" in shown.text
    # One proposal at a time.
    form = page.select_one("section[aria-labelledby=propose-heading]")
    assert form.select_one("form") is None
    again = await client.post(
        f"{TAB}/propose",
        data={
            "csrf_token": hidden_fields(shown.select_one("form"))["csrf_token"],
            "version": str(case.version + 2),
            "office": str(office.id),
            "type": "review",
            "day": day.isoformat(),
            "slot": at(day, 10).isoformat(),
        },
    )
    assert again.status_code == 409
    assert len(await all_rows(sessionmaker, AppointmentProposal)) == 1

    # Withdrawing frees the seat and tells the person.
    withdraw = shown.select_one("form")
    assert (await client.post(withdraw["action"], data=hidden_fields(withdraw))).status_code == 303
    [proposal] = await all_rows(sessionmaker, AppointmentProposal)
    assert proposal.status == "withdrawn"
    assert await seats(sessionmaker) == 1
    notices = [unseal_json(crypto, m, "payload_enc") for m in await all_rows(sessionmaker, OutboxMessage)]
    assert len(notices) == 2 and any("reply_markup" not in notice for notice in notices)
    actions = [e.action for e in await all_rows(sessionmaker, AuditEntry)]
    assert "appointment.proposed" in actions and "appointment.proposal_withdrawn" in actions
    assert "Withdrawn" in soup(await client.get(TAB)).select_one(f"li[data-proposal='{proposal.id}']").text


async def test_a_taken_time_is_refused_and_nothing_is_held(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    seed_cases: Callable[..., Awaitable[list[Case]]],
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
) -> None:
    me = await sign_in_as("leyla")
    office = await office_with(sessionmaker)
    await seed_person(code=CODE, stage="screening", assigned_to=me.id)
    [other] = await seed_cases({"code": "IP-2026-000200"})
    day = baku_day(2, now)
    params = {"office": str(office.id), "type": "review", "day": day.isoformat()}
    form = soup(await client.get(TAB, params=params)).select_one("form.propose-form")
    await book(sessionmaker, other, office, at(day, 10))  # someone takes it meanwhile
    answer = await client.post(
        f"{TAB}/propose", data={**hidden_fields(form), "slot": at(day, 10).isoformat()}
    )
    assert answer.status_code == 409 and "That time is no longer free." in answer.text
    assert await all_rows(sessionmaker, AppointmentProposal) == []
    assert await all_rows(sessionmaker, OutboxMessage) == []


async def test_no_time_is_proposed_for_a_closed_case_a_person_who_asked_to_be_deleted_or_blocked_the_bot(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    me = await sign_in_as("sabina", role="supervisor")
    office = await office_with(sessionmaker)
    case = await seed_person(code=CODE, stage="screening", assigned_to=me.id)
    async with sessionmaker() as session:
        session.add(DataRequest(beneficiary_id=case.beneficiary_id, case_id=case.id, kind="deletion"))
        await session.commit()
    day = baku_day(2, now)
    page = soup(await client.get(TAB))
    assert "asked for their data to be deleted" in page.select_one("#propose-refused").text
    token = hidden_fields(page.select_one("form[action$='/identity']") or page.select_one("form"))
    data = {
        "csrf_token": token["csrf_token"],
        "version": str(case.version),
        "office": str(office.id),
        "type": "review",
        "day": day.isoformat(),
        "slot": at(day, 10).isoformat(),
    }
    refused = await client.post(f"{TAB}/propose", data=data)
    assert refused.status_code == 400 and "asked for their data to be deleted" in refused.text
    async with sessionmaker() as session:
        stored = await session.get(Case, case.id)
        assert stored is not None
        await session.execute(DataRequest.__table__.delete())
        stored.stage = "closed"
        await session.commit()
        version = stored.version
    closed = await client.post(f"{TAB}/propose", data={**data, "version": str(version)})
    assert closed.status_code == 400 and "This case is closed." in closed.text
    async with sessionmaker() as session:
        stored = await session.get(Case, case.id)
        assert stored is not None
        stored.stage = "screening"
        beneficiary = await session.get(Beneficiary, case.beneficiary_id)
        assert beneficiary is not None
        beneficiary.unreachable_at = utcnow()
        await session.commit()
        version = stored.version
    blocked = await client.post(f"{TAB}/propose", data={**data, "version": str(version)})
    assert blocked.status_code == 400 and "has blocked the bot" in blocked.text
    assert await all_rows(sessionmaker, AppointmentProposal) == []
    assert await all_rows(sessionmaker, OutboxMessage) == []


async def test_an_expired_proposals_seat_is_free_for_the_next_person(
    seed_person: SeedPerson,
    seed_cases: Callable[..., Awaitable[list[Case]]],
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
) -> None:
    office = await office_with(sessionmaker)
    case = await seed_person(code=CODE, stage="screening")
    [other] = await seed_cases({"code": "IP-2026-000200"})
    start = at(baku_day(2, now), 10)
    long_ago = utcnow() - dt.timedelta(hours=49)
    async with sessionmaker() as session, session.begin():
        stored = await session.get(Case, case.id)
        assert stored is not None
        proposal = await propose(
            session,
            case=stored,
            office=office,
            appointment_type="review",
            starts_at=start,
            replaces=None,
            staff_id=None,
            token="t" * 16,
            now=long_ago,
        )
        assert proposal is not None and proposal.expires_at < utcnow()
        assert (
            await booked_counts(session, office_id=office.id, start=start, end=start + dt.timedelta(hours=1))
            == {}
        )
    async with sessionmaker() as session:
        shown = await office_appointments(
            session, office_id=office.id, start=start, end=start + dt.timedelta(hours=1)
        )
    assert shown == []  # the calendar no longer shows it as waiting
    taken = await book(sessionmaker, other, office, start)
    assert taken.status == "booked"
    [expired] = await all_rows(sessionmaker, AppointmentProposal)
    assert expired.status == "expired"
    statuses = sorted(row.status for row in await all_rows(sessionmaker, Appointment))
    assert statuses == ["booked", "cancelled"] and await seats(sessionmaker) == 1


async def test_an_open_withdrawal_request_refuses_a_proposal_until_it_is_done(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # A person who asked to stop taking part gets no new time; the same form works once the
    # request is done (the case's version is unchanged, so only the request decides).
    me = await sign_in_as("leyla")
    office = await office_with(sessionmaker)
    case = await seed_person(code=CODE, stage="screening", assigned_to=me.id)
    async with sessionmaker() as session, session.begin():
        request = DataRequest(beneficiary_id=case.beneficiary_id, case_id=case.id, kind="withdrawal")
        session.add(request)
    day = baku_day(2)
    params = {"office": str(office.id), "type": "review", "day": day.isoformat()}
    page = soup(await client.get(TAB, params=params))
    assert "leave the programme" in page.select_one("#propose-refused").text
    assert page.select_one("form.propose-form") is None
    data = {
        "csrf_token": hidden_fields(page.select_one("form"))["csrf_token"],
        "version": str(case.version),
        "office": str(office.id),
        "type": "review",
        "day": day.isoformat(),
        "slot": at(day, 10).isoformat(),
    }
    refused = await client.post(f"{TAB}/propose", data=data)
    assert refused.status_code == 400 and "leave the programme" in refused.text
    assert await all_rows(sessionmaker, AppointmentProposal) == []
    assert await all_rows(sessionmaker, OutboxMessage) == []

    async with sessionmaker() as session, session.begin():
        stored = await session.get(DataRequest, request.id)
        assert stored is not None
        stored.status = "done"
    made = await client.post(f"{TAB}/propose", data=data)
    assert made.status_code == 303
    assert [p.status for p in await all_rows(sessionmaker, AppointmentProposal)] == ["pending"]


async def test_a_proposal_for_a_time_sooner_than_its_hold_expires_at_that_time(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # Tomorrow at 11:00 is always less than 48 hours away: the proposal is never open past it.
    me = await sign_in_as("leyla")
    office = await office_with(sessionmaker)
    await seed_person(code=CODE, stage="screening", assigned_to=me.id)
    day = baku_day(1)
    answer = await propose_via_page(client, office, day, 11)
    assert answer.status_code == 303
    [proposal] = await all_rows(sessionmaker, AppointmentProposal)
    [appointment] = await all_rows(sessionmaker, Appointment)
    assert appointment.starts_at == at(day, 11)
    assert proposal.expires_at == appointment.starts_at


async def test_a_second_proposal_from_a_current_page_is_refused_while_one_waits(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    me = await sign_in_as("leyla")
    office = await office_with(sessionmaker, capacity=2)
    case = await seed_person(code=CODE, stage="screening", assigned_to=me.id)
    day = baku_day(2)
    assert (await propose_via_page(client, office, day, 11)).status_code == 303
    # A page made after the first proposal: its version is the case's current one.
    page = soup(await client.get(TAB))
    async with sessionmaker() as session:
        stored = await session.get(Case, case.id)
        assert stored is not None
    version = page.select_one("input[name=version]")["value"]
    assert version == str(stored.version)
    again = await client.post(
        f"{TAB}/propose",
        data={
            "csrf_token": hidden_fields(page.select_one("form"))["csrf_token"],
            "version": version,
            "office": str(office.id),
            "type": "review",
            "day": day.isoformat(),
            "slot": at(day, 10).isoformat(),
        },
    )
    assert again.status_code == 409
    assert "A proposal is already waiting for an answer." in again.text
    assert [p.status for p in await all_rows(sessionmaker, AppointmentProposal)] == ["pending"]
    assert len(await all_rows(sessionmaker, OutboxMessage)) == 1
