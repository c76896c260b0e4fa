"""A person's own account page (every role): "Link my Telegram" makes a one-time code shown once (the
bot's deep link and the /link command), stored only as a keyed hash; linked since, unlink, audited.
A campaign's "Send a test to me" puts the message of each language, exactly as rendered for its
readers, in the outbox for the officer's linked chat, outside every figure of the campaign."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from caseworker_console.app import create_app
from outreach import campaigns
from storage import staff_link
from storage.crypto import Crypto
from storage.models import AuditEntry, OutboxMessage, StaffUser, utcnow
from storage.models_outreach import Campaign
from storage.models_staff_link import LINK_CODE_PURPOSE, StaffLinkCode
from storage.outbox import Lane, Status
from storage.sealing import unseal_json
from tests.console.conftest import form_token
from tests.console.test_console_campaigns import FORM, compose

SignIn = Callable[..., Awaitable[StaffUser]]
BOT = "intake_test_bot"
CHAT = 777000111


@pytest.fixture
def app(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> Starlette:
    return create_app(sessionmaker=sessionmaker, crypto=crypto, bot_username=BOT)


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


async def link(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, user: StaffUser) -> None:
    """What the bot does with the code (bot.staff_link)."""
    async with sessionmaker() as session, session.begin():
        code = await staff_link.new_code(session, crypto, staff_user_id=user.id, now=utcnow())
        assert await staff_link.redeem(session, crypto, code=code, chat_id=CHAT, now=utcnow()) is not None


async def actions(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessionmaker() as session:
        return list((await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())


@pytest.mark.parametrize("role", ["caseworker", "supervisor", "outreach", "admin"])
async def test_every_role_reaches_its_own_account_page_from_the_header(
    client: httpx.AsyncClient, sign_in_as: SignIn, role: str
) -> None:
    await sign_in_as("somebody", role=role, display_name="Some Body")
    home = await client.get("/", follow_redirects=True)
    header_link = soup(home).select_one(".site-header a.account-link")
    assert header_link is not None and header_link["href"] == "/account"
    page = soup(await client.get("/account"))
    assert page.select_one("h1").get_text() == "My account"
    assert page.select_one(".telegram-status")["data-linked"] == "0"
    assert page.select_one(".telegram-code") is None


async def test_link_my_telegram_shows_a_one_time_code_once_and_stores_only_its_hash(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    olga = await sign_in_as("olga", role="outreach")
    token = form_token(await client.get("/account"))
    made = await client.post("/account/telegram/code", data={"csrf_token": token})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    page = soup(made)
    command = page.select_one("#telegram-command").get_text()
    code = command.removeprefix("/link ")
    assert re.fullmatch(f"[{staff_link.CODE_ALPHABET}]{{{staff_link.CODE_LENGTH}}}", code)
    assert len(code) >= 8 and not set(code) & set("0O1IL")
    assert page.select_one("#telegram-link")["href"] == f"https://t.me/{BOT}?start=staff-{code}"
    async with sessionmaker() as session:
        stored = (await session.execute(select(StaffLinkCode))).scalar_one()
    assert stored.staff_user_id == olga.id
    assert stored.code_hash == crypto.blind_index(LINK_CODE_PURPOSE, code) and code not in stored.code_hash
    assert 14 * 60 < (stored.expires_at - utcnow()).total_seconds() <= 15 * 60
    # Reloading shows no code; a new one replaces the old.
    assert soup(await client.get("/account")).select_one("#telegram-command") is None
    again = soup(await client.post("/account/telegram/code", data={"csrf_token": token}))
    assert again.select_one("#telegram-command").get_text() != command
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(StaffLinkCode))).scalar_one() == 1
    assert await actions(sessionmaker) == ["staff.telegram_code", "staff.telegram_code"]


async def test_making_a_code_or_unlinking_needs_the_forms_token(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("olga", role="outreach")
    assert (await client.post("/account/telegram/code", data={})).status_code == 403
    assert (await client.post("/account/telegram/unlink", data={"csrf_token": "forged"})).status_code == 403
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(StaffLinkCode))).scalar_one() == 0


async def test_the_page_shows_since_when_the_chat_is_linked_and_unlinks_it(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    olga = await sign_in_as("olga", role="outreach")
    await link(sessionmaker, crypto, olga)
    page = soup(await client.get("/account"))
    status = page.select_one(".telegram-status")
    assert status["data-linked"] == "1" and status.get_text().startswith(
        "Your Telegram chat is linked since "
    )
    unlinked = await client.post(
        "/account/telegram/unlink", data={"csrf_token": form_token(await client.get("/account"))}
    )
    assert unlinked.status_code == 303 and unlinked.headers["location"] == "/account"
    assert soup(await client.get("/account")).select_one(".telegram-status")["data-linked"] == "0"
    async with sessionmaker() as session:
        assert await staff_link.link_of(session, staff_user_id=olga.id) is None
    assert await actions(sessionmaker) == ["staff.telegram_unlinked"]


async def test_send_a_test_puts_each_languages_message_in_the_outbox_for_the_officers_chat_only(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    olga = await sign_in_as("olga", role="outreach")
    await link(sessionmaker, crypto, olga)
    created = await compose(client)
    location = created.headers["location"]
    campaign_id = uuid.UUID(location.rsplit("/", 1)[1])
    page = soup(await client.get(location))
    options = [option["value"] for option in page.select("#test-language option")]
    assert options == ["", "ru", "en", "fa"]

    sent = await client.post(f"{location}/test", data={"csrf_token": form_token(await client.get(location))})
    assert sent.status_code == 303
    shown = soup(await client.get(sent.headers["location"]))
    assert shown.select_one("#test-sent").get_text() == "Test messages on their way to your Telegram: 3"
    async with sessionmaker() as session:
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None
        rows = (
            (await session.execute(select(OutboxMessage).order_by(OutboxMessage.created_at))).scalars().all()
        )
        payloads = [unseal_json(crypto, row, "payload_enc") for row in rows]
        figures = await campaigns.figures(session, campaign_id)
        audit = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "campaign.test_sent"))
        ).scalar_one()
    assert [(row.staff_user_id, row.beneficiary_id, row.campaign_id) for row in rows] == [
        (olga.id, None, None)
    ] * 3
    assert {(row.lane, row.status) for row in rows} == {(Lane.REPLY, Status.PENDING)}
    # Exactly what the campaign's readers of each language get.
    assert payloads == [campaigns.render(campaign, code, bot_username=BOT) for code in ("ru", "en", "fa")]
    assert payloads[0]["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Подробнее",
        "url": FORM["button_target"],
    }
    assert figures == campaigns.Figures() and campaign.status == "draft" and campaign.expanded == 0
    assert (audit.actor, audit.object_id, audit.details) == (
        f"staff:{olga.id}",
        str(campaign_id),
        {"languages": ["ru", "en", "fa"]},
    )

    # One language chosen: one message; a language without a text: refused, nothing queued.
    token = form_token(await client.get(location))
    await client.post(f"{location}/test", data={"csrf_token": token, "language": "fa"})
    refused = await client.post(f"{location}/test", data={"csrf_token": token, "language": "tr"})
    assert refused.status_code == 400
    assert soup(refused).select_one("#test-error").get_text(strip=True) == (
        "Choose a language the campaign has a text in."
    )
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one() == 4


async def test_a_finished_or_cancelled_campaign_offers_no_test(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    olga = await sign_in_as("olga", role="outreach")
    await link(sessionmaker, crypto, olga)
    location = (await compose(client)).headers["location"]
    assert soup(await client.get(location)).select_one("form.test-form") is not None
    campaign_id = uuid.UUID(location.rsplit("/", 1)[1])
    for status in ("done", "cancelled"):
        async with sessionmaker() as session, session.begin():
            campaign = await session.get(Campaign, campaign_id)
            assert campaign is not None
            campaign.status = status
        assert soup(await client.get(location)).select_one("form.test-form") is None, status


async def test_send_a_test_without_a_linked_chat_says_where_to_link_it(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("olga", role="outreach")
    location = (await compose(client)).headers["location"]
    refused = await client.post(
        f"{location}/test", data={"csrf_token": form_token(await client.get(location))}
    )
    assert refused.status_code == 409
    error = soup(refused).select_one("#test-error")
    assert error.get_text(" ", strip=True).startswith("No Telegram chat is linked to your account yet")
    assert error.select_one("a")["href"] == "/account"
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one() == 0


async def test_only_campaign_roles_may_send_a_test(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    campaign = Campaign(
        name="x",
        texts={"en": "Hello"},
        fallback_language="en",
        segment={},
        status="draft",
        expanded=0,
        version=1,
    )
    async with sessionmaker() as session, session.begin():
        session.add(campaign)
    worker = await sign_in_as("carla", role="caseworker")
    await link(sessionmaker, crypto, worker)
    token = form_token(await client.get("/account"))
    assert (
        await client.post(f"/campaigns/{campaign.id}/test", data={"csrf_token": token})
    ).status_code == 403
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one() == 0


async def test_the_composer_saves_the_draft_and_sends_the_test_in_one_go(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    olga = await sign_in_as("olga", role="outreach")
    # Not linked yet: the draft is saved all the same, and the page says where to link.
    refused = await compose(client, then="test")
    assert refused.status_code == 409
    assert soup(refused).select_one("#test-error a")["href"] == "/account"
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Campaign))).scalar_one() == 1
        assert (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one() == 0

    await link(sessionmaker, crypto, olga)
    sent = await compose(client, then="test", name="Second")
    assert sent.status_code == 303 and sent.headers["location"].endswith("?tested=3#test-heading")
    location = sent.headers["location"].split("?")[0]
    # Changed in the draft's form and tested at once: the test carries the new text.
    token = form_token(await client.get(location))
    changed = await client.post(
        f"{location}/edit",
        data={
            **FORM,
            "csrf_token": token,
            "version": "1",
            "text_ru": "Офис открыт в воскресенье.",
            "then": "test",
        },
    )
    assert changed.status_code == 303 and "tested=3" in changed.headers["location"]
    async with sessionmaker() as session:
        rows = (
            (await session.execute(select(OutboxMessage).order_by(OutboxMessage.created_at))).scalars().all()
        )
        texts = [unseal_json(crypto, row, "payload_enc")["text"].split("\n")[0] for row in rows]
    assert texts == [
        FORM["text_ru"],
        FORM["text_en"],
        FORM["text_fa"],
        "Офис открыт в воскресенье.",
        FORM["text_en"],
        FORM["text_fa"],
    ]
