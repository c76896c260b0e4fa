"""Forms as data: one definition feeds the bot dialog, the console form, validation and storage."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from programme.text import N_
from texts.visible import clean_line


class Kind(enum.StrEnum):
    YES_NO = "yes_no"
    CHOICE = "choice"
    MULTI = "multi"
    TEXT = "text"
    NUMBER = "number"
    PHONE = "phone"


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
    # A short name for summaries and tables (msgid); the prompt when not given.
    label: str = ""
    minimum: int = 0
    maximum: int = 30

    @property
    def short_label(self) -> str:
        return self.label or self.prompt

    @property
    def identifying(self) -> bool:
        """Written words and phone numbers can name or reach a person; a choice or a number does not.
        Pages of a case the reader is not on show only the answers that do not identify."""
        return self.kind in (Kind.TEXT, Kind.PHONE)

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
    if question.kind is Kind.NUMBER:
        return _clean_number(question, value)
    if question.kind is Kind.PHONE:
        return normalise_phone(str(value))
    text = clean_line(str(value))
    if question.required and not text:
        raise InvalidAnswer(f"{question.id}: empty")
    if len(text) > question.max_length:
        raise InvalidAnswer(f"{question.id}: longer than {question.max_length} characters")
    return text


def _clean_number(question: Question, value: Any) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidAnswer(f"{question.id}: not a whole number") from None
    if not question.minimum <= number <= question.maximum:
        raise InvalidAnswer(f"{question.id}: out of range")
    return number


def normalise_phone(text: str, region: str = "AZ") -> str:
    """A phone number in E.164 (+994501234567); local numbers are read as the office's country's."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidAnswer("phone: not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidAnswer("phone: not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# The five service areas, one list used everywhere (docs/programme.md).
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

STATUS_CATEGORIES: tuple[Option, ...] = (
    Option("labour_migrant", N_("Worker")),
    Option("student", N_("Student")),
    Option("family_member", N_("Family member")),
    Option("refugee", N_("Refugee")),
    Option("asylum_seeker", N_("Asylum seeker")),
    Option("stateless", N_("Stateless")),
    Option("other", N_("Other")),
)

HEARD_FROM: tuple[Option, ...] = (
    Option("friends", N_("Friends or family")),
    Option("flyer", N_("A flyer or poster")),
    Option("social_media", N_("Social media")),
    Option("organisation", N_("An organisation or office")),
    Option("phone_call", N_("A call from a caseworker")),
    Option("other", N_("Other")),
)

URGENT_NEEDS: tuple[Option, ...] = (
    Option("housing", N_("Housing")),
    Option("health", N_("Health")),
    Option("documents", N_("Documents")),
    Option("work", N_("Work")),
    Option("language", N_("Language")),
    Option("school", N_("School")),
    Option("money", N_("Money")),
    Option("safety", N_("Safety")),
    Option("other", N_("Other")),
)

CONTACT_TIMES: tuple[Option, ...] = (
    Option("weekday_morning", N_("Weekday mornings")),
    Option("weekday_afternoon", N_("Weekday afternoons")),
    Option("evening", N_("Evenings")),
    Option("weekend", N_("Weekends")),
)

SAFE_CONTACT: tuple[Option, ...] = (
    Option("call_and_write", N_("Yes, calls and messages")),
    Option("write_only", N_("Messages only")),
    Option("call_only", N_("Calls only")),
    Option("neither", N_("No, wait for me to write")),
)

# Annex 5, the telephone interview: asked by the bot as self-service, and by a caseworker on a
# phone call in the console. Every question may be skipped. The preferred name is asked when
# the dialog starts, so the bot does not ask it twice.
INTERVIEW = Form(
    id="interview",
    version=1,
    title=N_("Telephone interview"),
    questions=(
        Question(
            "preferred_name",
            Kind.TEXT,
            N_("What name should we use for you?"),
            required=False,
            max_length=100,
            asked_in_bot=False,
            label=N_("Name"),
        ),
        Question(
            "phone",
            Kind.PHONE,
            N_("What is your phone number? Tap the button below to share it, or type it."),
            required=False,
            label=N_("Phone"),
        ),
        Question(
            "interpreter",
            Kind.YES_NO,
            N_("Do you need an interpreter at meetings?"),
            required=False,
            label=N_("Interpreter"),
        ),
        Question(
            "city",
            Kind.TEXT,
            N_("In which city or district do you live?"),
            required=False,
            max_length=80,
            label=N_("City or district"),
        ),
        Question(
            "country",
            Kind.TEXT,
            N_("Which country are you from?"),
            required=False,
            max_length=60,
            label=N_("Country of origin"),
        ),
        Question(
            "status",
            Kind.CHOICE,
            N_("Which of these describes you best?"),
            options=STATUS_CATEGORIES,
            required=False,
            label=N_("Status"),
        ),
        Question(
            "adults",
            Kind.NUMBER,
            N_("How many adults live with you, counting yourself? Write a number."),
            required=False,
            minimum=0,
            maximum=30,
            label=N_("Adults in the household"),
        ),
        Question(
            "children",
            Kind.NUMBER,
            N_("How many children live with you? Write a number."),
            required=False,
            minimum=0,
            maximum=30,
            label=N_("Children in the household"),
        ),
        Question(
            "unaccompanied_child",
            Kind.YES_NO,
            N_("Is any child here with you without a parent or legal guardian?"),
            required=False,
            label=N_("Child without a parent or guardian"),
        ),
        Question(
            "heard_from",
            Kind.CHOICE,
            N_("How did you hear about the programme?"),
            options=HEARD_FROM,
            required=False,
            label=N_("Heard about us from"),
        ),
        Question(
            "urgent_need",
            Kind.CHOICE,
            N_("What do you need most right now?"),
            options=URGENT_NEEDS,
            required=False,
            label=N_("Most urgent need"),
        ),
        Question(
            "contact_times",
            Kind.MULTI,
            N_("When is it best to contact you? Choose any, then tap Done."),
            options=CONTACT_TIMES,
            required=False,
            label=N_("Best times to contact"),
        ),
        Question(
            "safe_contact",
            Kind.CHOICE,
            N_("Is it safe for us to call you or write to you?"),
            options=SAFE_CONTACT,
            required=False,
            label=N_("Safe to contact"),
        ),
    ),
)

FORMS: Mapping[str, Form] = {form.id: form for form in (SCREENING, INTERVIEW)}
