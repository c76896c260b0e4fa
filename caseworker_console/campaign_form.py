"""The campaign compose form: what it holds as typed, declared as a form, validated whole before
anything is written on a campaign.

The fields that are choices, numbers or one line of text are declared once as a `programme.forms`
form (`FIELDS`) and read and cleaned as every console form is (`formview.submitted`,
`clean_form`); the rules across fields (the fallback text, the button, the cities, the start, the
quiet hours, the spread) follow in `validate`. A draft with any error sets nothing: the page comes
back with every value as typed and a note beside each field that needs another look.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from typing import Any

from starlette.datastructures import FormData

from caseworker_console import telegram_preview
from outreach import campaigns as work
from outreach.campaigns import MAX_CITIES, MAX_CITY, MAX_SPREAD_HOURS, MAX_TEXT, NO_CASE, AppointmentFilter
from programme.assessment import MISSING, clean_form
from programme.cycle import Stage
from programme.forms import SERVICE_AREAS, Form, Kind, Option, Question
from programme.text import N_
from storage.city import normalise_city
from storage.models_outreach import Campaign
from wording.languages import LANGUAGES

BUTTON_KINDS = ("none", "url", "start")
MAX_NAME = 120
MAX_LABEL = 64
MAX_TARGET = 300
MAX_DAYS = 3650
# At most this many values of one multiple choice are read from a post.
MAX_CHOSEN = 50
NOT_TELEGRAM_HTML = N_(
    "Telegram would refuse this text. Write < as &lt;, > as &gt; and & as &amp;, and use only "
    'the tags <b>, <i>, <u>, <s>, <a href="…">, <code>, <pre> and <blockquote>, each closed.'
)
CHOOSE_FROM_LIST = N_("Choose an option from the list.")
WHOLE_DAYS = N_("Give a whole number of days, or leave it empty.")


def _codes(values: Any) -> tuple[Option, ...]:
    # Options whose labels the page draws itself (language names, stages): the code stands in.
    return tuple(Option(str(value), str(value)) for value in values)


def _days(question_id: str, prompt: str) -> Question:
    return Question(question_id, Kind.NUMBER, prompt, required=False, minimum=1, maximum=MAX_DAYS)


FIELDS = Form(
    id="campaign",
    version=1,
    title=N_("New campaign"),
    questions=(
        Question("name", Kind.TEXT, N_("Name (only the console shows it)"), max_length=MAX_NAME),
        Question("fallback_language", Kind.CHOICE, N_("Fallback language"), options=_codes(LANGUAGES)),
        Question("button_kind", Kind.CHOICE, N_("Button"), options=_codes(BUTTON_KINDS)),
        Question("languages", Kind.MULTI, N_("Language"), options=_codes(LANGUAGES), required=False),
        Question(
            "stages",
            Kind.MULTI,
            N_("Stage of their case"),
            options=_codes([*Stage, NO_CASE]),
            required=False,
        ),
        Question(
            "service_areas",
            Kind.MULTI,
            N_("Service area of their plan"),
            options=SERVICE_AREAS,
            required=False,
        ),
        _days("active_within_days", N_("Active in the bot within the last … days")),
        _days("inactive_for_days", N_("Not active for at least … days")),
        Question("appointment", Kind.CHOICE, N_("Appointments"), options=_codes(AppointmentFilter)),
    ),
)
# The campaign form's own words for a declared field that fails (the form's general ones otherwise).
WORDING: dict[str, str] = {
    "fallback_language": N_("Choose a language from the list."),
    "button_kind": N_("Choose a kind of button from the list."),
    "languages": CHOOSE_FROM_LIST,
    "stages": CHOOSE_FROM_LIST,
    "service_areas": CHOOSE_FROM_LIST,
    "active_within_days": WHOLE_DAYS,
    "inactive_for_days": WHOLE_DAYS,
    "appointment": CHOOSE_FROM_LIST,
}
NAME_MISSING = N_("Give the campaign a name.")
NAME_TOO_LONG = N_("The name is too long.")


def clock(seconds: int | None) -> str:
    return "" if seconds is None else f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}"


def _clock_seconds(value: str) -> int | None:
    try:
        parsed = dt.time.fromisoformat(value)
    except ValueError:
        return None
    return parsed.hour * 3600 + parsed.minute * 60


@dataclasses.dataclass
class Draft:
    """What the compose form holds, as typed (kept as is when it is sent back with errors)."""

    name: str = ""
    fallback_language: str = "en"
    texts: dict[str, str] = dataclasses.field(default_factory=dict)
    button_kind: str = "none"
    button_target: str = ""
    button_labels: dict[str, str] = dataclasses.field(default_factory=dict)
    languages: list[str] = dataclasses.field(default_factory=list)
    stages: list[str] = dataclasses.field(default_factory=list)
    service_areas: list[str] = dataclasses.field(default_factory=list)
    sources: list[str] = dataclasses.field(default_factory=list)
    active_within_days: str = ""
    inactive_for_days: str = ""
    appointment: str = AppointmentFilter.ANY
    cities: str = ""  # one per line, as typed
    start_date: str = ""
    start_time: str = ""
    quiet: bool = True
    quiet_from: str = "21:00"
    quiet_until: str = "09:00"
    spread_hours: str = "0"

    @classmethod
    def of(cls, campaign: Campaign, zone: zoneinfo.ZoneInfo) -> Draft:
        segment = work.Segment.from_data(campaign.segment)
        button = campaign.button or {}
        local = campaign.starts_at.astimezone(zone) if campaign.starts_at else None
        return cls(
            name=campaign.name,
            fallback_language=campaign.fallback_language,
            texts=dict(campaign.texts),
            button_kind=str(button.get("kind") or "none"),
            button_target=str(button.get("target") or ""),
            button_labels=dict(button.get("labels") or {}),
            languages=list(segment.languages),
            stages=list(segment.stages),
            service_areas=list(segment.service_areas),
            sources=list(segment.sources),
            active_within_days=str(segment.active_within_days or ""),
            inactive_for_days=str(segment.inactive_for_days or ""),
            appointment=segment.appointment,
            cities="\n".join(segment.cities),
            start_date=local.date().isoformat() if local else "",
            start_time=local.strftime("%H:%M") if local else "",
            quiet=campaign.quiet_from is not None,
            quiet_from=clock(campaign.quiet_from) or "21:00",
            quiet_until=clock(campaign.quiet_until) or "09:00",
            spread_hours=f"{campaign.spread_seconds / 3600:g}",
        )

    @classmethod
    def read(cls, form: FormData) -> Draft:
        def text(name: str) -> str:
            value = form.get(name)
            # Longer than allowed is kept whole, so the error can say so and nothing is lost.
            return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""

        def chosen(name: str) -> list[str]:
            return [value for value in form.getlist(name) if isinstance(value, str)][:MAX_CHOSEN]

        return cls(
            name=text("name"),
            fallback_language=text("fallback_language"),
            texts={language: text(f"text_{language}") for language in LANGUAGES},
            button_kind=text("button_kind") or "none",
            button_target=text("button_target"),
            button_labels={language: text(f"label_{language}") for language in LANGUAGES},
            languages=chosen("languages"),
            stages=chosen("stages"),
            service_areas=chosen("service_areas"),
            sources=chosen("sources"),
            active_within_days=text("active_within_days"),
            inactive_for_days=text("inactive_for_days"),
            appointment=text("appointment") or AppointmentFilter.ANY,
            cities=text("cities"),
            start_date=text("start_date"),
            start_time=text("start_time"),
            quiet=form.get("quiet") == "on",
            quiet_from=text("quiet_from"),
            quiet_until=text("quiet_until"),
            spread_hours=text("spread_hours") or "0",
        )

    def answers(self) -> dict[str, Any]:
        """The declared fields (FIELDS) as a posted form gives them."""
        return {question.id: getattr(self, question.id) for question in FIELDS.questions}


@dataclasses.dataclass(frozen=True)
class Settings:
    """A valid draft, ready to be set on a campaign."""

    name: str
    fallback_language: str
    texts: dict[str, str]
    button: dict[str, Any] | None
    segment: dict[str, Any]
    starts_at: dt.datetime | None
    quiet_from: int | None
    quiet_until: int | None
    spread_seconds: float


def validate(draft: Draft, zone: zoneinfo.ZoneInfo) -> Settings | dict[str, str]:
    """The draft's settings, or its errors by field (msgids) when any field is wrong."""
    answers, failed = clean_form(FIELDS, draft.answers())
    errors = {field: _worded(field, reason) for field, reason in failed.items()}
    errors |= _text_errors(draft)
    button, button_errors = _button(draft)
    cities, city_error = _cities(draft.cities)
    starts_at, start_error = _start(draft, zone)
    quiet, quiet_error = _quiet(draft)
    spread, spread_error = _spread(draft.spread_hours)
    errors |= button_errors | city_error | start_error | quiet_error | spread_error
    if errors:
        return errors
    segment = {
        "languages": answers.get("languages", []),
        "stages": answers.get("stages", []),
        "service_areas": answers.get("service_areas", []),
        "sources": draft.sources,
        "active_within_days": answers.get("active_within_days"),
        "inactive_for_days": answers.get("inactive_for_days"),
        "appointment": AppointmentFilter(answers["appointment"]),
        "cities": cities,
    }
    return Settings(
        name=answers["name"],
        fallback_language=answers["fallback_language"],
        texts={language: text for language, text in draft.texts.items() if text},
        button=button,
        segment=work.Segment.from_data(segment).as_data(),
        starts_at=starts_at,
        quiet_from=quiet[0],
        quiet_until=quiet[1],
        spread_seconds=spread * 3600,
    )


