"""Deliveries left uncertain (the sender stopped while sending them, and never repeats them): the
outreach officer chooses, per campaign, to send them again (warned, audited) or to leave them; a
reply or reminder left uncertain is listed for the caseworker on the case's Conversation tab."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Awaitable, Callable

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseworker_console.app import create_app
from caseworker_console.auth import SESSION_COOKIE, hash_token
from storage import staff
from storage.crypto import Crypto
from storage.models import AuditEntry, Beneficiary, Case, OutboxMessage, StaffUser
from storage.models_outreach import Campaign
from storage.outbox import LEFT_UNCERTAIN, STOPPED_AFTER_SENDING, Lane, Status, enqueue
from tests.console.conftest import BASE_URL, form_token
from tests.console.test_console_campaigns import FORM
from tests.outreach.conftest import campaign_worker

SignIn = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


async def statuses(sessionmaker: async_sessionmaker[AsyncSession], campaign_id: uuid.UUID) -> dict[str, int]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(OutboxMessage.status, OutboxMessage.error).where(OutboxMessage.campaign_id == campaign_id)
        )
        counted: dict[str, int] = {}
        for status, error in rows.all():
            key = f"{status}:{error}" if error == LEFT_UNCERTAIN else status
            counted[key] = counted.get(key, 0) + 1
        return counted


async def actions(sessionmaker: async_sessionmaker[AsyncSession], prefix: str) -> list[tuple[str, dict]]:
    async with sessionmaker() as session:
        rows = await session.execute(select(AuditEntry.action, AuditEntry.details).order_by(AuditEntry.id))
        return [(action, details) for action, details in rows.all() if action.startswith(prefix)]


async def a_sent_campaign_with_uncertain_rows(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    *,
    uncertain: int,
) -> tuple[str, uuid.UUID]:
    """Eight recipients, all settled: `uncertain` of them uncertain (as a dead sender's rows are)."""
    async with sessionmaker() as session, session.begin():
        for _ in range(8):
            session.add(Beneficiary(telegram_hash=secrets.token_hex(32), telegram_id_enc=b"x", language="ru"))
    token = form_token(await client.get("/campaigns/new"))
    location = (await client.post("/campaigns/new", data={**FORM, "csrf_token": token})).headers["location"]
    await client.post(f"{location}/schedule", data={"csrf_token": token, "version": "1"})
    campaign_id = uuid.UUID(location.rsplit("/", 1)[1])
    assert await campaign_worker(sessionmaker, crypto).run_once() == 8
    async with sessionmaker() as session, session.begin():
        ids = (
            (await session.execute(select(OutboxMessage.id).where(OutboxMessage.campaign_id == campaign_id)))
            .scalars()
            .all()
        )
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(status=Status.SENT)
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids[:uncertain]))
            .values(status=Status.UNCERTAIN, error=STOPPED_AFTER_SENDING, attempts=1)
        )
    await campaign_worker(sessionmaker, crypto).run_once()  # every row settled: done
    return location, campaign_id


