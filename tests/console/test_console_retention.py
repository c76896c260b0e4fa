"""Retention in the console: what the purge erases this month, legal holds put on and lifted (both
audited, shown on the case), hostile input on the hold form (each a clear message, nothing lost),
and a chat file removed after its period shown as removed."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Awaitable, Callable

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from caseworker_console.app import create_app
from storage import retention
from storage.crypto import Crypto
from storage.journey import add_case_message
from storage.models import AuditEntry, Case, StaffUser, utcnow
from storage.models_casework import CaseClosure
from storage.models_retention import LegalHold
from storage.sealing import unseal
from tests.console.conftest import form_token
from tests.console.test_console_hostile_input import IMAGE, SCRIPT, assert_inert

SignIn = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]
BAKU = zoneinfo.ZoneInfo("Asia/Baku")
CODE = "IP-2026-000100"
REASON = "Court case 2-123/2027: the prosecutor asked to keep the file."


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


@pytest.fixture
def app(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, now: dt.datetime) -> Starlette:
    """The console, its clock at the test's moment: its today is the office's (Baku's) then."""
    return create_app(sessionmaker=sessionmaker, crypto=crypto, clock=lambda: now)


def office_today(now: dt.datetime | None = None) -> dt.date:
    """The console's today: the date in Baku (its office time zone) at `now`, else now."""
    return (now or utcnow()).astimezone(BAKU).date()


def tomorrow_plus(days: int, now: dt.datetime | None = None) -> str:
    return (office_today(now) + dt.timedelta(days=days + 1)).isoformat()


async def closed_days_ago(
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    days: int,
    code: str = CODE,
    now: dt.datetime | None = None,
) -> Case:
    """A case closed from monitoring `days` days before `now` (else before the time it is)."""
    case = await seed_person(code=code, stage="closed")
    async with sessionmaker() as session, session.begin():
        session.add(
            CaseClosure(
                case_id=case.id,
                reason="goals_reached",
                stage_before="monitoring",
                closed_at=(now or utcnow()) - dt.timedelta(days=days),
            )
        )
    return case


async def post_hold(client: httpx.AsyncClient, token: str, **fields: str) -> httpx.Response:
    return await client.post("/retention/hold", data={"csrf_token": token, **fields})


async def holds(sessionmaker: async_sessionmaker[AsyncSession]) -> list[LegalHold]:
    async with sessionmaker() as session:
        return list((await session.execute(select(LegalHold))).scalars())


async def test_the_supervisor_sees_what_is_erased_this_month_and_puts_a_case_on_hold(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    await sign_in_as("sofia", role="supervisor")
    # Closed 720 days ago: the 730-day period ends in ten days.
    case = await closed_days_ago(seed_person, sessionmaker, days=720, now=now)
    await closed_days_ago(
        seed_person, sessionmaker, days=600, code="IP-2026-000101", now=now
    )  # not this month

    page = await client.get("/retention")
    rows = soup(page).select("table.retention-due tbody tr")
    assert [row["data-case"] for row in rows] == [CODE]
    cells = [cell.get_text(" ", strip=True) for cell in rows[0].select("th, td")]
    assert cells[0] == CODE and cells[1] == "Closed"
    assert cells[2].startswith("Closed on ")
    due = office_today(now + dt.timedelta(days=10))
    assert dt.date.fromisoformat(rows[0].select_one("time")["datetime"]) == due

    form = await client.get(rows[0].select_one("a[href^='/retention/hold']")["href"])
    assert soup(form).select_one("h1").get_text() == f"Legal hold of case {CODE}"
    review = tomorrow_plus(90, now)
    placed = await post_hold(client, form_token(form), case=CODE, reason=REASON, review_on=review)
    assert placed.status_code == 303
    done = await client.get(placed.headers["location"])
    assert soup(done).select_one("p.success").get_text() == (
        f"Case {CODE} is on legal hold. The purge will not erase it."
    )
    assert soup(done).select("table.retention-due tbody tr") == []
    assert [row["data-case"] for row in soup(done).select("table.retention-held tbody tr")] == [CODE]

    [hold] = await holds(sessionmaker)
    assert hold.case_id == case.id and hold.review_on.isoformat() == review
    assert REASON.encode() not in hold.reason_enc
    assert unseal(crypto, hold, "reason_enc") == REASON

    header = soup(await client.get(f"/cases/{CODE}"))
    assert header.select_one(".case-header .badge-hold").get_text() == "Legal hold"
    assert header.select_one(".case-hold time")["datetime"] == review

    # Reading the reason is audited; lifting too, and the case is due again.
    shown = soup(await client.get(f"/retention/hold?case={CODE}"))
    assert shown.select_one(".hold-reason").get_text() == REASON
    lifted = await client.post("/retention/lift", data={"csrf_token": form_token(form), "case": CODE})
    assert (
        "is lifted" in soup(await client.get(lifted.headers["location"])).select_one("p.success").get_text()
    )
    assert await holds(sessionmaker) == []
    made_up = await client.get("/retention?notice=held&case=IP-2026-999999")
    assert soup(made_up).select("p.success") == []
    again = await client.post("/retention/lift", data={"csrf_token": form_token(form), "case": CODE})
    assert "was not on legal hold" in soup(await client.get(again.headers["location"])).get_text()
    async with sessionmaker() as session:
        audit = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.object_id, AuditEntry.details)
                .where(AuditEntry.action.like("hold.%"))
                .order_by(AuditEntry.id)
            )
        ).all()
    assert audit == [
        ("hold.placed", CODE, {"review_on": review}),
        ("hold.viewed", CODE, {}),
        ("hold.lifted", CODE, {}),
    ]
    assert all(REASON not in str(details) for _, _, details in audit)


