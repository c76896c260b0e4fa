"""Caseworker forms as data: Annex 2 confirmation, Annex 1 initial assessment, Annex 3, closing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from programme.consent import PUBLICITY_LEVELS
from programme.cycle import TERMINATION_LABELS
from programme.eligibility import EligibilityRule, is_eligible
from programme.forms import (
    INTERVIEW,
    SCREENING,
    SERVICE_AREAS,
    Form,
    InvalidAnswer,
    Kind,
    Option,
    Question,
    clean_answer,
)
from programme.text import N_

# Long free-text answers (assessment notes) get a bigger box and limit than the bot's short ones.
LONG_TEXT = 4000

# --- Annex 2: the caseworker's confirmation of screening -------------------------------------------

VENUES: tuple[Option, ...] = (
    Option("office", N_("At the office")),
    Option("phone", N_("By phone")),
    Option("visit", N_("On a visit or at an outreach event")),
    Option("telegram", N_("Telegram")),
    Option("other", N_("Somewhere else")),
)

# Q1–Q3 are the bot's own questions (one definition: a change to them changes both); Q4 is asked
# only here, in person. The decision and its reason close the form as on paper; date, time and the
# caseworker's name are added by the console, not typed.
SCREENING_CONFIRMATION = Form(
    id="screening_confirmation",
    version=1,
    title=N_("Screening confirmation (Annex 2)"),
    questions=(
        *SCREENING.questions,
        Question(
            "eligible",
            Kind.YES_NO,
            N_("Your decision: is the applicant eligible for the programme?"),
        ),
        Question(
            "decision_reason",
            Kind.TEXT,
            N_("Reason for your decision (needed when it differs from the screening result)"),
            required=False,
            max_length=1000,
        ),
        Question("venue", Kind.CHOICE, N_("Where did the screening take place?"), options=VENUES),
    ),
)


def screening_result(answers: Mapping[str, Any], rule: EligibilityRule | None = None) -> bool:
    """The Annex 2 rule applied to the caseworker's answers (Q4 included)."""
    return is_eligible(answers, rule) if rule is not None else is_eligible(answers)


def decision_needs_reason(
    answers: Mapping[str, Any], *, provisional: bool | None, rule: EligibilityRule | None = None
) -> bool:
    """An override needs a reason: a decision unlike the bot's provisional result or the rule's."""
    decision = answers.get("eligible") == "yes"
    if provisional is not None and decision != provisional:
        return True
    return decision != screening_result(answers, rule)


# --- Annex 1: initial assessment ---------------------------------------------------------------------

GENDERS: tuple[Option, ...] = (
    Option("woman", N_("Woman")),
    Option("man", N_("Man")),
    Option("another", N_("Another gender")),
    Option("not_said", N_("Prefers not to say")),
)

REFERRED_BY: tuple[Option, ...] = (
    Option("bot", N_("Self, through the bot")),
    Option("outreach", N_("Outreach channel")),
    Option("phone", N_("Phone call")),
    Option("sms", N_("SMS")),
    Option("mia", N_("Ministry of Internal Affairs")),
    Option("mlsp", N_("Ministry of Labour and Social Protection")),
    Option("refugee_committee", N_("Committee for Refugees and IDPs")),
    Option("unhcr", N_("UNHCR")),
    Option("iom", N_("IOM")),
    Option("ngo", N_("NGO")),
    Option("other", N_("Other")),
)

CURRENT_STATUS: tuple[Option, ...] = (
    Option("temporary_residence", N_("Temporary residence permit")),
    Option("permanent_residence", N_("Permanent residence permit")),
    Option("refugee", N_("Refugee")),
    Option("asylum_seeker", N_("Asylum seeker (pending)")),
    Option("stateless", N_("Stateless")),
    Option("work_permit", N_("Work permit")),
    Option("student", N_("Student")),
    Option("family_member", N_("Family member")),
    Option("other", N_("Other")),
)


def _note(question_id: str, prompt: str) -> Question:
    # Every Annex 1 answer may be left for later: the form is filled over one or more meetings.
    return Question(question_id, Kind.TEXT, prompt, required=False, max_length=LONG_TEXT)


