"""Offices in the console: administrators create, edit, close and deactivate them, supervisors read
them; every value is checked with a message by its field; a change that strands booked appointments
lists them first and, confirmed, proposes each person a new time in their language."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.appointments import propose
from storage.crypto import Crypto
from storage.models import AuditEntry, Case, OutboxMessage, StaffUser
from storage.models_appointments import Appointment, AppointmentProposal, Office
from storage.sealing import unseal_json
from tests.console.test_console_appointments import (
    BAKU,
    all_rows,
    app,  # noqa: F401 - the console at the test's set time
    at,
    baku_day,
    book,
    office_with,
    soup,
)
from wording.languages import create_i18n

SignIn = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]


def office_form(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Sumqayit office",
        "address": "Sulh street 5, Sumqayit",
        "latitude": "40.5897",
        "longitude": "49.6686",
        "timezone": "Asia/Baku",
        **{f"hours_{day}": "09:00-13:00, 14:00-18:00" for day in range(5)},
        "hours_5": "",
        "hours_6": "",
        "slot_minutes": "30",
        "capacity": "2",
        "appointment_types": ["first", "review"],
        "holidays": "",
        "active": "1",
        "do": "save",
    }
    values.update(changes)
    return values


async def post_form(
    client: httpx.AsyncClient, data: dict[str, Any], path: str = "/offices/save"
) -> httpx.Response:
    page = await client.get("/offices/edit")
    token = soup(page).select_one("form input[name=csrf_token]")["value"]
    return await client.post(path, data={"csrf_token": token, **data})


async def offices(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Office]:
    async with sessionmaker() as session:
        return list((await session.execute(select(Office).order_by(Office.id))).scalars())


async def test_an_administrator_creates_an_office_a_supervisor_reads_it_and_a_caseworker_does_not_see_it(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("admin1", role="admin")
    answer = await post_form(
        client, office_form(name_ru="Офис в Сумгайыте", address_ru="ул. Сульх, 5", name_tr=" ")
    )
    assert answer.status_code == 303, answer.text[:2000]
    [office] = await offices(sessionmaker)
    assert office.names == {"ru": "Офис в Сумгайыте"} and office.addresses == {"ru": "ул. Сульх, 5"}
    assert office.opening_hours["0"] == [["09:00", "13:00"], ["14:00", "18:00"]]
    assert (
        "5" not in office.opening_hours
        and office.capacity == 2
        and office.appointment_types == ["first", "review"]
    )
    assert office.timezone == "Asia/Baku" and office.active and office.closures == []
    [entry] = [e for e in await all_rows(sessionmaker, AuditEntry) if e.action == "office.created"]
    assert entry.object_type == "office" and entry.object_id == str(office.id)

    listing = soup(await client.get("/offices"))
    link = listing.select_one(f"section[data-office='{office.id}'] a.map-link")
    assert link["href"].startswith("https://www.openstreetmap.org/?mlat=40.58970&mlon=49.66860")
    assert listing.select_one("#new-office") is not None
    assert listing.select_one("iframe") is None
    assert "Офис в Сумгайыте" in listing.select_one("dd[lang=ru]").text
    edit = soup(await client.get(f"/offices/edit?office={office.id}"))
    assert edit.select_one("#office-name_ru")["value"] == "Офис в Сумгайыте"

    client.cookies.clear()
    await sign_in_as("super1", role="supervisor")
    read = soup(await client.get("/offices"))
    assert "Sumqayit office" in read.select_one("main").text
    assert read.select_one("#new-office") is None and not read.select("form[action$='/offices/reopen']")
    assert (await client.get("/offices/edit")).status_code == 403
    client.cookies.clear()
    await sign_in_as("worker1", role="caseworker")
    assert (await client.get("/offices")).status_code == 403


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "N" * 4000}, "name", "Give the office's name"),
        ({"name": "   "}, "name", "Give the office's name"),
        ({"address": ""}, "address", "Give the office's address"),
        ({"name_fa": "N" * 4000}, "name_fa", "Give the office's name"),
        ({"address_ru": "A" * 301}, "address_ru", "Give the office's address"),
        ({"latitude": "91"}, "latitude", "from -90 to 90"),
        ({"longitude": "nan"}, "longitude", "from -180 to 180"),
        ({"timezone": "Mars/Olympus"}, "timezone", "Choose a time zone"),
        ({"hours_0": "09:00-13:00, 12:00-15:00"}, "hours_0", "09:00-13:00 and 12:00-15:00 overlap."),
        ({"hours_1": "18:00-09:00"}, "hours_1", "18:00-09:00 ends before it begins."),
        ({"hours_2": "9 to 5"}, "hours_2", "Write the hours as 09:00-13:00"),
        ({"hours_3": "09:00-09:20", "slot_minutes": "30"}, "hours_3", "shorter than one slot (30 minutes)"),
        ({"hours_4": "x" * 5000}, "hours_4", "Write the hours"),
        ({**{f"hours_{d}": "" for d in range(7)}}, "hours_0", "at least one day"),
        ({"slot_minutes": "0"}, "slot_minutes", "from 5 to 240"),
        ({"capacity": "0"}, "capacity", "from 1 to 50"),
        ({"capacity": "51"}, "capacity", "from 1 to 50"),
        ({"capacity": "-1"}, "capacity", "from 1 to 50"),
        ({"appointment_types": ["first", "<script>"]}, "appointment_types", None),
        ({"appointment_types": ["nope"]}, "appointment_types", "at least one type"),
        ({"holidays": "2020-01-01 New Year's Day"}, "holidays", "Line 1: 2020-01-01 is in the past."),
        ({"holidays": "2099-05-02 - 2099-05-01 Backwards"}, "holidays", "Line 1: the range ends before"),
        ({"holidays": "2099-01-01"}, "holidays", "Line 1: give it a name"),
        ({"holidays": "2099-02-30 Nothing"}, "holidays", "Line 1: write a date"),
        ({"holidays": "2099-01-01 - 2100-06-01 Long"}, "holidays", "a year at most"),
        ({"holidays": "\n".join(f"2099-01-01 H{i}" for i in range(201))}, "holidays", "Up to 200 lines."),
    ],
)
async def test_every_wrong_value_gets_a_message_by_its_field_and_nothing_is_saved(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    changes: dict[str, Any],
    field: str,
    message: str | None,
) -> None:
    await sign_in_as("admin1", role="admin")
    answer = await post_form(client, office_form(**changes))
    if message is None:  # an unknown type is left out, the known one kept
        assert answer.status_code == 303
        [office] = await offices(sessionmaker)
        assert office.appointment_types == ["first"]
        return
    assert answer.status_code == 400
    page = soup(answer)
    error = page.select_one(f"#err-{field}")
    assert error is not None and message in error.text, page.select_one("main").text[:3000]
    assert page.select_one("#office-error") is not None
    assert await offices(sessionmaker) == []
    # What was typed comes back (within the field's limit), so nothing typed is lost.
    if field == "address":
        assert page.select_one("#office-name")["value"] == "Sumqayit office"


async def test_a_second_office_of_the_same_name_forged_ids_and_a_wrong_csrf_token_change_nothing(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("admin1", role="admin")
    assert (await post_form(client, office_form())).status_code == 303
    again = await post_form(client, office_form(name="SUMQAYIT office"))
    assert again.status_code == 400 and "Another office" in soup(again).select_one("#err-name").text
    for forged in ("999999", "abc", "1" * 40, "-1"):
        refused = await post_form(client, office_form(office=forged, name="Forged"))
        assert (
            refused.status_code == 400 and "does not exist" in soup(refused).select_one("#office-error").text
        )
        assert (await client.get(f"/offices/edit?office={forged}")).status_code == 404
    assert (
        await post_form(client, {"office": "0", "start": "2099-01-01", "reason": "x"}, "/offices/close")
    ).status_code == 400
    wrong = await client.post("/offices/save", data={"csrf_token": "forged", **office_form(name="Other")})
    assert wrong.status_code == 403
    assert [office.name for office in await offices(sessionmaker)] == ["Sumqayit office"]


async def test_azerbaijans_public_holidays_are_offered_from_the_library_to_accept_or_edit(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
) -> None:
    await sign_in_as("admin1", role="admin")
    offered = await post_form(client, office_form(do="suggest", holidays="2099-07-01 Our own day"))
    assert offered.status_code == 200
    assert await offices(sessionmaker) == []  # offering saves nothing
    page = soup(offered)
    lines = page.select_one("#office-holidays").text.splitlines()
    assert lines[0] == "2099-07-01 Our own day"
    next_new_year = dt.date(baku_day(0, now).year + 1, 1, 1).isoformat()
    assert any(line.startswith(next_new_year) and "New Year" in line for line in lines)
    # Novruz lasts several days: one range, not a line a day.
    assert any(" - " in line and "Spring Festival" in line for line in lines)
    assert page.select_one("#office-notice") is not None
    # Accepted as offered, minus one line the administrator removed.
    kept = [line for line in lines if "Women" not in line]
    assert (await post_form(client, office_form(holidays="\n".join(kept)))).status_code == 303
    [office] = await offices(sessionmaker)
    labels = [item["label"] for item in office.holidays]
    assert "Our own day" in labels and not any("Women" in label for label in labels)
    assert {
        "start": next_new_year,
        "end": next_new_year,
        "label": "New Year's Day",
    } in office.holidays or any(item["start"] == next_new_year for item in office.holidays)


async def test_a_change_of_hours_lists_what_it_strands_then_proposes_each_person_a_new_time_in_their_language(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    await sign_in_as("admin1", role="admin")
    office = await office_with(sessionmaker, name="Office A", capacity=2)
    afternoon_case = await seed_person(code="IP-2026-000101", stage="screening", language="fa")
    morning_case = await seed_person(code="IP-2026-000102", stage="screening", language="ru")
    day = baku_day(3, now)
    afternoon = await book(sessionmaker, afternoon_case, office, at(day, 16))
    morning = await book(sessionmaker, morning_case, office, at(day, 10))
    mornings = {f"hours_{weekday}": "09:00-13:00" for weekday in range(7)}
    change = office_form(name="Office A", office=str(office.id), appointment_types=["first"], **mornings)

    listed = await post_form(client, change)
    assert listed.status_code == 409
    rows = [row.select_one("th").text for row in soup(listed).select(".stranded-list tbody tr")]
    assert rows == ["IP-2026-000101"]
    [stored] = await offices(sessionmaker)
    assert stored.opening_hours == office.opening_hours  # nothing saved yet
    assert await all_rows(sessionmaker, OutboxMessage) == []

    confirm = soup(listed).select_one("form.office-form")
    assert confirm.select_one("input[name=confirm]")["value"] == "1"
    done = await post_form(client, {**change, "confirm": "1"})
    assert done.status_code == 200
    assert "IP-2026-000101" in soup(done).select_one("ul.moved").text
    [stored] = await offices(sessionmaker)
    assert stored.opening_hours["0"] == [["09:00", "13:00"]]
    [proposal] = await all_rows(sessionmaker, AppointmentProposal)
    assert proposal.replaces_id == afternoon.id and proposal.status == "pending"
    statuses = {row.id: row.status for row in await all_rows(sessionmaker, Appointment)}
    # Nothing dropped: the stranded booking stays booked until the person accepts the new time.
    assert statuses[afternoon.id] == "booked" and statuses[morning.id] == "booked"
    new = next(row for row in await all_rows(sessionmaker, Appointment) if row.id == proposal.appointment_id)
    assert dt.time(9) <= new.starts_at.astimezone(BAKU).time() < dt.time(13)
    [message] = await all_rows(sessionmaker, OutboxMessage)
    payload = unseal_json(crypto, message, "payload_enc")
    heading = create_i18n().gettext("<b>Your caseworker proposes to move your appointment</b>", locale="fa")
    assert heading in payload["text"] and "reply_markup" in payload
    actions = [entry.action for entry in await all_rows(sessionmaker, AuditEntry)]
    assert "office.changed" in actions and "appointment.proposed" in actions


async def test_a_closure_lists_booked_appointments_first_then_moves_them_and_can_be_removed(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    await sign_in_as("admin1", role="admin")
    office = await office_with(sessionmaker, name="Office A")
    case = await seed_person(code="IP-2026-000103", stage="screening", language="az")
    day = baku_day(4, now)
    booked = await book(sessionmaker, case, office, at(day, 11))
    closure = {"office": str(office.id), "start": day.isoformat(), "end": "", "reason": "The office moves"}

    refused = await post_form(client, {**closure, "start": baku_day(-1, now).isoformat()}, "/offices/close")
    assert refused.status_code == 400 and "past" in soup(refused).select_one("#closure-error").text
    inverted = await post_form(client, {**closure, "end": baku_day(1, now).isoformat()}, "/offices/close")
    assert inverted.status_code == 400
    listed = await post_form(client, closure, "/offices/close")
    assert listed.status_code == 409
    assert [r.select_one("th").text for r in soup(listed).select(".stranded-list tbody tr")] == [
        "IP-2026-000103"
    ]
    assert (await offices(sessionmaker))[0].closures == []

    done = await post_form(client, {**closure, "confirm": "1"}, "/offices/close")
    assert done.status_code == 200
    [stored] = await offices(sessionmaker)
    assert stored.closures == [
        {"start": day.isoformat(), "end": day.isoformat(), "label": "The office moves"}
    ]
    [proposal] = await all_rows(sessionmaker, AppointmentProposal)
    assert proposal.replaces_id == booked.id
    new = next(row for row in await all_rows(sessionmaker, Appointment) if row.id == proposal.appointment_id)
    assert new.starts_at.astimezone(BAKU).date() != day
    [message] = await all_rows(sessionmaker, OutboxMessage)
    text = unseal_json(crypto, message, "payload_enc")["text"]
    assert create_i18n().gettext("Does this time suit you?", locale="az") in text

    listing = soup(await client.get("/offices"))
    assert "The office moves" in listing.select_one("ul.closures").text
    remove = listing.select_one("form[action$='/offices/reopen']")
    data = {field["name"]: field["value"] for field in remove.select("input[type=hidden]")}
    assert (
        await client.post("/offices/reopen", data={**data, "closure": "2000-01-01/2000-01-01"})
    ).status_code == 400
    assert (await client.post("/offices/reopen", data=data)).status_code == 303
    assert (await offices(sessionmaker))[0].closures == []
    actions = [entry.action for entry in await all_rows(sessionmaker, AuditEntry)]
    assert "office.closed" in actions and "office.reopened" in actions


async def test_deactivating_an_office_lists_its_bookings_and_one_that_cannot_be_moved_stays_booked(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
) -> None:
    await sign_in_as("admin1", role="admin")
    office = await office_with(sessionmaker, name="Office A")
    case = await seed_person(code="IP-2026-000104", stage="screening", language="en")
    booked = await book(sessionmaker, case, office, at(baku_day(2, now), 11))
    change = office_form(
        name="Office A", office=str(office.id), active="", **{f"hours_{d}": "09:00-18:00" for d in range(7)}
    )
    assert (await post_form(client, change)).status_code == 409
    done = await post_form(client, {**change, "confirm": "1"})
    assert done.status_code == 200
    # No other office: nothing to propose, the booking is kept and the page says to call.
    assert "by phone" in soup(done).select_one("ul.moved").text
    statuses = {row.id: row.status for row in await all_rows(sessionmaker, Appointment)}
    assert statuses == {booked.id: "booked"}
    assert not (await offices(sessionmaker))[0].active


async def test_a_new_office_sent_twice_at_once_is_made_once_and_the_other_answer_says_why(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("admin1", role="admin")
    token = soup(await client.get("/offices/edit")).select_one("form input[name=csrf_token]")["value"]
    data = {"csrf_token": token, **office_form()}
    answers = await asyncio.gather(*(client.post("/offices/save", data=data) for _ in range(2)))
    assert sorted(answer.status_code for answer in answers) == [303, 400]
    refused = next(answer for answer in answers if answer.status_code == 400)
    assert "Another office" in soup(refused).select_one("#err-name").text
    assert len(await offices(sessionmaker)) == 1


async def test_a_closure_withdraws_a_proposed_time_in_it_and_proposes_another(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    await sign_in_as("admin1", role="admin")
    office = await office_with(sessionmaker, name="Office A")
    case = await seed_person(code="IP-2026-000105", stage="screening", language="ru")
    day = baku_day(5, now)
    async with sessionmaker() as session, session.begin():
        stored = await session.get(Case, case.id)
        held = await propose(
            session,
            case=stored,
            office=await session.get(Office, office.id),
            appointment_type="review",
            starts_at=at(day, 10),
            replaces=None,
            staff_id=None,
            token="t" * 16,
            now=now,
        )
        assert held is not None
    closure = {"office": str(office.id), "start": day.isoformat(), "reason": "Inventory", "confirm": "1"}
    done = await post_form(client, closure, "/offices/close")
    assert done.status_code == 200
    lines = [item.text for item in soup(done).select("ul.moved li")]
    assert len(lines) == 2 and "withdrawn" in lines[0] and "new time" in lines[1]
    proposals = {p.token: p for p in await all_rows(sessionmaker, AppointmentProposal)}
    assert proposals.pop("t" * 16).status == "withdrawn"
    [new] = proposals.values()
    assert new.status == "pending" and new.replaces_id is None
    moved = next(row for row in await all_rows(sessionmaker, Appointment) if row.id == new.appointment_id)
    assert moved.type == "review" and moved.starts_at.astimezone(BAKU).date() != day
    texts = [
        unseal_json(crypto, m, "payload_enc")["text"] for m in await all_rows(sessionmaker, OutboxMessage)
    ]
    assert len(texts) == 2


async def test_the_offices_page_leaves_out_holidays_and_closures_that_are_over(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
) -> None:
    await sign_in_as("super1", role="supervisor")
    past, coming = baku_day(-3, now).isoformat(), baku_day(3, now).isoformat()
    await office_with(
        sessionmaker,
        holidays=[
            {"start": past, "end": past, "label": "Gone"},
            {"start": coming, "end": coming, "label": "Soon"},
        ],
        closures=[{"start": past, "end": baku_day(1, now).isoformat(), "label": "Still closed"}],
    )
    page = soup(await client.get("/offices"))
    assert [item.text for item in page.select("ul.holidays li")] == [page.select_one("ul.holidays li").text]
    assert "Soon" in page.select_one("ul.holidays").text and "Gone" not in page.select_one("ul.holidays").text
    assert "Still closed" in page.select_one("ul.closures").text


async def test_hostile_text_typed_into_an_office_is_shown_as_text_everywhere(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
) -> None:
    await sign_in_as("admin1", role="admin")
    script, image = "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'
    holiday = f"{baku_day(10, now).isoformat()} {script}"
    form = office_form(name=script, address=image, name_fa=image, holidays=holiday)
    assert (await post_form(client, form)).status_code == 303
    [office] = await offices(sessionmaker)
    closure = {"office": str(office.id), "start": baku_day(20, now).isoformat(), "reason": image}
    assert (await post_form(client, closure, "/offices/close")).status_code == 303
    for path in ("/offices", f"/offices/edit?office={office.id}", f"/offices/closure?office={office.id}"):
        page = soup(await client.get(path))
        assert page.select("main script") == [] and page.select("main img") == [], path
        assert script in page.select_one("main").text or script in str(page.select_one("#office-name")), path
