"""The organisation page (administrators) and the ready replies (supervisors): values checked with a
message by their field and everything typed shown back, hostile input kept as text, every save
audited; the consent text the console records and prints names what was saved."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from caseworker_console.routes.consent import consent_text
from programme import consent
from programme.organisation import LANGUAGES, Organisation
from programme.retention import DEFAULT_RETENTION
from storage.migrate import upgrade
from storage.models import AuditEntry, Case, StaffUser
from storage.models_journey import Consent
from storage.models_organisation import OrganisationSettings, ReadyReply
from storage.organisation import organisation_is_set_up, stored_organisation
from tests.console.conftest import form_token
from tests.console.test_console_appointments import all_rows, soup
from tests.console.test_console_consent import PAGE as CONSENT_PAGE
from tests.console.test_console_consent import post as paper_post

SignIn = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]
PERSIAN_NAME = "انجمن یاری پل"
HOSTILE = '<script>alert("x")</script> Bridge & Aid'
# What the environment gives the test console: no name, no contact.
NOTHING_SET = Organisation()


@pytest.fixture(autouse=True)
async def no_replies(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The shipped replies are there only when a test runs first on its database: start without."""
    async with sessionmaker() as session, session.begin():
        await session.execute(delete(ReadyReply))


def organisation_form(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "controller": "Bridge Aid Association",
        "contact": "privacy@bridge-aid.example",
        "controller_fa": PERSIAN_NAME,
        **{f"hours_{day}": "09:00-13:00, 14:00-18:00" for day in range(5)},
    }
    values.update(changes)
    return values


async def post(client: httpx.AsyncClient, page: str, action: str, data: dict[str, Any]) -> httpx.Response:
    token = form_token(await client.get(page))
    return await client.post(action, data={"csrf_token": token, **data})


