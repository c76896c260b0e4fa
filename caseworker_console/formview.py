"""Forms defined in programme/ turned into what a template renders, and submitted data back into answers."""

from __future__ import annotations

import dataclasses
import gettext
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.datastructures import FormData

from programme.forms import Form, Kind, Question
from programme.text import N_

# Longer limits get a multi-line box; short ones a single line.
MULTILINE_FROM = 200
# Up to this many options show as radio buttons (all visible at once); more become a list box.
RADIO_UP_TO = 6

YES = N_("Yes")
NO = N_("No")
# In place of what a reader who is not on the case may not see (permissions.sees_identity).
HIDDEN = N_("Hidden")


@dataclasses.dataclass(frozen=True)
class OptionView:
    value: str
    label: str
    selected: bool


@dataclasses.dataclass(frozen=True)
class FieldView:
    """One question as the template draws it, already in the reader's language."""

    id: str
    label: str
    widget: str  # radio, checkbox, select, text, textarea, number, tel
    required: bool
    max_length: int
    value: str
    options: tuple[OptionView, ...]
    error: str | None
    source: str | None  # where a prefilled value came from
    minimum: int = 0
    maximum: int = 0


@dataclasses.dataclass(frozen=True)
class AnswerView:
    """One stored answer for reading: the question's label and the answer as words."""

    label: str
    text: str


def _widget(question: Question) -> str:
    if question.kind is Kind.MULTI:
        return "checkbox"
    if question.kind is Kind.YES_NO:
        return "radio"
    if question.kind is Kind.CHOICE:
        return "radio" if len(question.options) <= RADIO_UP_TO else "select"
    if question.kind is Kind.NUMBER:
        return "number"
    if question.kind is Kind.PHONE:
        return "tel"
    return "textarea" if question.max_length > MULTILINE_FROM else "text"


def _options(question: Question, translate: gettext.NullTranslations) -> list[tuple[str, str]]:
    if question.kind is Kind.YES_NO:
        return [("yes", translate.gettext(YES)), ("no", translate.gettext(NO))]
    return [(option.value, translate.gettext(option.label)) for option in question.options]


def fields(
    form: Form,
    translate: gettext.NullTranslations,
    *,
    values: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
    sources: Mapping[str, str] | None = None,
    only: Iterable[str] | None = None,
    short_labels: bool = False,
) -> list[FieldView]:
    """The form's questions (or `only` those) with current values, error and source messages.

    `short_labels` shows each question's short name: the bot's prompts speak to the person ("tap
    the button below"), which a caseworker on a call does not read out word for word.
    """
    errors = errors or {}
    sources = sources or {}
    questions = [form.question(qid) for qid in only] if only is not None else list(form.questions)
    views = []
    for question in questions:
        value = values.get(question.id)
        chosen = {str(item) for item in value} if isinstance(value, list) else {str(value)}
        views.append(
            FieldView(
                id=question.id,
                label=translate.gettext(question.short_label if short_labels else question.prompt),
                widget=_widget(question),
                required=question.required,
                max_length=question.max_length,
                value="" if value is None or isinstance(value, list) else str(value),
                options=tuple(
                    OptionView(option, label, option in chosen)
                    for option, label in _options(question, translate)
                ),
                error=translate.gettext(errors[question.id]) if question.id in errors else None,
                source=sources.get(question.id),
                minimum=question.minimum,
                maximum=question.maximum,
            )
        )
    return views


def submitted(form: Form, data: FormData) -> dict[str, Any]:
    """The raw answers of a posted form: a list for multiple choice, a string otherwise."""
    raw: dict[str, Any] = {}
    for question in form.questions:
        if question.kind is Kind.MULTI:
            raw[question.id] = [str(item) for item in data.getlist(question.id)]
        else:
            item = data.get(question.id)
            raw[question.id] = item if isinstance(item, str) else None
    return raw


def answer_text(
    question: Question, value: Any, translate: gettext.NullTranslations, *, identity: bool
) -> str:
    """An answer in words. A value the form does not know (an older version) is shown as it is.
    Without `identity` (the reader is not on the case) an answer that could identify is "Hidden"."""
    if not identity and question.identifying:
        return translate.gettext(HIDDEN)
    labels = dict(_options(question, translate))
    if isinstance(value, list):
        return ", ".join(labels.get(str(item), str(item)) for item in value)
    if value is None:
        return ""
    return labels.get(str(value), str(value))


def answers(
    form: Form, stored: Mapping[str, Any], translate: gettext.NullTranslations, *, identity: bool
) -> list[AnswerView]:
    """Stored answers in the form's order, each with its question; unanswered ones are left out, and
    without `identity` the ones that could identify the person show as "Hidden"."""
    return [
        AnswerView(
            translate.gettext(question.prompt),
            answer_text(question, stored[question.id], translate, identity=identity),
        )
        for question in form.questions
        if question.id in stored and stored[question.id] not in (None, "", [])
    ]
