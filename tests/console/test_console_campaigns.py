"""Campaign screens: compose (bad input kept and explained), recipients and preview per language,
schedule, the worker's expansion, figures equal to the outbox rows, pause, resume, cancel."""

from __future__ import annotations

import secrets
import uuid
import zoneinfo
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach import campaigns as work
from storage.crypto import Crypto
from storage.models import AuditEntry, Beneficiary, Case, OutboxMessage, StaffUser
from storage.models_channels import Channel
from storage.models_outreach import Campaign
from storage.outbox import Status
from tests.console.conftest import form_token
from tests.outreach.conftest import campaign_worker
from wording.broadcast import opt_out_line

SignIn = Callable[..., Awaitable[StaffUser]]

FORM: dict[str, Any] = {
    "name": "Saturday opening",
    "fallback_language": "en",
    "text_en": "The office is open on Saturday.",
    "text_ru": "Офис открыт в субботу.",
    "text_fa": "دفتر شنبه باز است.",
    "button_kind": "url",
    "button_target": "https://example.org/saturday",
    "label_en": "Details",
    "label_ru": "Подробнее",
    "appointment": "any",
    "quiet": "on",
    "quiet_from": "21:00",
    "quiet_until": "09:00",
    "spread_hours": "0",
}


async def people(sessionmaker: async_sessionmaker[AsyncSession], **by_language: int) -> None:
    async with sessionmaker() as session, session.begin():
        for language, count in by_language.items():
            for _ in range(count):
                session.add(
                    Beneficiary(
                        telegram_hash=secrets.token_hex(32),
                        telegram_id_enc=secrets.token_bytes(40),
                        language=None if language == "unknown" else language,
                    )
                )


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


async def compose(client: httpx.AsyncClient, **changes: Any) -> httpx.Response:
    token = form_token(await client.get("/campaigns/new"))
    return await client.post("/campaigns/new", data={**FORM, "csrf_token": token, **changes})


async def rows_by_status(
    sessionmaker: async_sessionmaker[AsyncSession], campaign_id: uuid.UUID
) -> dict[str, int]:
    async with sessionmaker() as session:
        found = await session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.campaign_id == campaign_id)
            .group_by(OutboxMessage.status)
        )
        return dict(found.all())


def figures(page: BeautifulSoup) -> dict[str, str]:
    return {dd["data-figure"]: dd.get_text(strip=True) for dd in page.select("[data-figure]")}


