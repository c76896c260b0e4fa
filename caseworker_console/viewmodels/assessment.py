"""The initial assessment tab (Annex 1) as it is shown: its sections' fields, prefilled from the
bot's answers (each prefilled value says where it came from) until it is first saved, and the
answers last saved with who saved them and when."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gettext
import zoneinfo
from collections.abc import Mapping
from typing import Any

from caseworker_console import formview, i18n
from programme.assessment import (
    INITIAL_ASSESSMENT,
    INITIAL_ASSESSMENT_PREFILL,
    INITIAL_ASSESSMENT_SECTIONS,
    prefill_answers,
)
from programme.text import N_

# Where a prefilled value came from, as the caseworker reads it.
SOURCE_NOTES: dict[str, str] = {
    "screening": N_("From the bot's screening: check it with the person."),
    "screening_confirmation": N_("From the confirmed screening."),
    "case": N_("From the case record."),
}
UNKNOWN_SOURCE = N_("From an earlier form.")
# The forms the assessment is prefilled from (besides the case itself).
SOURCE_FORMS = tuple({rule.form_id for rule in INITIAL_ASSESSMENT_PREFILL} - {"case"})


@dataclasses.dataclass(frozen=True)
class AssessmentTab:
    sections: list[tuple[str, list[formview.FieldView]]]
    saved_note: tuple[str, str] | None  # who saved it last, and when
    answers: list[formview.AnswerView]  # as last saved


def build_assessment(
    latest: Mapping[str, tuple[Any, dict[str, Any]]],
    *,
    case_source: str,
    typed: dict[str, Any] | None,
    errors: Mapping[str, str] | None,
    identity: bool,
    translate: gettext.NullTranslations,
    locale: str,
    zone: zoneinfo.ZoneInfo,
) -> AssessmentTab:
    """`latest` holds each form's last stored (row, answers); `typed` what a failed post sent."""
    saved = latest.get(INITIAL_ASSESSMENT.id)
    values, sources = (typed, {}) if typed is not None else _prefilled(latest, saved, case_source, translate)
    sections = [
        (
            translate.gettext(section.title),
            formview.fields(
                INITIAL_ASSESSMENT,
                translate,
                values=values,
                errors=errors,
                sources=sources,
                only=section.question_ids,
            ),
        )
        for section in INITIAL_ASSESSMENT_SECTIONS
    ]
    if saved is None:
        return AssessmentTab(sections=sections, saved_note=None, answers=[])
    at: dt.datetime = saved[0].created_at
    return AssessmentTab(
        sections=sections,
        saved_note=(
            str(saved[1].get("_caseworker_name", "")),
            i18n.format_local_datetime(at, locale=locale, timezone=zone),
        ),
        answers=formview.answers(INITIAL_ASSESSMENT, saved[1], translate, identity=identity),
    )


def _prefilled(
    latest: Mapping[str, tuple[Any, dict[str, Any]]],
    saved: tuple[Any, dict[str, Any]] | None,
    case_source: str,
    translate: gettext.NullTranslations,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The answers as saved, and for those not yet given what earlier forms say, with its source."""
    values = dict(saved[1]) if saved else {}
    sources: dict[str, str] = {}
    earlier = {form_id: answers for form_id, (_, answers) in latest.items()}
    earlier["case"] = {"source": case_source}
    for question_id, (value, form_id) in prefill_answers(earlier).items():
        if question_id not in values:
            values[question_id] = value
            sources[question_id] = translate.gettext(SOURCE_NOTES.get(form_id, UNKNOWN_SOURCE))
    return values, sources
