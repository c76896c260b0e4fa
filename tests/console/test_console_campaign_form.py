"""The campaign compose form, validated whole before anything is set: each bad field gets its own
note (and the rest of the draft stays as typed); a good draft becomes the campaign's settings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData

from caseworker_console.campaign_form import Draft, Settings, apply, validate
from outreach.campaigns import AppointmentFilter
from storage.models import StaffUser
from storage.models_outreach import Campaign
from tests.console.conftest import form_token

SignIn = Callable[..., Awaitable[StaffUser]]
BAKU = zoneinfo.ZoneInfo("Asia/Baku")
GOOD = Draft(
    name="Saturday opening",
    fallback_language="en",
    texts={"en": "The office is open on <b>Saturday</b>.", "ru": "Офис открыт в субботу."},
    button_kind="url",
    button_target="https://example.org/saturday",
    button_labels={"en": "Details"},
    languages=["ru", "en"],
    stages=["new", "none"],
    service_areas=["language"],
    active_within_days="30",
    cities="Baku\nSumqayıt",
    start_date="2026-12-12",
    start_time="10:30",
    spread_hours="1,5",
)


def errors_of(**changes: Any) -> dict[str, str]:
    result = validate(dataclasses.replace(GOOD, **changes), BAKU)
    assert isinstance(result, dict), "the draft was accepted"
    return result


def test_a_good_draft_becomes_settings_read_on_the_office_clock() -> None:
    settings = validate(GOOD, BAKU)
    assert isinstance(settings, Settings)
    assert settings.name == "Saturday opening" and settings.fallback_language == "en"
    assert settings.button == {"kind": "url", "target": GOOD.button_target, "labels": {"en": "Details"}}
    assert settings.starts_at == dt.datetime(2026, 12, 12, 6, 30, tzinfo=dt.UTC)
    assert (settings.quiet_from, settings.quiet_until) == (21 * 3600, 9 * 3600)
    assert settings.spread_seconds == 1.5 * 3600
    segment = settings.segment
    assert segment["languages"] == ["en", "ru"] and segment["stages"] == ["new", "none"]
    assert segment["active_within_days"] == 30 and segment["inactive_for_days"] is None
    assert segment["cities"] == ["Baku", "Sumqayıt"]
    campaign = Campaign()
    apply(settings, campaign)
    assert campaign.texts == GOOD.texts and campaign.segment == segment and campaign.name == settings.name


def test_empty_optional_fields_mean_no_button_no_start_and_no_quiet_hours() -> None:
    plain = dataclasses.replace(
        GOOD, button_kind="none", button_target="", start_date="", start_time="", quiet=False, cities=""
    )
    settings = validate(plain, BAKU)
    assert isinstance(settings, Settings)
    assert settings.button is None and settings.starts_at is None
    assert settings.quiet_from is None and settings.quiet_until is None


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"name": ""}, "name", "Give the campaign a name."),
        ({"name": "x" * 121}, "name", "The name is too long."),
        (
            {"fallback_language": "xx", "button_kind": "none"},
            "fallback_language",
            "Choose a language from the list.",
        ),
        (
            {"fallback_language": "", "button_kind": "none"},
            "fallback_language",
            "Choose a language from the list.",
        ),
        ({"texts": {"ru": "Привет"}}, "text_en", "Write the text in the fallback language"),
        ({"texts": {"en": "x" * 4097}}, "text_en", "too long for one Telegram message"),
        ({"texts": {"en": "1 < 2"}}, "text_en", "Telegram would refuse this text"),
        ({"button_kind": "phone"}, "button_kind", "Choose a kind of button from the list."),
        ({"button_target": "http://example.org"}, "button_target", "full https:// address"),
        ({"button_kind": "start", "button_target": "no spaces"}, "button_target", "code of up to 64"),
        ({"button_labels": {"ru": "Подробнее"}}, "label_en", "label in the fallback language"),
        ({"button_labels": {"en": "x" * 65}}, "button_labels", "label is too long"),
        ({"languages": ["en", "klingon"]}, "languages", "Choose an option from the list."),
        ({"stages": ["limbo"]}, "stages", "Choose an option from the list."),
        ({"service_areas": ["astrology"]}, "service_areas", "Choose an option from the list."),
        ({"active_within_days": "0"}, "active_within_days", "whole number of days"),
        ({"active_within_days": "3651"}, "active_within_days", "whole number of days"),
        ({"inactive_for_days": "two"}, "inactive_for_days", "whole number of days"),
        ({"appointment": "someday"}, "appointment", "Choose an option from the list."),
        ({"cities": "\n".join(f"city {n}" for n in range(21))}, "cities", "at most 20 cities"),
        ({"cities": "x" * 81}, "cities", "at most 80 characters"),
        ({"cities": "Baku\n---"}, "cities", "at least one letter or digit"),
        ({"start_date": "12/12/2026"}, "start", "as a date and a time"),
        ({"start_date": "2026-12-12", "start_time": "25:00"}, "start", "as a date and a time"),
        ({"quiet_from": "21:00", "quiet_until": "21:00"}, "quiet", "two different times"),
        ({"quiet_until": "soon"}, "quiet", "two different times"),
        ({"spread_hours": "73"}, "spread_hours", "from 0 to 72"),
        ({"spread_hours": "-1"}, "spread_hours", "from 0 to 72"),
        ({"spread_hours": "nan"}, "spread_hours", "from 0 to 72"),
        ({"spread_hours": "many"}, "spread_hours", "from 0 to 72"),
    ],
)
def test_each_bad_field_is_named_with_what_to_do(changes: dict[str, Any], field: str, says: str) -> None:
    errors = errors_of(**changes)
    assert list(errors) == [field]
    assert says in errors[field]


def test_every_bad_field_is_reported_at_once_and_nothing_is_set() -> None:
    errors = errors_of(name="", spread_hours="99", appointment="?", cities="!!")
    assert set(errors) == {"name", "spread_hours", "appointment", "cities"}


def test_a_posted_form_is_read_as_typed() -> None:
    form = FormData(
        [
            ("name", "  Saturday  "),
            ("text_en", "line one\r\nline two"),
            ("languages", "ru"),
            ("languages", "az"),
            ("quiet", "on"),
            ("quiet_from", "22:00"),
            ("quiet_until", "08:00"),
        ]
    )
    draft = Draft.read(form)
    assert draft.name == "Saturday" and draft.texts["en"] == "line one\nline two"
    assert draft.languages == ["ru", "az"] and draft.quiet and draft.quiet_from == "22:00"
    assert draft.button_kind == "none" and draft.appointment == AppointmentFilter.ANY
    assert draft.spread_hours == "0" and draft.fallback_language == ""


async def test_a_forged_choice_is_refused_beside_its_field_with_the_draft_kept(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in_as("olga", role="outreach")
    token = form_token(await client.get("/campaigns/new"))
    form = {
        "csrf_token": token,
        "name": "Saturday opening",
        "fallback_language": "en",
        "text_en": "The office is open on Saturday.",
        "appointment": "any",
        "spread_hours": "0",
        "stages": ["new", "limbo"],
        "languages": ["ru"],
    }
    refused = await client.post("/campaigns/new", data=form)
    assert refused.status_code == 400
    page = BeautifulSoup(refused.text, "lxml")
    note = page.select_one("#stages-error")
    assert note is not None and note.get_text() == "Choose an option from the list."
    assert page.select_one("#segment-stage-new").has_attr("checked")
    assert page.select_one("#segment-language-ru").has_attr("checked")
    assert page.select_one("#campaign-name")["value"] == "Saturday opening"
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Campaign))).scalar_one() == 0