INITIAL_ASSESSMENT = Form(
    id="initial_assessment",
    version=1,
    title=N_("Initial assessment (Annex 1)"),
    questions=(
        Question("date_of_birth", Kind.TEXT, N_("Date of birth"), required=False, max_length=40),
        Question("gender", Kind.CHOICE, N_("Gender"), options=GENDERS, required=False),
        Question("referred_by", Kind.CHOICE, N_("Referred by"), options=REFERRED_BY, required=False),
        Question("current_status", Kind.CHOICE, N_("Current status"), options=CURRENT_STATUS, required=False),
        _note("emotional_state", N_("Emotional state")),
        _note("urgent_need", N_("Urgent need")),
        _note("short_term_need", N_("Short-term need")),
        _note("long_term_need", N_("Long-term need")),
        Question("services_wanted", Kind.MULTI, N_("Services wanted"), options=SERVICE_AREAS, required=False),
        _note("strengths", N_("Strengths")),
        _note("resources", N_("Resources identified for help")),
        _note("family_status", N_("Family status")),
        _note("social_environment", N_("Social environment and leisure")),
        _note("education", N_("Education")),
        _note("employment_status", N_("Employment status")),
        _note("skills", N_("Skills")),
        _note("summary", N_("Summary")),
        _note("goals_short_term", N_("Short-term goals and objectives")),
        _note("goals_long_term", N_("Long-term goals and objectives")),
        _note("next_steps", N_("Next steps")),
        _note("recommendations", N_("Caseworker's recommendations")),
    ),
)


@dataclass(frozen=True, slots=True)
class Section:
    title: str  # msgid
    question_ids: tuple[str, ...]


INITIAL_ASSESSMENT_SECTIONS: tuple[Section, ...] = (
    Section(
        N_("Basic information"),
        (
            "date_of_birth",
            "gender",
            "referred_by",
            "current_status",
            "emotional_state",
            "urgent_need",
            "short_term_need",
            "long_term_need",
            "services_wanted",
        ),
    ),
    Section(
        N_("Detailed information"),
        (
            "strengths",
            "resources",
            "family_status",
            "social_environment",
            "education",
            "employment_status",
            "skills",
        ),
    ),
    Section(
        N_("Conclusions"),
        ("summary", "goals_short_term", "goals_long_term", "next_steps", "recommendations"),
    ),
)


@dataclass(frozen=True, slots=True)
class Prefill:
    """Where an Annex 1 answer can come from when the bot already gathered it."""

    question_id: str
    form_id: str
    answer_id: str
    # Translates the bot's value to an option of the Annex 1 question; None keeps it as it is.
    values: Mapping[str, str] | None = None


# Only answers the bot really asks; a mapping whose source is missing is simply skipped, so the
# telephone interview (Annex 5) can add rows here without the console changing.
INITIAL_ASSESSMENT_PREFILL: tuple[Prefill, ...] = (
    Prefill("services_wanted", "screening_confirmation", "directions"),
    Prefill("services_wanted", "screening", "directions"),
    # "case" is the case record itself: a case the bot opened was referred by the person themself.
    Prefill("referred_by", "case", "source", values={"bot": "bot"}),
)


def prefill_answers(
    responses: Mapping[str, Mapping[str, Any]],
) -> dict[str, tuple[Any, str]]:
    """Initial Annex 1 answers from earlier forms: question id → (value, form id it came from).

    `responses` holds the latest answers of each form by form id. The first source in
    INITIAL_ASSESSMENT_PREFILL that has a valid value wins.
    """
    found: dict[str, tuple[Any, str]] = {}
    for rule in INITIAL_ASSESSMENT_PREFILL:
        if rule.question_id in found or rule.form_id not in responses:
            continue
        value = responses[rule.form_id].get(rule.answer_id)
        if value is None:
            continue
        if rule.values is not None:
            value = rule.values.get(str(value))
            if value is None:
                continue
        try:
            found[rule.question_id] = (
                clean_answer(INITIAL_ASSESSMENT.question(rule.question_id), value),
                rule.form_id,
            )
        except InvalidAnswer:
            continue
    return found


# --- Annex 3: adverse event report ------------------------------------------------------------------

ADVERSE_EVENT_KINDS: tuple[Option, ...] = (
    Option("psychological_stress", N_("Extreme psychological stress")),
    Option("exploitation", N_("Suspected exploitation")),
    Option("suicidal", N_("Suicidal")),
    Option("murder_reported", N_("Reported murder")),
    Option("partner_violence", N_("Intimate partner violence")),
    Option("substances", N_("Under the effect of drugs or alcohol")),
    Option("physical_psychological_impact", N_("Under physical and psychological impact")),
    Option("other", N_("Other (describe below)")),
)

ADVERSE_EVENT = Form(
    id="adverse_event",
    version=1,
    title=N_("Adverse event report (Annex 3)"),
    questions=(
        Question("event_date", Kind.TEXT, N_("Date of the event"), max_length=40),
        Question("what_happened", Kind.MULTI, N_("What happened"), options=ADVERSE_EVENT_KINDS),
        Question("other_description", Kind.TEXT, N_("Description"), required=False, max_length=LONG_TEXT),
        Question("how_managed", Kind.TEXT, N_("How it was managed"), max_length=LONG_TEXT),
        Question("recommendations_given", Kind.YES_NO, N_("Were relevant recommendations given?")),
        Question("referred_to", Kind.TEXT, N_("Referred to"), required=False, max_length=500),
        Question("follow_up_call", Kind.YES_NO, N_("Was a follow-up call made?")),
    ),
)