async def test_the_officer_sends_the_uncertain_ones_again_after_the_warning_and_only_once(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await sign_in_as("olga", role="outreach")
    location, campaign_id = await a_sent_campaign_with_uncertain_rows(
        client, sessionmaker, crypto, uncertain=2
    )
    answer = await client.get(location)
    page = soup(answer)
    section = page.select_one(".campaign-uncertain")
    assert section is not None
    # The number is the figures' (masked): never the exact count under 5.
    assert "(<5 in the figures above)" in section.get_text(" ", strip=True)
    assert page.select_one("[data-figure=uncertain]").get_text() == "<5"
    assert "second time" in section.select_one("#uncertain-warning").get_text()
    token = form_token(answer)

    # Without ticking the warning: refused, nothing changes.
    unticked = await client.post(f"{location}/uncertain", data={"csrf_token": token, "choice": "resend"})
    assert unticked.status_code == 400
    assert soup(unticked).select_one(".campaign-uncertain [role=alert]").get_text() == (
        "Tick the box to confirm that some of them may get it twice."
    )
    forged = await client.post(f"{location}/uncertain", data={"csrf_token": token, "choice": "all"})
    assert forged.status_code == 400
    assert await statuses(sessionmaker, campaign_id) == {Status.SENT: 6, Status.UNCERTAIN: 2}

    sent = await client.post(
        f"{location}/uncertain", data={"csrf_token": token, "choice": "resend", "twice": "on"}
    )
    assert sent.status_code == 303
    assert await statuses(sessionmaker, campaign_id) == {Status.SENT: 6, Status.PENDING: 2}
    async with sessionmaker() as session:
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None and campaign.status == "running"  # until the two are settled
    # A second tap finds nothing left to decide.
    again = await client.post(
        f"{location}/uncertain", data={"csrf_token": token, "choice": "resend", "twice": "on"}
    )
    assert again.status_code == 409
    assert await actions(sessionmaker, "campaign.uncertain") == [("campaign.uncertain_resent", {"rows": 2})]
    assert soup(await client.get(location)).select_one(".campaign-uncertain") is None


async def test_the_officer_leaves_the_uncertain_ones_and_is_not_asked_again(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await sign_in_as("olga", role="outreach")
    location, campaign_id = await a_sent_campaign_with_uncertain_rows(
        client, sessionmaker, crypto, uncertain=3
    )
    token = form_token(await client.get(location))
    left = await client.post(f"{location}/uncertain", data={"csrf_token": token, "choice": "leave"})
    assert left.status_code == 303
    assert await statuses(sessionmaker, campaign_id) == {
        Status.SENT: 5,
        f"{Status.UNCERTAIN}:{LEFT_UNCERTAIN}": 3,
    }
    page = soup(await client.get(location))
    assert page.select_one(".campaign-uncertain") is None
    assert page.select_one("[data-figure=uncertain]").get_text() == "<5"  # still counted as uncertain
    assert await actions(sessionmaker, "campaign.uncertain") == [("campaign.uncertain_left", {"rows": 3})]


async def test_a_cancelled_campaign_offers_no_resend(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await sign_in_as("olga", role="outreach")
    location, campaign_id = await a_sent_campaign_with_uncertain_rows(
        client, sessionmaker, crypto, uncertain=1
    )
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Campaign).where(Campaign.id == campaign_id).values(status="cancelled"))
    answer = await client.get(location)
    page = soup(answer)
    assert page.select_one(".uncertain-resend-form") is None
    assert page.select_one(".uncertain-leave-form") is not None
    refused = await client.post(
        f"{location}/uncertain", data={"csrf_token": form_token(answer), "choice": "resend", "twice": "on"}
    )
    assert refused.status_code == 409
    assert await statuses(sessionmaker, campaign_id) == {Status.SENT: 7, Status.UNCERTAIN: 1}


async def test_sent_again_while_paused_they_are_held_with_the_campaign(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await sign_in_as("olga", role="outreach")
    location, campaign_id = await a_sent_campaign_with_uncertain_rows(
        client, sessionmaker, crypto, uncertain=2
    )
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Campaign).where(Campaign.id == campaign_id).values(status="paused"))
    token = form_token(await client.get(location))
    sent = await client.post(
        f"{location}/uncertain", data={"csrf_token": token, "choice": "resend", "twice": "on"}
    )
    assert sent.status_code == 303
    assert await statuses(sessionmaker, campaign_id) == {Status.SENT: 6, Status.PAUSED: 2}
    async with sessionmaker() as session:
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None and campaign.status == "paused"


async def test_sent_again_in_the_quiet_hours_they_wait_for_the_hours_to_end(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    # The campaign's quiet hours are 21:00-09:00 in Baku; the console's clock says 23:00 there.
    olga = await sign_in_as("olga", role="outreach")
    location, campaign_id = await a_sent_campaign_with_uncertain_rows(
        client, sessionmaker, crypto, uncertain=2
    )
    late = dt.datetime(2026, 12, 8, 19, 0, tzinfo=dt.UTC)
    app = create_app(sessionmaker=sessionmaker, crypto=crypto, clock=lambda: late)
    # Olga signs in again at the night's time: a session begun by the real clock has, by the console's
    # clock, been idle since whenever the test runs.
    token = secrets.token_urlsafe(32)
    async with sessionmaker() as session, session.begin():
        await staff.create_session(
            session,
            session_id=hash_token(token),
            user_id=olga.id,
            csrf_token=secrets.token_urlsafe(32),
            at=late,
        )
    transport = httpx.ASGITransport(app=app)
    cookies = {SESSION_COOKIE: token}
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, cookies=cookies) as night:
        token = form_token(await night.get(location))
        sent = await night.post(
            f"{location}/uncertain", data={"csrf_token": token, "choice": "resend", "twice": "on"}
        )
    assert sent.status_code == 303
    async with sessionmaker() as session:
        due = (
            (
                await session.execute(
                    select(OutboxMessage.not_before).where(
                        OutboxMessage.campaign_id == campaign_id, OutboxMessage.status == Status.PENDING
                    )
                )
            )
            .scalars()
            .all()
        )
    assert due == [dt.datetime(2026, 12, 9, 5, 0, tzinfo=dt.UTC)] * 2  # 09:00 in Baku


async def uncertain_messages(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, case: Case
) -> dict[str, uuid.UUID]:
    """A reply and a reminder left uncertain, a reply sent, and a campaign's row left uncertain."""
    made: dict[str, uuid.UUID] = {}
    async with sessionmaker() as session, session.begin():
        for name, lane, status in (
            ("reply", Lane.REPLY, Status.UNCERTAIN),
            ("reminder", Lane.REMINDER, Status.UNCERTAIN),
            ("delivered", Lane.REPLY, Status.SENT),
            ("campaign", Lane.BROADCAST, Status.UNCERTAIN),
        ):
            [row] = await enqueue(
                session,
                crypto,
                beneficiary_id=case.beneficiary_id,
                text=f"The {name} text",
                lane=lane,
                campaign_id=uuid.uuid4() if name == "campaign" else None,
            )
            row.status, row.error = status, STOPPED_AFTER_SENDING if status == Status.UNCERTAIN else None
            made[name] = row.id
    return made


