"""A case's alerts in the console: what raised each one and the crisis words that matched, shown
to its caseworker and the supervisors, opened when they look (which stops the escalation), with an
audit that names the alert and never the text; and each account's choice of phone alerts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from programme.reminders import QuietHours
from programme.staff_alerts import Choice
from storage import casework, staff_alerts
from storage.crypto import Crypto
from storage.journey import add_case_message, raise_alert
from storage.models import AuditEntry, Case, StaffUser, utcnow
from storage.models_journey import Alert
from tests.console.conftest import form_token

SignIn = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

CODE = "IP-2026-000100"
PAGE = f"/cases/{CODE}/adverse"
WRITTEN = "My husband beats me, I am at my sister's"


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


async def bot_alert(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    case: Case,
    kind: str,
    written: str | None = None,
    words: list[str] | None = None,
) -> int:
    """What the bot's urgent dialog does: the message kept on the case, the alert raised with it."""
    async with sessionmaker() as session, session.begin():
        stored = await session.get(Case, case.id)
        assert stored is not None
        message = None
        if written:
            body = {"text": written, "alert": kind, **({"crisis_words": words} if words else {})}
            message = await add_case_message(
                session, crypto, case=stored, direction="in", kind="text", body=body
            )
        alert = await raise_alert(session, case=stored, kind=kind, message=message)
        return alert.id


async def test_the_alert_shows_what_raised_it_and_the_words_and_the_audit_names_only_the_alert(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    me = await sign_in_as("aysel", display_name="Aysel")
    case = await seed_person(assigned_to=me.id)
    alert_id = await bot_alert(sessionmaker, crypto, case, "crisis_words", WRITTEN, ["beats me"])

    page = soup(await client.get(PAGE))
    shown = page.select_one(f".case-alert[data-alert='{alert_id}']")
    assert shown is not None
    assert "Words of crisis noticed" in shown.select_one("h3").get_text()
    assert shown.select_one(".alert-written").get_text() == WRITTEN
    assert [mark.get_text() for mark in shown.select(".alert-words mark")] == ["beats me"]
    assert "Aysel" in shown.select_one(".alert-opened").get_text()
    # The Conversation tab holds it like any message the person sent.
    conversation = soup(await client.get(f"/cases/{CODE}/conversation"))
    kept = conversation.select_one(".message-in")
    assert kept.select_one(".message-text").get_text() == WRITTEN
    assert kept.select_one(".message-alert").get_text() == "Words of crisis noticed"
    assert kept.select_one(".message-alert")["href"] == f"{PAGE}#alerts"

    async with sessionmaker() as session:
        audit = (await session.execute(select(AuditEntry).where(AuditEntry.action.like("alert%")))).scalars()
        entries = {entry.action: entry.details for entry in audit}
        alert = await session.get(Alert, alert_id)
    assert set(entries) == {"alert.crisis_words", "alerts.opened"}
    assert entries["alert.crisis_words"]["alert"] == alert_id
    assert entries["alerts.opened"] == {"alerts": [alert_id]}
    assert "beats" not in str(entries) and "sister" not in str(entries)
    assert alert is not None and alert.opened_by == me.id and alert.opened_at is not None

    # Looking again opens nothing more.
    await client.get(PAGE)
    async with sessionmaker() as session:
        opened = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "alerts.opened"))
        ).scalars()
        assert len(list(opened)) == 1


async def test_an_urgent_alert_with_nothing_written_says_so(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await sign_in_as("boss", role="supervisor")
    case = await seed_person()
    alert_id = await bot_alert(sessionmaker, crypto, case, "urgent")
    shown = soup(await client.get(PAGE)).select_one(f".case-alert[data-alert='{alert_id}']")
    assert shown is not None
    assert "Urgent help asked for" in shown.select_one("h3").get_text()
    assert shown.select_one(".alert-written").get_text() == "Nothing was written with it."
    assert shown.select_one(".alert-words") is None


async def alerts_form(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    token = form_token(await client.get("/account"))
    return await client.post("/account/alerts", data={"csrf_token": token, **fields})


async def test_an_account_chooses_its_alerts_and_quiet_hours_audited(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    me = await sign_in_as("aysel")
    page = soup(await client.get("/account"))
    assert page.select_one("#alerts input[name=urgent]").has_attr("checked")
    assert page.select_one("#alerts input[name=messages]").has_attr("checked")
    assert page.select_one("#alerts-unlinked") is not None

    saved = await alerts_form(client, urgent="1", quiet_from="21:00", quiet_until="08:30")
    assert saved.status_code == 303
    async with sessionmaker() as session:
        choice = await staff_alerts.choice_of(session, staff_user_id=me.id)
        audit = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "staff.alerts_chosen"))
        ).scalar_one()
    assert choice == Choice(
        urgent=True,
        messages=False,
        waiting=False,
        feedback=False,
        quiet=QuietHours(dt.time(21), dt.time(8, 30)),
    )
    assert audit.object_id == str(me.id)
    assert audit.details == {
        "urgent": True,
        "messages": False,
        "waiting": False,
        "feedback": False,
        "quiet_from": "21:00",
        "quiet_until": "08:30",
    }
    page = soup(await client.get("/account?changed=alerts"))
    assert page.select_one("#alerts-changed") is not None
    assert not page.select_one("#alerts input[name=messages]").has_attr("checked")
    assert page.select_one("#a-quiet-from")["value"] == "21:00"