def clean_adverse_event(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Annex 3 answers; "other" needs its description (the paper form asks it be described)."""
    answers, errors = clean_form(ADVERSE_EVENT, raw)
    if "other" in answers.get("what_happened", []) and not answers.get("other_description"):
        errors["other_description"] = MISSING
    return answers, errors


# --- Closing a case ----------------------------------------------------------------------------------

TERMINATION_REASONS: tuple[Option, ...] = tuple(
    Option(reason.value, label) for reason, label in TERMINATION_LABELS.items()
)

CLOSING = Form(
    id="closing",
    version=1,
    title=N_("Closing the case"),
    questions=(
        Question("reason", Kind.CHOICE, N_("Termination reason"), options=TERMINATION_REASONS),
        Question("details", Kind.TEXT, N_("Details"), required=False, max_length=LONG_TEXT),
    ),
)

# --- Annex 4 signed on paper: what the caseworker records from the signed sheet -----------------------

# The bot's languages, each named in its own script (the same list as wording.languages.LANGUAGES, which a
# test keeps equal): the consent text is signed in the language the person knows best.
CONSENT_LANGUAGES: tuple[Option, ...] = (
    Option("az", "Azərbaycanca"),
    Option("ru", "Русский"),
    Option("en", "English"),
    Option("fa", "فارسی / دری"),
    Option("ps", "پښتو"),
    Option("ur", "اردو"),
    Option("tr", "Türkçe"),
)

PAPER_CONSENT = Form(
    id="paper_consent",
    version=1,
    title=N_("Consent signed on paper (Annex 4)"),
    questions=(
        Question("language", Kind.CHOICE, N_("Language of the signed text"), options=CONSENT_LANGUAGES),
        Question(
            "casework",
            Kind.YES_NO,
            N_("May their data be shared for case work and referrals to state bodies and partners?"),
        ),
        Question(
            "publicity", Kind.CHOICE, N_("May their story be used for publicity?"), options=PUBLICITY_LEVELS
        ),
        Question("third_party", Kind.YES_NO, N_("May a third party be present at sessions?")),
    ),
)

# --- Annex 5 on a phone call: the bot's interview questions, then how the call went ---------------------

CALL_OUTCOMES: tuple[Option, ...] = (
    Option("interested", N_("Interested")),
    Option("not_interested", N_("Not interested")),
    Option("call_back", N_("Call back later")),
    Option("unreachable", N_("Unreachable")),
    Option("referred", N_("Referred elsewhere")),
)

# Same id and version as the bot's interview, so the newest answers (bot or call) prefill the next.
TELEPHONE_INTERVIEW = Form(
    id=INTERVIEW.id,
    version=INTERVIEW.version,
    title=N_("Telephone interview (Annex 5)"),
    questions=(
        *INTERVIEW.questions,
        Question("call_outcome", Kind.CHOICE, N_("Outcome of the call"), options=CALL_OUTCOMES),
        Question("call_notes", Kind.TEXT, N_("Notes on the call"), required=False, max_length=LONG_TEXT),
    ),
)

CASEWORKER_FORMS: Mapping[str, Form] = {
    form.id: form
    for form in (SCREENING_CONFIRMATION, INITIAL_ASSESSMENT, ADVERSE_EVENT, CLOSING, PAPER_CONSENT)
}

# --- Validation shared by every caseworker form --------------------------------------------------------

MISSING = N_("This answer is needed.")
NOT_AN_OPTION = N_("Choose one of the options.")
TOO_LONG = N_("This answer is too long.")
NOT_A_NUMBER = N_("Write a whole number within the allowed range.")
NOT_A_PHONE = N_("Write a phone number, with the country code if it is not a local number.")


def _error_for(question: Question, value: Any) -> str:
    if question.kind is Kind.TEXT:
        return TOO_LONG if len(" ".join(str(value).split())) > question.max_length else MISSING
    if question.kind is Kind.MULTI and value == []:
        return MISSING
    if question.kind is Kind.NUMBER:
        return NOT_A_NUMBER
    if question.kind is Kind.PHONE:
        return NOT_A_PHONE
    return NOT_AN_OPTION


def clean_form(form: Form, raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate submitted answers: (clean answers, question id → error msgid).

    `raw` maps question ids to a string (or a list for MULTI); an empty optional answer is left out
    rather than stored as "", so a later prefill or edit can tell it apart from a real answer.
    """
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for question in form.questions:
        value = raw.get(question.id)
        empty = value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())
        if empty:
            if question.required:
                errors[question.id] = MISSING
            continue
        try:
            answers[question.id] = clean_answer(question, value)
        except InvalidAnswer:
            errors[question.id] = _error_for(question, value)
    return answers, errors