async def test_a_reply_or_reminder_left_uncertain_is_listed_for_the_caseworker_in_their_language(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("kamran", language="az")
    case = await seed_person(assigned_to=me.id, stage="screening")
    made = await uncertain_messages(sessionmaker, crypto, case)
    tab = f"/cases/{case.code}/conversation"
    # Every other tab of the case points to them.
    overview = soup(await client.get(f"/cases/{case.code}"))
    note = overview.select_one(".case-uncertain a")
    assert note["href"] == f"/cases/{case.code}/conversation#uncertain-heading"
    assert ": 2." in note.get_text()
    answer = await client.get(tab)
    page = soup(answer)
    listed = page.select(".uncertain-message")
    assert [item.select_one(".message-text").get_text() for item in listed] == [
        "The reply text",
        "The reminder text",
    ]
    assert page.select_one("#uncertain-heading").get_text() == "Çatdırılma məlum deyil"
    assert [item.select_one(".uncertain-kind").get_text() for item in listed] == [
        "Cavab və ya vaxt təklifi",
        "Görüş xatırlatması",
    ]
    token = form_token(answer)

    resent = await client.post(
        f"{tab}/uncertain", data={"csrf_token": token, "message": str(made["reply"]), "choice": "resend"}
    )
    assert resent.status_code == 303
    left = await client.post(
        f"{tab}/uncertain", data={"csrf_token": token, "message": str(made["reminder"]), "choice": "leave"}
    )
    assert left.status_code == 303
    async with sessionmaker() as session:
        rows = {row.id: row for row in (await session.execute(select(OutboxMessage))).scalars()}
    assert (rows[made["reply"]].status, rows[made["reply"]].error) == (Status.PENDING, None)
    assert (rows[made["reminder"]].status, rows[made["reminder"]].error) == (Status.UNCERTAIN, LEFT_UNCERTAIN)
    assert rows[made["campaign"]].status == Status.UNCERTAIN  # decided on its campaign's page
    assert soup(await client.get(tab)).select_one(".conversation-uncertain") is None
    assert soup(await client.get(f"/cases/{case.code}")).select_one(".case-uncertain") is None
    assert [action for action, _ in await actions(sessionmaker, "case.uncertain")] == [
        "case.uncertain_resent",
        "case.uncertain_left",
    ]

    # A second tap, another case's message, the campaign's row, a forged id: nothing changes.
    for message in (made["reply"], made["campaign"], made["delivered"]):
        again = await client.post(
            f"{tab}/uncertain", data={"csrf_token": token, "message": str(message), "choice": "resend"}
        )
        assert again.status_code == 409
    forged = await client.post(
        f"{tab}/uncertain", data={"csrf_token": token, "message": "1 OR 1", "choice": "leave"}
    )
    assert forged.status_code == 400


async def test_another_persons_uncertain_message_is_not_decided_from_this_case(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    # The caseworker's own two cases: a message id of the other's person, posted on this case's
    # tab, is neither sent again nor left.
    me = await sign_in_as("kamran")
    case = await seed_person(assigned_to=me.id, stage="screening")
    other = await seed_person(code="IP-2026-000200", assigned_to=me.id, stage="screening")
    theirs = await uncertain_messages(sessionmaker, crypto, other)
    tab = f"/cases/{case.code}/conversation"
    token = form_token(await client.get(tab))
    for choice in ("resend", "leave"):
        answer = await client.post(
            f"{tab}/uncertain", data={"csrf_token": token, "message": str(theirs["reply"]), "choice": choice}
        )
        assert answer.status_code == 409
    async with sessionmaker() as session:
        row = await session.get(OutboxMessage, theirs["reply"])
    assert row is not None and (row.status, row.error) == (Status.UNCERTAIN, STOPPED_AFTER_SENDING)
    assert await actions(sessionmaker, "case.uncertain") == []
    # On its own case's tab the same message is decided.
    own_tab = f"/cases/{other.code}/conversation"
    own = await client.post(
        f"{own_tab}/uncertain", data={"csrf_token": token, "message": str(theirs["reply"]), "choice": "leave"}
    )
    assert own.status_code == 303


async def test_a_caseworker_not_on_the_case_sees_that_a_message_is_uncertain_but_not_what_it_said(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    case = await seed_person(stage="screening")  # in the queue: visible, not theirs
    await uncertain_messages(sessionmaker, crypto, case)
    await sign_in_as("kamran")
    page = soup(await client.get(f"/cases/{case.code}/conversation"))
    listed = page.select(".uncertain-message")
    assert [item.select_one(".message-text").get_text() for item in listed] == ["Hidden", "Hidden"]
    assert page.select(".uncertain-message form") == []
    assert "The reply text" not in page.get_text()