async def test_an_outreach_officer_composes_previews_schedules_and_follows_a_campaign(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    # Five or more in each language, so the counts show (under 5 they are masked, see below).
    await people(sessionmaker, ru=6, fa=5, tr=5, unknown=5)
    await sign_in_as("olga", role="outreach")
    menu = soup(await client.get("/campaigns")).select_one(".site-nav a[aria-current=page]")
    assert menu is not None and menu.get_text() == "Campaigns"

    # Missing fallback text and a bad link: refused, explained, and everything typed is kept.
    refused = await compose(client, text_en="", button_target="ftp://nowhere")
    assert refused.status_code == 400
    page = soup(refused)
    assert page.select_one("#campaign-text-ru").get_text() == FORM["text_ru"]
    assert page.select_one("#campaign-button-target")["value"] == "ftp://nowhere"
    assert len(page.select(".field-error")) == 2
    # What a pause does to the spread is said beside it.
    spread_note = page.select_one("#" + page.select_one("#campaign-spread")["aria-describedby"])
    assert "pause" in spread_note.get_text() and "share" in spread_note.get_text()
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Campaign))).scalar_one() == 0

    created = await compose(client)
    assert created.status_code == 303
    location = created.headers["location"]
    campaign_id = uuid.UUID(location.rsplit("/", 1)[1])
    draft = soup(await client.get(location))
    assert "People who would get it now: 21" in draft.select_one(".campaign-recipients").get_text()
    preview = {row["data-language"]: row for row in draft.select(".campaign-preview tbody tr")}
    assert preview["ru"].select_one("td").get_text() == "6"
    assert preview["ru"].select_one(".campaign-message").get_text() == (
        f"{FORM['text_ru']}\n\n{opt_out_line('ru')}"
    )
    # Turkish readers get the English fallback with the /stop line in Turkish.
    assert preview["tr"].select_one(".campaign-message").get_text() == (
        f"{FORM['text_en']}\n\n{opt_out_line('tr')}"
    )
    assert preview["fa"].select_one(".campaign-message")["dir"] == "rtl"
    assert preview["ru"].select_one(".campaign-button .badge").get_text() == "Подробнее"
    assert preview[""].select_one("td").get_text() == "5"
    assert preview["az"].select_one("td").get_text() == "<5"  # nobody, masked as on the figures page

    # Only three languages: narrow the segment, and see the count follow.
    token = form_token(await client.get(location))
    changed = await client.post(
        f"/campaigns/{campaign_id}/edit",
        data={**FORM, "csrf_token": token, "version": "1", "languages": ["ru", "fa", "tr"]},
    )
    assert changed.status_code == 303
    draft = soup(await client.get(location))
    assert "People who would get it now: 16" in draft.select_one(".campaign-recipients").get_text()
    # A stale form (version 1 again) is refused without losing what was typed.
    stale = await client.post(
        f"/campaigns/{campaign_id}/edit", data={**FORM, "csrf_token": token, "version": "1", "name": "Mine"}
    )
    assert stale.status_code == 409
    assert soup(stale).select_one("#campaign-name")["value"] == "Mine"

    scheduled = await client.post(
        f"/campaigns/{campaign_id}/schedule", data={"csrf_token": token, "version": "2"}
    )
    assert scheduled.status_code == 303
    again = await client.post(
        f"/campaigns/{campaign_id}/schedule", data={"csrf_token": token, "version": "3"}
    )
    assert again.status_code == 409

    worker = campaign_worker(sessionmaker, crypto)
    assert await worker.run_once() == 16
    assert await rows_by_status(sessionmaker, campaign_id) == {Status.PENDING: 16}
    progress = soup(await client.get(f"/campaigns/{campaign_id}/progress"))
    assert figures(progress)["remaining"] == "16" and figures(progress)["sent"] == "<5"

    # Five rows out, five blocked: the figures are the rows'.
    async with sessionmaker() as session, session.begin():
        ids = list(
            (
                await session.execute(
                    select(OutboxMessage.id).where(OutboxMessage.campaign_id == campaign_id)
                )
            ).scalars()
        )
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids[:5])).values(status=Status.SENT)
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids[5:10]))
            .values(status=Status.FAILED, error="blocked")
        )
    assert (
        await client.post(f"/campaigns/{campaign_id}/pause", data={"csrf_token": token})
    ).status_code == 303
    assert (
        await client.post(f"/campaigns/{campaign_id}/pause", data={"csrf_token": token})
    ).status_code == 409
    assert await rows_by_status(sessionmaker, campaign_id) == {
        Status.SENT: 5,
        Status.FAILED: 5,
        Status.PAUSED: 6,
    }
    page = soup(await client.get(location))
    assert figures(page) | {"finish": ""} == {
        "sent": "5",
        "failed": "<5",
        "blocked": "5",
        "opted_out": "<5",
        "uncertain": "<5",
        "cancelled": "<5",
        "remaining": "6",
        "finish": "",
    }
    assert page.select_one(".progress-percent").get_text() == "62%"  # 10 of 16 settled
    assert (
        await client.post(f"/campaigns/{campaign_id}/resume", data={"csrf_token": token})
    ).status_code == 303
    assert await rows_by_status(sessionmaker, campaign_id) == {
        Status.SENT: 5,
        Status.FAILED: 5,
        Status.PENDING: 6,
    }
    assert (
        await client.post(f"/campaigns/{campaign_id}/cancel", data={"csrf_token": token})
    ).status_code == 303
    assert await rows_by_status(sessionmaker, campaign_id) == {
        Status.SENT: 5,
        Status.FAILED: 5,
        Status.CANCELLED: 6,
    }
    page = soup(await client.get(location))
    assert figures(page)["cancelled"] == "6"
    results = [
        row.select_one("th").get_text(" ", strip=True) for row in page.select(".campaign-results tbody tr")
    ]
    assert results == [
        "Russian (variant: Russian)",
        "Persian (variant: Persian)",
        "Turkish (variant: English)",
    ]
    assert not page.select("script[src$='campaign.js']")  # nothing left to follow
    async with sessionmaker() as session:
        actions = (await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars().all()
    assert actions == [
        "campaign.created",
        "campaign.changed",
        "campaign.scheduled",
        "campaign.paused",
        "campaign.resumed",
        "campaign.cancelled",
    ]


async def test_campaign_pages_show_counts_never_a_person_or_a_case(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: Callable[..., Awaitable[Case]],
) -> None:
    case = await seed_person(name="Zarina Nazarova", phone="+994501234567", code="IP-2026-000777")
    await sign_in_as("olga", role="outreach")
    created = await compose(client)
    page = (await client.get(created.headers["location"])).text
    assert "People who would get it now: &lt;5" in page
    for secret in ("Zarina", "+994501234567", case.code):
        assert secret not in page
    assert (await client.get(f"/cases/{case.code}")).status_code == 403


async def test_the_source_channels_are_offered_by_the_names_the_channels_page_gives_them(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session, session.begin():
        session.add(Channel(code="sumgait-1", name="Community meeting, Sumgait", kind="community_meeting"))
        for source in ("sumgait-1", "old-code", None):
            session.add(Beneficiary(telegram_hash=secrets.token_hex(32), telegram_id_enc=b"x", source=source))
    await sign_in_as("olga", role="outreach")
    form = soup(await client.get("/campaigns/new"))
    offered = {
        box["value"]: form.select_one(f"label[for={box['id']}]").get_text(" ", strip=True)
        for box in form.select("input[name=sources]")
    }
    assert offered == {
        "direct": "No channel (came without a link)",
        "sumgait-1": "Community meeting, Sumgait sumgait-1",
        "old-code": "old-code",  # people recorded with a code no channel has any more: the code alone
    }
    chosen = await compose(client, sources=["sumgait-1"])
    page = soup(await client.get(chosen.headers["location"]))
    assert page.select_one(".campaign-recipients").get_text(strip=True) == "People who would get it now: <5"
    async with sessionmaker() as session:
        campaign = await session.get(Campaign, uuid.UUID(chosen.headers["location"].rsplit("/", 1)[1]))
        assert campaign is not None
        segment = work.Segment.from_data(campaign.segment)
        assert await work.count_by_language(session, segment, campaign.created_at) == {None: 1}


async def test_a_forged_or_unknown_campaign_is_not_found(
    client: httpx.AsyncClient, sign_in_as: SignIn
) -> None:
    await sign_in_as("olga", role="outreach")
    assert (await client.get(f"/campaigns/{uuid.uuid4()}")).status_code == 404
    assert (await client.get("/campaigns/not-a-uuid")).status_code == 404
    long_text = await compose(client, text_en="x" * 5000, name="y" * 500)
    assert long_text.status_code == 400
    assert soup(long_text).select_one("#campaign-text-en").get_text() == "x" * 5000


async def test_the_quiet_hours_and_the_start_are_kept_as_given(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("olga", role="outreach")
    without = {key: value for key, value in FORM.items() if key != "quiet"}
    token = form_token(await client.get("/campaigns/new"))
    none = await client.post("/campaigns/new", data={**without, "csrf_token": token})
    night = await compose(
        client, quiet_from="22:30", quiet_until="07:15", start_date="2026-12-24", start_time="18:45"
    )
    bad = await compose(client, quiet_from="22:30", quiet_until="22:30", spread_hours="100")
    assert (none.status_code, night.status_code, bad.status_code) == (303, 303, 400)
    assert {"quiet", "spread_hours"} <= {
        error["id"].removesuffix("-error") for error in soup(bad).select(".field-error[id]")
    }
    async with sessionmaker() as session:
        stored = {campaign.id: campaign for campaign in (await session.execute(select(Campaign))).scalars()}
    first = stored[uuid.UUID(none.headers["location"].rsplit("/", 1)[1])]
    second = stored[uuid.UUID(night.headers["location"].rsplit("/", 1)[1])]
    assert (first.quiet_from, first.quiet_until, first.starts_at) == (None, None, None)
    assert (second.quiet_from, second.quiet_until) == (22 * 3600 + 1800, 7 * 3600 + 900)
    # 18:45 in Baku (UTC+4), the console's office time zone.
    assert second.starts_at is not None and second.starts_at.isoformat() == "2026-12-24T14:45:00+00:00"


async def test_a_campaign_paused_while_it_is_prepared_offers_its_resume_once_every_row_is_made(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await people(sessionmaker, ru=3)
    await sign_in_as("olga", role="outreach")
    location = (await compose(client)).headers["location"]
    campaign_id = uuid.UUID(location.rsplit("/", 1)[1])
    token = form_token(await client.get(location))
    assert (
        await client.post(f"/campaigns/{campaign_id}/schedule", data={"csrf_token": token, "version": "1"})
    ).status_code == 303
    worker = campaign_worker(sessionmaker, crypto, batch=2)
    # The worker made the first batch (2 of 3) when the officer paused.
    async with sessionmaker() as session, session.begin():
        await work.expand_batch(
            session,
            crypto,
            campaign_id,
            zone=zoneinfo.ZoneInfo("UTC"),
            rate=25,
            bot_username="intake_bot",
            batch=2,
        )
    assert (
        await client.post(f"/campaigns/{campaign_id}/pause", data={"csrf_token": token})
    ).status_code == 303

    page = soup(await client.get(location))
    note = page.select_one(".campaign-actions [role=status]")
    assert note is not None and "still being added" in note.get_text()
    assert not page.select(f"form[action$='/campaigns/{campaign_id}/resume']")
    refused = await client.post(f"/campaigns/{campaign_id}/resume", data={"csrf_token": token})
    assert refused.status_code == 409
    assert await rows_by_status(sessionmaker, campaign_id) == {Status.PAUSED: 2}

    assert await worker.run_once() == 1  # the worker makes the last row, held with the others
    page = soup(await client.get(location))
    assert not page.select(".campaign-actions [role=status]")
    assert page.select(f"form[action$='/campaigns/{campaign_id}/resume']")
    assert (
        await client.post(f"/campaigns/{campaign_id}/resume", data={"csrf_token": token})
    ).status_code == 303
    assert await rows_by_status(sessionmaker, campaign_id) == {Status.PENDING: 3}


async def test_text_telegram_would_refuse_is_explained_in_the_form_and_nothing_is_saved(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("officer1", role="outreach")
    for text in ("Open 9-18 <for everyone", "Bring <documents>", "Save <b>this date</i>", "Map <a>here"):
        refused = await compose(client, text_ru=text)
        assert refused.status_code == 400, text
        error = soup(refused).select_one("#text_ru-error, [id^=text_ru][role=alert], .field-error")
        assert error is not None and "Telegram would refuse this text" in soup(refused).get_text()
        # What was typed stays in the form to be mended.
        assert soup(refused).select_one("textarea[name=text_ru]").get_text() == text
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Campaign))).scalar_one() == 0


async def test_the_preview_shows_the_formatting_as_telegram_does(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await people(sessionmaker, en=2)
    await sign_in_as("officer2", role="outreach")
    text = 'The office is <b>open on Saturday</b>, 3 &lt; 4. <a href="https://example.org/map">Map</a>'
    saved = await compose(client, text_en=text)
    assert saved.status_code == 303
    page = soup(await client.get(saved.headers["location"]))
    message = page.select_one('tr[data-language="en"] .campaign-message')
    assert message is not None
    assert message.select_one("b").get_text() == "open on Saturday"
    assert message.select_one("a")["href"] == "https://example.org/map"
    assert "3 < 4" in message.get_text()
    assert "<b>" not in message.get_text()


async def test_a_segment_of_under_five_people_shows_as_under_five_everywhere_on_the_campaign(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await people(sessionmaker, ru=3, fa=1)
    await sign_in_as("olga", role="outreach")
    location = (await compose(client)).headers["location"]
    campaign_id = uuid.UUID(location.rsplit("/", 1)[1])
    answer = await client.get(location)
    draft = soup(answer)
    assert draft.select_one(".campaign-recipients").get_text() == "People who would get it now: <5"
    # A masked total masks its whole breakdown: the languages cannot be added up either.
    assert {row.select_one("td").get_text() for row in draft.select(".campaign-preview tbody tr")} == {"<5"}
    assert "3" not in {td.get_text() for td in draft.select(".campaign-preview td")}
    # "Language not chosen" is there though nobody is in it: its presence would tell someone was.
    assert "" in {row["data-language"] for row in draft.select(".campaign-preview tbody tr")}

    token = form_token(answer)
    await client.post(f"/campaigns/{campaign_id}/schedule", data={"csrf_token": token, "version": "1"})
    assert await campaign_worker(sessionmaker, crypto).run_once() == 4
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.campaign_id == campaign_id).values(status=Status.SENT)
        )
    page = soup(await client.get(location))
    # While it runs, no share of a masked count: the bar runs without a value.
    assert page.select_one("#campaign-progress progress").get("value") is None
    await campaign_worker(sessionmaker, crypto).run_once()
    page = soup(await client.get(location))
    assert set((figures(page) | {"finish": "<5"}).values()) == {"<5"}
    assert {td.get_text() for td in page.select(".campaign-results td")} == {"<5"}
    # Done: the bar is full, whatever the count.
    assert page.select_one(".progress-percent").get_text() == "100%"


async def test_a_language_under_five_is_masked_and_the_rest_shown(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await people(sessionmaker, ru=6, fa=7, tr=2)
    await sign_in_as("olga", role="outreach")
    draft = soup(await client.get((await compose(client)).headers["location"]))
    counts = {
        row["data-language"]: row.select_one("td").get_text()
        for row in draft.select(".campaign-preview tbody tr")
    }
    assert (counts["ru"], counts["fa"], counts["tr"], counts["en"]) == ("6", "7", "<5", "<5")
    assert draft.select_one(".campaign-recipients").get_text() == "People who would get it now: 15"
