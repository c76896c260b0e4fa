"""The initial assessment tab as a view model, built from stored answers given by hand: no database,
no HTTP."""

from __future__ import annotations

import datetime as dt
import gettext
import zoneinfo
from typing import Any

from caseworker_console.viewmodels.assessment import build_assessment
from storage.models import FormResponse

BAKU = zoneinfo.ZoneInfo("Asia/Baku")
AT = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
SCREENING = (FormResponse(created_at=AT), {"directions": ["language", "health_social"]})


def build(latest: dict[str, Any], *, typed: dict[str, Any] | None = None, identity: bool = True) -> Any:
    return build_assessment(
        latest,
        case_source="bot",
        typed=typed,
        errors={"urgent_need": "This answer is needed."} if typed is not None else None,
        identity=identity,
        translate=gettext.NullTranslations(),
        locale="en",
        zone=BAKU,
    )


def fields_of(tab: Any) -> dict[str, Any]:
    return {field.id: field for _title, fields in tab.sections for field in fields}


def test_an_unsaved_assessment_is_prefilled_from_the_bot_and_says_where_each_value_came_from() -> None:
    tab = build({"screening": SCREENING})
    fields = fields_of(tab)
    wanted = fields["services_wanted"]
    assert {option.value for option in wanted.options if option.selected} == {"language", "health_social"}
    assert wanted.source == "From the bot's screening: check it with the person."
    assert fields["referred_by"].source == "From the case record."
    assert tab.saved_note is None and tab.answers == []


def test_a_saved_assessment_shows_its_answers_and_who_saved_them_and_prefills_only_the_gaps() -> None:
    saved = (FormResponse(created_at=AT), {"urgent_need": "Housing", "_caseworker_name": "Amina K."})
    tab = build({"initial_assessment": saved, "screening": SCREENING})
    fields = fields_of(tab)
    assert fields["urgent_need"].value == "Housing" and fields["urgent_need"].source is None
    assert fields["services_wanted"].source is not None
    assert tab.saved_note == ("Amina K.", "Dec 1, 2026, 12:00\u202fPM")
    assert [(answer.label, answer.text) for answer in tab.answers] == [("Urgent need", "Housing")]
    hidden = build({"initial_assessment": saved}, identity=False)
    assert [answer.text for answer in hidden.answers] == ["Hidden"]


def test_a_failed_post_comes_back_as_typed_with_its_errors_and_no_prefill() -> None:
    tab = build({"screening": SCREENING}, typed={"urgent_need": "", "strengths": "Speaks three languages"})
    fields = fields_of(tab)
    assert fields["strengths"].value == "Speaks three languages"
    assert fields["urgent_need"].error == "This answer is needed."
    assert all(field.source is None for field in fields.values())