async def test_the_hold_form_answers_hostile_input_with_a_clear_message_and_keeps_what_was_typed(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
) -> None:
    await sign_in_as("sofia", role="supervisor")
    await closed_days_ago(seed_person, sessionmaker, days=720, now=now)
    token = form_token(await client.get(f"/retention/hold?case={CODE}"))
    review = tomorrow_plus(30, now)
    long_reason = "x" * 4990 + SCRIPT[:10]  # 5,000 characters
    today = office_today(now).isoformat()
    cases = [
        ({"case": CODE, "reason": "   ", "review_on": review}, 400, "Write why the case is held"),
        ({"case": CODE, "reason": long_reason, "review_on": review}, 400, "at most 2,000 characters"),
        ({"case": CODE, "reason": REASON, "review_on": "2020-01-01"}, 400, "must be after today"),
        ({"case": CODE, "reason": REASON, "review_on": today}, 400, "must be after today"),
        ({"case": CODE, "reason": REASON, "review_on": "31/12/2027"}, 400, "Give the review date as a date"),
        ({"case": CODE, "reason": REASON, "review_on": IMAGE}, 400, "Give the review date as a date"),
        ({"case": CODE, "reason": REASON, "review_on": "9999-12-31"}, 400, "within five years"),
        ({"case": "IP-2026-999999", "reason": REASON, "review_on": review}, 400, "No case has the code"),
        ({"case": SCRIPT, "reason": REASON, "review_on": review}, 400, "No case has the code"),
    ]
    for fields, status, message in cases:
        response = await post_hold(client, token, **fields)
        assert response.status_code == status, fields
        page = assert_inert(response, str(fields)[:60])
        assert message in page.select_one("p.error[role=alert]").get_text(), fields
        # Nothing lost: the reason comes back in full, as typed.
        assert page.select_one("textarea[name=reason]").get_text() == fields["reason"], fields
    assert await holds(sessionmaker) == []

    # The same form sent twice (a double click): one hold, and the second answer is the first's.
    first = await post_hold(client, token, case=CODE, reason=REASON, review_on=review)
    second = await post_hold(client, token, case=CODE, reason=REASON, review_on=review)
    assert first.status_code == second.status_code == 303
    assert len(await holds(sessionmaker)) == 1
    # A different hold on a held case: refused, the first stands, the new text is kept.
    other = await post_hold(
        client, token, case=CODE, reason="Another reason", review_on=tomorrow_plus(60, now)
    )
    assert other.status_code == 409
    assert "already on legal hold" in soup(other).select_one("p.error").get_text()
    assert soup(other).select_one(".hold-reason").get_text() == REASON
    assert soup(other).select_one("#hold-unsaved").get_text() == "Another reason"
    [hold] = await holds(sessionmaker)
    assert hold.review_on.isoformat() == review
    # A forged code in the lift form is refused the same way.
    forged = await client.post("/retention/lift", data={"csrf_token": token, "case": "IP-0000-000000"})
    assert forged.status_code == 400
    assert "No case has the code" in soup(forged).select_one("p.error").get_text()


async def test_a_file_removed_after_its_period_reads_as_removed_in_the_conversation(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("carla", role="caseworker")
    case = await seed_person(stage="implementation", assigned_to=me.id)
    now = utcnow()
    async with sessionmaker() as session, session.begin():
        message = await add_case_message(
            session,
            crypto,
            case=case,
            direction="in",
            kind="document",
            body={"file_id": "BQAC", "file_name": "permit.pdf", "caption": "my permit"},
        )
        message.created_at = now - dt.timedelta(days=400)
    async with sessionmaker() as session, session.begin():
        assert await retention.remove_attachments(
            session, crypto, policy=retention.RetentionPolicy(), now=now
        )

    page = soup(await client.get(f"/cases/{CODE}/conversation"))
    attachment = page.select_one(".message-attachment").get_text()
    assert attachment.startswith("Document: removed on ") and attachment.endswith(
        "after the retention period"
    )
    assert "permit" not in page.get_text()