async def test_the_readers_of_feedback_choose_its_overdue_alert_and_a_caseworker_keeps_it_unseen(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    sam = await sign_in_as("sam", role="supervisor")
    box = soup(await client.get("/account")).select_one("#alerts input[name=feedback]")
    assert box is not None and box["type"] == "checkbox" and box.has_attr("checked")
    label = box.find_parent("label").get_text(" ", strip=True)
    assert label == (
        "Feedback or a complaint waiting more than 7 days for a first answer (the alert names none of it)"
    )
    await alerts_form(client, urgent="1", messages="1", waiting="1")
    async with sessionmaker() as session:
        assert await staff_alerts.choice_of(session, staff_user_id=sam.id) == Choice(feedback=False)

    # A caseworker reads no feedback: no box, and saving the others keeps what is stored.
    cara = await sign_in_as("cara")
    async with sessionmaker() as session, session.begin():
        await staff_alerts.save_choice(
            session,
            staff_user_id=cara.id,
            urgent=True,
            messages=True,
            waiting=True,
            feedback=False,
            quiet_from=None,
            quiet_until=None,
        )
    page = await client.get("/account")
    hidden = soup(page).select_one("#alerts input[name=feedback]")
    assert hidden is not None and hidden["type"] == "hidden"
    await client.post(
        "/account/alerts",
        data={"csrf_token": form_token(page), "urgent": "1", "feedback": hidden["value"]},
    )
    async with sessionmaker() as session:
        choice = await staff_alerts.choice_of(session, staff_user_id=cara.id)
    assert (choice.urgent, choice.messages, choice.feedback) == (True, False, False)


async def test_half_given_or_equal_quiet_hours_are_refused_and_nothing_changes(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    me = await sign_in_as("aysel")
    for fields in (
        {"quiet_from": "21:00"},
        {"quiet_from": "21:00", "quiet_until": "21:00"},
        {"quiet_from": "25:00", "quiet_until": "08:00"},
        {"quiet_from": "9pm", "quiet_until": "08:00"},
    ):
        refused = await alerts_form(client, **fields)
        assert refused.status_code == 400
        assert "Give both times" in soup(refused).select_one("#alerts-error").get_text()
    async with sessionmaker() as session:
        assert await staff_alerts.choice_of(session, staff_user_id=me.id) == Choice()
        changes = await session.execute(select(AuditEntry).where(AuditEntry.action == "staff.alerts_chosen"))
        assert list(changes.scalars()) == []


async def test_accounts_that_see_no_cases_choose_no_alerts(
    client: httpx.AsyncClient, sign_in_as: SignIn
) -> None:
    await sign_in_as("olga", role="outreach")
    page = await client.get("/account")
    assert soup(page).select_one("#alerts") is None
    token = form_token(page)
    assert (
        await client.post("/account/alerts", data={"csrf_token": token, "urgent": "1"})
    ).status_code == 403


async def test_crisis_words_in_feedback_say_where_the_text_is_and_an_adverse_event_points_below(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await sign_in_as("boss", role="supervisor")
    case = await seed_person()
    feedback = await bot_alert(sessionmaker, crypto, case, "crisis_words")
    async with sessionmaker() as session, session.begin():
        stored = await session.get(Case, case.id)
        assert stored is not None
        adverse = (await casework.add_alert(session, case=stored, kind="adverse_event", at=utcnow())).id
    page = soup(await client.get(PAGE))
    written = page.select_one(f".case-alert[data-alert='{feedback}'] .alert-written").get_text()
    assert written.startswith("Written in feedback given with the case")
    shown = page.select_one(f".case-alert[data-alert='{adverse}']")
    assert "Adverse event recorded" in shown.select_one("h3").get_text()
    assert shown.select_one(".alert-written") is None