async def test_an_administrator_sets_the_organisation_and_each_role_sees_what_it_may(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("admin1", role="admin")
    page = soup(await client.get("/organisation"))
    # A first start: the environment's values (none here) and the default hours, said so.
    assert page.select_one("#organisation-first-start") is not None
    assert page.select_one("#org-hours_0")["value"] == "09:00-18:00"
    assert page.select_one("#org-hours_5")["value"] == ""
    first_version = Organisation().consent_version(DEFAULT_RETENTION, defaults=NOTHING_SET)
    assert first_version == consent.TEXT_VERSION  # nothing the text names differs from the defaults
    assert first_version in page.select_one("#consent-version").get_text()
    answer = await post(client, "/organisation", "/organisation", organisation_form())
    assert answer.status_code == 303, answer.text[:2000]
    async with sessionmaker() as session:
        saved = await stored_organisation(session)
        assert await organisation_is_set_up(session)
    assert saved is not None
    assert (saved.controller_in("fa"), saved.controller_in("ps")) == (PERSIAN_NAME, "Bridge Aid Association")
    assert saved.stored_hours()["0"] == [["09:00", "13:00"], ["14:00", "18:00"]] and 5 not in saved.hours
    [entry] = [e for e in await all_rows(sessionmaker, AuditEntry) if e.action == "organisation.changed"]
    assert entry.details == {
        "changed": ["controller", "contact", "hours"],
        "consent_version": saved.consent_version(DEFAULT_RETENTION, defaults=NOTHING_SET),
    }
    page = soup(await client.get("/organisation"))
    assert page.select_one("#organisation-first-start") is None
    assert page.select_one("#org-controller_fa")["value"] == PERSIAN_NAME
    assert (
        saved.consent_version(DEFAULT_RETENTION, defaults=NOTHING_SET)
        in page.select_one("#consent-version").get_text()
    )
    assert saved.consent_version(DEFAULT_RETENTION, defaults=NOTHING_SET) != first_version
    # Only the hours changed: audited as such, the consent text version stays.
    await post(client, "/organisation", "/organisation", organisation_form(hours_5="10:00-14:00"))
    last = [e for e in await all_rows(sessionmaker, AuditEntry) if e.action == "organisation.changed"][-1]
    assert last.details == {
        "changed": ["hours"],
        "consent_version": saved.consent_version(DEFAULT_RETENTION, defaults=NOTHING_SET),
    }
    await sign_in_as("sup1", role="supervisor")
    assert (await client.get("/organisation")).status_code == 403
    await sign_in_as("cw1", role="caseworker")
    assert (await client.get("/organisation")).status_code == 403


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"controller": "  "}, "controller"),
        ({"controller": "x" * 201}, "controller"),
        ({"controller_ru": "x" * 201}, "controller_ru"),
        ({"contact_ur": "y" * 201}, "contact_ur"),
        ({"hours_0": "18:00-09:00"}, "hours_0"),
        ({"hours_2": "09:00-13:00, 12:00-18:00"}, "hours_2"),
        ({"hours_3": "nine to five"}, "hours_3"),
        ({"hours_4": "9" * 300}, "hours_4"),
        ({f"hours_{day}": "" for day in range(7)}, "hours_0"),
    ],
)
async def test_a_wrong_organisation_value_is_answered_by_its_field_and_nothing_is_saved(
    changes: dict[str, str],
    field: str,
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await sign_in_as("admin1", role="admin")
    answer = await post(client, "/organisation", "/organisation", organisation_form(**changes))
    assert answer.status_code == 400
    page = soup(answer)
    assert page.select_one("#organisation-error") is not None
    assert page.select_one(f"#err-{field}") is not None, field
    assert page.select_one(f"#org-{field}")["aria-invalid"] == "true"
    # What was typed elsewhere is shown back.
    assert page.select_one("#org-controller_fa")["value"] == PERSIAN_NAME
    assert await all_rows(sessionmaker, OrganisationSettings) == []


async def test_hostile_and_invisible_input_is_kept_as_text(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("admin1", role="admin")
    # A right-to-left override hidden in the Persian name would turn the consent text around.
    form = organisation_form(controller=HOSTILE, controller_fa="\u202e" + PERSIAN_NAME + "\u200b")
    assert (await post(client, "/organisation", "/organisation", form)).status_code == 303
    async with sessionmaker() as session:
        saved = await stored_organisation(session)
    assert saved is not None and saved.controller == HOSTILE and saved.controller_in("fa") == PERSIAN_NAME
    page = await client.get("/organisation")
    assert "<script>alert" not in page.text
    assert soup(page).select_one("#org-controller")["value"] == HOSTILE
    # The bot's text escapes it for Telegram's HTML.
    text = consent_text("en", HOSTILE)
    assert "&lt;script&gt;" in text and "<script>" not in text


async def test_a_paper_consent_is_recorded_under_the_saved_name_and_version(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await sign_in_as("admin1", role="admin")
    await post(client, "/organisation", "/organisation", organisation_form())
    me = await sign_in_as("sup1", role="supervisor")
    await seed_person(assigned_to=me.id, stage="screening", language="fa")
    choices = {"language": "fa", "casework": "yes", "publicity": "none", "third_party": "no"}
    saved = await paper_post(client, CONSENT_PAGE, choices, page=CONSENT_PAGE)
    assert saved.status_code == 303, saved.text[:1000]
    [paper] = await all_rows(sessionmaker, Consent)
    async with sessionmaker() as session:
        organisation = await stored_organisation(session)
    assert organisation is not None
    assert paper.text_version == organisation.consent_version(DEFAULT_RETENTION, defaults=NOTHING_SET)
    expected = consent_text("fa", PERSIAN_NAME, "privacy@bridge-aid.example")
    assert paper.text_hash == consent.text_hash(expected)


# ── ready replies ───────────────────────────────────────────────────────────────────────────────


def reply_form(**changes: str) -> dict[str, str]:
    values = {
        "label_en": "We will call you",
        "text_en": "A caseworker will call you.",
        "text_fa": "یک مددکار اجتماعی به شما تلیفون می‌کند.",
        "active": "1",
    }
    values.update(changes)
    return values


async def replies(sessionmaker: async_sessionmaker[AsyncSession]) -> list[ReadyReply]:
    async with sessionmaker() as session:
        return list((await session.execute(select(ReadyReply).order_by(ReadyReply.id))).scalars())


async def test_a_supervisor_adds_changes_and_retires_a_ready_reply_and_the_page_marks_what_it_lacks(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("sup1", role="supervisor", language="ru")
    added = await post(client, "/ready-replies/edit", "/ready-replies/save", reply_form(text_ps=HOSTILE))
    assert added.status_code == 303, added.text[:2000]
    [reply] = await replies(sessionmaker)
    assert reply.labels == {"en": "We will call you"} and reply.active
    assert set(reply.texts) == {"en", "fa", "ps"} and reply.texts["ps"] == HOSTILE
    page = await client.get("/ready-replies")
    assert "<script>alert" not in page.text
    section = soup(page).select_one(f"section[data-reply='{reply.id}']")
    # The label in the console's language falls back to the first given.
    assert section.select_one("h2").get_text().strip() == "We will call you"
    lacking = section.select_one(".reply-lacking").get_text()
    assert all(name in lacking for name in ("Azərbaycanca", "Русский", "اردو", "Türkçe"))
    assert "فارسی" not in lacking and "English" not in lacking
    persian = section.select_one(".reply-text[lang=fa]")
    assert persian["dir"] == "auto" and persian.get_text() == "یک مددکار اجتماعی به شما تلیفون می‌کند."
    changed = await post(
        client,
        f"/ready-replies/edit?reply={reply.id}",
        "/ready-replies/save",
        {
            "reply": str(reply.id),
            "label_ru": "Мы позвоним",
            **{f"text_{code}": f"text {code}" for code in LANGUAGES},
        },
    )
    assert changed.status_code == 303
    [reply] = await replies(sessionmaker)
    assert reply.labels == {"ru": "Мы позвоним"} and len(reply.texts) == 7 and not reply.active
    page = soup(await client.get("/ready-replies"))
    assert page.select_one(".reply-complete") is not None and page.select_one(".reply-lacking") is None
    actions = [e.action for e in await all_rows(sessionmaker, AuditEntry) if e.object_type == "ready_reply"]
    assert actions == ["ready_reply.added", "ready_reply.changed"]
    last = [e for e in await all_rows(sessionmaker, AuditEntry) if e.object_type == "ready_reply"][-1]
    assert last.details == {"languages": sorted(LANGUAGES), "active": False}
    assert "text en" not in json.dumps(last.details)  # never the texts


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"label_en": " "}, "label_en"),
        ({"label_ru": "x" * 121}, "label_ru"),
        ({"text_en": "", "text_fa": "\u200b\u200e"}, "text_az"),
        ({"text_tr": "y" * 1001}, "text_tr"),
    ],
)
async def test_a_wrong_ready_reply_is_answered_by_its_field_and_nothing_is_saved(
    changes: dict[str, str],
    field: str,
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await sign_in_as("sup1", role="supervisor")
    answer = await post(client, "/ready-replies/edit", "/ready-replies/save", reply_form(**changes))
    assert answer.status_code == 400
    page = soup(answer)
    assert page.select_one("#ready-reply-error") is not None
    assert page.select_one(f"#err-{field}") is not None, field
    assert await replies(sessionmaker) == []


async def test_an_unknown_ready_reply_is_refused_and_other_roles_may_not_keep_them(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("sup1", role="supervisor")
    assert (await client.get("/ready-replies/edit?reply=999")).status_code == 404
    assert (await client.get("/ready-replies/edit?reply=1%27%20OR%201=1")).status_code == 404
    refused = await post(client, "/ready-replies/edit", "/ready-replies/save", reply_form(reply="999"))
    assert refused.status_code == 400 and await replies(sessionmaker) == []
    for role in ("caseworker", "admin", "outreach"):
        await sign_in_as(f"{role}1", role=role)
        assert (await client.get("/ready-replies")).status_code == 403, role


async def test_the_replies_shipped_before_come_in_all_seven_languages(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            rows = (await connection.execute(select(ReadyReply.labels, ReadyReply.texts))).all()
    finally:
        await engine.dispose()
    assert len(rows) == 4
    for labels, texts in rows:
        assert set(labels) == {"en", "az", "ru"} and set(texts) == set(LANGUAGES)
        assert all(text.strip() for text in texts.values())
    by_english = {labels["en"]: texts for labels, texts in rows}
    assert by_english["We will call you"]["tr"].startswith("Bir sosyal çalışmacı")
    # Right-to-left texts in their own scripts, not Latin ones.
    for code in ("fa", "ps", "ur"):
        assert all(any("\u0600" <= char <= "\u06ff" for char in texts[code]) for texts in by_english.values())
