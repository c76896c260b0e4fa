"""The organisation behind the programme, as an administrator sets it: the data controller's name
and the contact for questions about data (both per language), and the programme's hours, when the
bot says a caseworker will answer. Reading and checking the console's form, and the consent text
version that follows from what the text names.

Plain Python, no I/O. A language left empty falls back to the default (`controller`, `contact`), the
value the environment gave on a first start (INTAKE_DATA_CONTROLLER, INTAKE_DATA_CONTACT).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import zoneinfo
from collections.abc import Mapping
from typing import Any

from programme import consent
from programme.appointments import Interval, parse_hours, stored_hours
from programme.assessment import CONSENT_LANGUAGES
from programme.offices import Message, hours_text, read_hours
from programme.retention import DEFAULT_RETENTION, RetentionPolicy
from programme.text import N_
from texts.visible import clean_line

# The bot's languages, in which the name and the contact may be given.
LANGUAGES: tuple[str, ...] = tuple(option.value for option in CONSENT_LANGUAGES)
NAME_MAX, CONTACT_MAX = 200, 200
# Monday to Friday, 09:00 to 18:00: the hours until an administrator sets others.
DEFAULT_HOURS: Mapping[int, tuple[Interval, ...]] = {
    weekday: ((dt.time(9), dt.time(18)),) for weekday in range(5)
}

NAME_NEEDED = N_("Give the organisation's name (up to 200 characters).")
NAME_TOO_LONG = N_("A name is at most 200 characters.")
CONTACT_TOO_LONG = N_("A contact is at most 200 characters.")
NO_HOURS = N_("Give the hours of at least one day.")


@dataclasses.dataclass(frozen=True, slots=True)
class Organisation:
    """What the consent text, the privacy notice and the "office closed" answer name."""

    controller: str = ""
    contact: str = ""
    controllers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    contacts: Mapping[str, str] = dataclasses.field(default_factory=dict)
    hours: Mapping[int, tuple[Interval, ...]] = dataclasses.field(default_factory=lambda: dict(DEFAULT_HOURS))

    def controller_in(self, language: str | None) -> str:
        """The name as a reader of `language` reads it: theirs when given (a Persian reader never
        gets the Latin-script default when a Persian name was given), else the default."""
        return self.controllers.get(language or "") or self.controller

    def contact_in(self, language: str | None) -> str:
        return self.contacts.get(language or "") or self.contact

    def is_open(self, local: dt.datetime) -> bool:
        spans = self.hours.get(local.weekday(), ())
        return any(opens <= local.time() < closes for opens, closes in spans)

    def next_opening(self, now: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime | None:
        """None while the programme is open; otherwise when it opens next (within a week)."""
        local = now.astimezone(zone)
        if self.is_open(local):
            return None
        day = local.date()
        for _offset in range(8):
            for opens, _closes in self.hours.get(day.weekday(), ()):
                opening = dt.datetime.combine(day, opens, tzinfo=zone)
                if opening > local:
                    return opening
            day += dt.timedelta(days=1)
        return None

    def named(self) -> dict[str, list[str]]:
        """What the consent text names of the organisation, in each language: name and contact."""
        return {language: [self.controller_in(language), self.contact_in(language)] for language in LANGUAGES}

    def consent_version(self, retention: RetentionPolicy, *, defaults: Organisation) -> str:
        """The consent text's version: the wording's (consent.TEXT_VERSION) while the text names
        what it named when that wording shipped, the environment's organisation (`defaults`:
        INTAKE_DATA_CONTROLLER, INTAKE_DATA_CONTACT) and the shipped retention periods; otherwise
        the wording's and a fingerprint of everything the text names in every language, so a
        change of any of it is another version. A site upgraded with nothing changed keeps
        recording the version it did. Each consent keeps the version it was given under
        (storage.models_journey.Consent)."""
        named = self.named()
        if named == defaults.named() and retention == DEFAULT_RETENTION:
            return consent.TEXT_VERSION
        periods = dataclasses.asdict(retention)
        fingerprint = json.dumps([named, periods], sort_keys=True, ensure_ascii=False)
        return f"{consent.TEXT_VERSION}-{hashlib.sha256(fingerprint.encode()).hexdigest()[:6]}"

    def stored_hours(self) -> dict[str, list[list[str]]]:
        return stored_hours(self.hours)


def stored(
    *,
    controller: str,
    contact: str,
    controllers: Mapping[str, str],
    contacts: Mapping[str, str],
    hours: Mapping[str, list[list[str]]],
) -> Organisation:
    """The organisation from its stored row (storage.models_organisation)."""
    return Organisation(
        controller=controller,
        contact=contact,
        controllers={code: text for code, text in controllers.items() if code in LANGUAGES and text},
        contacts={code: text for code, text in contacts.items() if code in LANGUAGES and text},
        hours=parse_hours(hours),
    )


def form_values(organisation: Organisation) -> dict[str, str]:
    """The console form's fields, filled from the settings."""
    values = {"controller": organisation.controller, "contact": organisation.contact}
    for code in LANGUAGES:
        values[f"controller_{code}"] = organisation.controllers.get(code, "")
        values[f"contact_{code}"] = organisation.contacts.get(code, "")
    for weekday in range(7):
        values[f"hours_{weekday}"] = hours_text(organisation.hours.get(weekday, ()))
    return values


def read_form(form: Mapping[str, Any]) -> tuple[Organisation, dict[str, str], dict[str, Message]]:
    """The settings as the form gives them, the values to show again, and a message per wrong field."""
    values: dict[str, str] = {}
    errors: dict[str, Message] = {}
    for field, limit, too_long in (
        ("controller", NAME_MAX, NAME_TOO_LONG),
        ("contact", CONTACT_MAX, CONTACT_TOO_LONG),
    ):
        for name in (field, *(f"{field}_{code}" for code in LANGUAGES)):
            values[name] = clean_line(str(form.get(name) or ""))
            if len(values[name]) > limit:
                errors[name] = (too_long, {})
    if not values["controller"]:
        errors["controller"] = (NAME_NEEDED, {})
    hours: dict[int, tuple[Interval, ...]] = {}
    for weekday in range(7):
        name = f"hours_{weekday}"
        values[name] = str(form.get(name) or "").strip()
        spans, error = read_hours(values[name])
        if error is not None:
            errors[name] = error
        elif spans:
            hours[weekday] = spans
    if not hours and not any(f"hours_{weekday}" in errors for weekday in range(7)):
        errors["hours_0"] = (NO_HOURS, {})
    organisation = Organisation(
        controller=values["controller"],
        contact=values["contact"],
        controllers={
            code: values[f"controller_{code}"] for code in LANGUAGES if values[f"controller_{code}"]
        },
        contacts={code: values[f"contact_{code}"] for code in LANGUAGES if values[f"contact_{code}"]},
        hours=hours,
    )
    return organisation, values, errors