def apply(settings: Settings, campaign: Campaign) -> None:
    """Set a validated draft on the campaign."""
    campaign.name = settings.name
    campaign.fallback_language = settings.fallback_language
    campaign.texts = settings.texts
    campaign.button = settings.button
    campaign.segment = settings.segment
    campaign.starts_at = settings.starts_at
    campaign.quiet_from, campaign.quiet_until = settings.quiet_from, settings.quiet_until
    campaign.spread_seconds = settings.spread_seconds


def _worded(field: str, reason: str) -> str:
    if field == "name":
        return NAME_MISSING if reason == MISSING else NAME_TOO_LONG
    return WORDING.get(field, reason)


def _text_errors(draft: Draft) -> dict[str, str]:
    """Each language's text fits one Telegram message and is HTML Telegram accepts; the fallback
    language (when it is one) has one."""
    errors: dict[str, str] = {}
    if draft.fallback_language in LANGUAGES and not draft.texts.get(draft.fallback_language):
        errors[f"text_{draft.fallback_language}"] = N_(
            "Write the text in the fallback language: everyone without their own variant gets it."
        )
    for language, text in draft.texts.items():
        if len(text) > MAX_TEXT:
            errors[f"text_{language}"] = N_("The text is too long for one Telegram message.")
        elif telegram_preview.as_shown(text) is None:
            errors[f"text_{language}"] = NOT_TELEGRAM_HTML
    return errors


