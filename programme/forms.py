"""Forms as data: one definition feeds the bot dialog, the console form, validation and storage."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from programme.text import N_


class Kind(enum.StrEnum):
    YES_NO = "yes_no"
    CHOICE = "choice"
    MULTI = "multi"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str  # msgid


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    kind: Kind
    prompt: str  # msgid
    options: tuple[Option, ...] = ()
    required: bool = True
    max_length: int = 500
    # Who asks it: the bot and the console, or only a caseworker in person (Annex 2 Q4).
    asked_in_bot: bool = True

    def option_values(self) -> frozenset[str]:
        if self.kind is Kind.YES_NO:
            return frozenset({"yes", "no"})
        return frozenset(option.value for option in self.options)


@dataclass(frozen=True, slots=True)
class Form:
    id: str
    version: int
    title: str  # msgid
    questions: tuple[Question, ...]
    _index: Mapping[str, Question] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {question.id: question for question in self.questions})

    def question(self, question_id: str) -> Question:
        return self._index[question_id]

    def bot_questions(self) -> tuple[Question, ...]:
        return tuple(question for question in self.questions if question.asked_in_bot)


class InvalidAnswer(ValueError):
    """An answer that does not fit its question; the bot re-asks, the console shows a field error."""


def clean_answer(question: Question, value: Any) -> Any:
    """Validate one answer against its question and return it in canonical form."""
    allowed = question.option_values()
    if question.kind in (Kind.YES_NO, Kind.CHOICE):
        if value not in allowed:
            raise InvalidAnswer(f"{question.id}: not one of the options")
        return value
    if question.kind is Kind.MULTI:
        values = list(dict.fromkeys(value)) if isinstance(value, list | tuple) else None
        if values is None or not set(values) <= allowed:
            raise InvalidAnswer(f"{question.id}: not a subset of the options")
        if question.required and not values:
            raise InvalidAnswer(f"{question.id}: choose at least one")
        # Keep the form's order so that stored answers compare equal however they were picked.
        return [option.value for option in question.options if option.value in values]
    text = " ".join(str(value).split())
    if question.required and not text:
        raise InvalidAnswer(f"{question.id}: empty")
    if len(text) > question.max_length:
        raise InvalidAnswer(f"{question.id}: longer than {question.max_length} characters")
    return text


# The five service areas, one list used everywhere (PROGRAMME.md).
SERVICE_AREAS: tuple[Option, ...] = (
    Option("orientation", N_("Planning services and arranging meetings")),
    Option("health_social", N_("Health and social services")),
    Option("employment_education", N_("Work and education")),
    Option("social_cultural", N_("Culture and making social connections")),
    Option("language", N_("Learning the Azerbaijani language")),
)

SCREENING = Form(
    id="screening",
    version=1,
    title=N_("Screening"),
    questions=(
        Question(
            "resides_for_reason",
            Kind.YES_NO,
            N_("Do you live in Azerbaijan for work, study, family or asylum?"),
        ),
        Question(
            "has_permit",
            Kind.YES_NO,
            N_("Do you have a permit to stay, or the right to get one?"),
        ),
        Question(
            "directions",
            Kind.MULTI,
            N_("What do you need help with? Choose one or more, then tap Done."),
            options=SERVICE_AREAS,
        ),
        Question(
            "impairment",
            Kind.YES_NO,
            N_(
                "Does the applicant have a cognitive, behavioural or mental impairment that would prevent "
                "consenting to, benefiting from or safely taking part in the programme?"
            ),
            asked_in_bot=False,
        ),
    ),
)

FORMS: Mapping[str, Form] = {form.id: form for form in (SCREENING,)}