def _button(draft: Draft) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The button under the notice (None: no button), and what is wrong with it."""
    if draft.button_kind not in BUTTON_KINDS or draft.button_kind == "none":
        return None, {}
    errors: dict[str, str] = {}
    target = draft.button_target
    if draft.button_kind == "url" and not (target.startswith("https://") and 8 < len(target) <= MAX_TARGET):
        errors["button_target"] = N_("A button's link must be a full https:// address.")
    if draft.button_kind == "start" and not work.DEEP_LINK_CODE.fullmatch(target):
        errors["button_target"] = N_("A link into the bot takes a code of up to 64 letters, digits, _ and -.")
    labels = {language: label for language, label in draft.button_labels.items() if label}
    if not labels.get(draft.fallback_language):
        errors[f"label_{draft.fallback_language}"] = N_("Give the button a label in the fallback language.")
    if any(len(label) > MAX_LABEL for label in labels.values()):
        errors["button_labels"] = N_("A button's label is too long.")
    return {"kind": draft.button_kind, "target": target, "labels": labels}, errors


def _cities(typed: str) -> tuple[list[str], dict[str, str]]:
    cities = [line.strip() for line in typed.split("\n") if line.strip()]
    if len(cities) > MAX_CITIES:
        return cities, {"cities": N_("Name at most 20 cities.")}
    if any(len(name) > MAX_CITY for name in cities):
        return cities, {"cities": N_("A city can be at most 80 characters long.")}
    if any(not normalise_city(name) for name in cities):
        return cities, {"cities": N_("Write each city with at least one letter or digit, one city per line.")}
    return cities, {}


def _start(draft: Draft, zone: zoneinfo.ZoneInfo) -> tuple[dt.datetime | None, dict[str, str]]:
    """When it starts (None: as soon as it is scheduled), read on the office's clock."""
    if not (draft.start_date or draft.start_time):
        return None, {}
    try:
        day = dt.date.fromisoformat(draft.start_date)
        clock = dt.time.fromisoformat(draft.start_time or "00:00")
    except ValueError:
        return None, {"start": N_("Give the start as a date and a time, or leave both empty to send now.")}
    local = dt.datetime.combine(day, clock.replace(second=0, microsecond=0), tzinfo=zone)
    return local.astimezone(dt.UTC), {}


def _quiet(draft: Draft) -> tuple[tuple[int | None, int | None], dict[str, str]]:
    """The quiet hours as seconds after midnight, (None, None) for none."""
    if not draft.quiet:
        return (None, None), {}
    quiet_from, quiet_until = _clock_seconds(draft.quiet_from), _clock_seconds(draft.quiet_until)
    if quiet_from is None or quiet_until is None or quiet_from == quiet_until:
        return (None, None), {
            "quiet": N_("Give the quiet hours as two different times, such as 21:00 and 09:00.")
        }
    return (quiet_from, quiet_until), {}


def _spread(typed: str) -> tuple[float, dict[str, str]]:
    try:
        spread = float(typed.replace(",", "."))
    except ValueError:
        spread = -1.0
    if not 0 <= spread <= MAX_SPREAD_HOURS:
        return 0.0, {"spread_hours": N_("Give the spread as a number of hours from 0 to 72.")}
    return spread, {}
