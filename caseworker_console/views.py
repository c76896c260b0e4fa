"""Cases as the pages show them: codes, stages, channels and waiting times in the reader's language."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gettext

from babel.dates import format_timedelta
from starlette.requests import Request

from caseworker_console import i18n
from caseworker_console.audit_labels import ERASURE_REASONS
from caseworker_console.config import config
from caseworker_console.database import database
from caseworker_console.routing import identity_shown, request_withdrawn_at
from caseworker_console.templating import gettext_for
from programme.assessment import ADVERSE_EVENT, CONSENT_LANGUAGES
from programme.cycle import STAGE_LABELS, Stage
from programme.plan import PLAN_STAGES
from programme.text import N_
from storage import outbox, retention
from storage.models import Case, StaffUser, utcnow
from storage.models_erasure import CaseTombstone
from storage.models_retention import LegalHold

# What raised an alert, as the case's alerts and its conversation show it (the audit's words).
ALERT_KINDS: dict[str, str] = {
    "urgent": N_("Urgent help asked for"),
    "crisis_words": N_("Words of crisis noticed"),
    ADVERSE_EVENT.id: N_("Adverse event recorded"),
}

SOURCE_LABELS: dict[str, str] = {
    "bot": N_("Telegram bot"),
    "console": N_("Entered in the console"),
}


PLAN_TAB_STAGES = frozenset({*PLAN_STAGES, Stage.CLOSED})
# The bot's languages as the console's forms name them (code, label to translate): an office's name,
# the organisation's, a ready reply's text per language.
BOT_LANGUAGES = tuple((option.value, option.label) for option in CONSENT_LANGUAGES)
# Above a form whose values need correcting; each message stands by its field.
FIX_BELOW = N_("Some values need correcting: see the messages by the fields.")


def stage_label(stage: str, translate: gettext.NullTranslations) -> str:
    try:
        return translate.gettext(STAGE_LABELS[Stage(stage)])
    except ValueError:
        # A stage this version does not know (a newer writer): show its code rather than fail.
        return stage


def source_label(source: str, translate: gettext.NullTranslations) -> str:
    # Campaign channels are codes an outreach officer chose ("flyer-university"); shown as they are.
    return translate.gettext(SOURCE_LABELS[source]) if source in SOURCE_LABELS else source


def staff_name(user: StaffUser | None) -> str | None:
    return None if user is None else user.display_name or user.username


@dataclasses.dataclass(frozen=True)
class CaseSummary:
    """The head of every case page: nothing in it names the beneficiary."""

    code: str
    stage: str
    stage_code: str
    language: str | None
    source: str
    waiting: str
    waiting_since: str
    waiting_since_iso: str
    urgent: bool
    assigned_to: str | None
    version: int
    # The plan tab shows once the case has entered intervention planning (or is closed).
    plan_open: bool
    # The person stopped taking part (/withdraw) on this date: the case is to be closed with reason 1.
    withdrawn_on: str | None = None
    # On legal hold (storage.models_retention): its review date, never its reason.
    hold_review: str | None = None
    hold_review_iso: str | None = None
    # The reader is not on this case (permissions.sees_identity): its pages show it pseudonymised.
    pseudonymised: bool = False
    # Replies and reminders to the person whose delivery is uncertain, waiting for a decision on
    # the Conversation tab.
    uncertain: int = 0


def waiting_since(case: Case) -> dt.datetime:
    return case.handoff_at or case.created_at


def case_summary(
    request: Request, case: Case, *, assignee: StaffUser | None, hold: LegalHold | None = None
) -> CaseSummary:
    locale = i18n.request_locale(request)
    translate = gettext_for(request)
    since = waiting_since(case)
    return CaseSummary(
        code=case.code,
        stage=stage_label(case.stage, translate),
        stage_code=case.stage,
        language=i18n.language_name(case.language, locale),
        source=source_label(case.source, translate),
        waiting=format_timedelta(utcnow() - since, locale=locale),
        waiting_since=i18n.format_local_datetime(since, locale=locale, timezone=config(request).timezone),
        waiting_since_iso=since.isoformat(),
        urgent=case.urgent,
        assigned_to=staff_name(assignee),
        version=case.version,
        plan_open=case.stage in PLAN_TAB_STAGES,
        withdrawn_on=withdrawn_on(request, case, locale),
        hold_review=i18n.format_day(hold.review_on, locale=locale) if hold else None,
        hold_review_iso=hold.review_on.isoformat() if hold else None,
    )


def withdrawn_on(request: Request, case: Case, locale: str) -> str | None:
    """When the person stopped taking part, on the pages of their case (read when it was loaded)."""
    at = request_withdrawn_at(request, case)
    return (
        None
        if at is None
        else i18n.format_local_datetime(at, locale=locale, timezone=config(request).timezone)
    )


@dataclasses.dataclass(frozen=True)
class ErasedView:
    code: str
    erased: str
    opened: str
    closed: str | None
    reason: str


def local_time(request: Request, value: dt.datetime) -> str:
    """A moment as the reader's office clock shows it, in the reader's language."""
    return i18n.format_local_datetime(
        value, locale=i18n.request_locale(request), timezone=config(request).timezone
    )


def erased_view(request: Request, tombstone: CaseTombstone) -> ErasedView:
    """An erased case as its tombstone tells it: code, dates and why, in the reader's language."""
    translate = gettext_for(request)
    reason = ERASURE_REASONS.get(tombstone.reason)
    return ErasedView(
        code=tombstone.code,
        erased=local_time(request, tombstone.erased_at),
        opened=local_time(request, tombstone.opened_at),
        closed=local_time(request, tombstone.closed_at) if tombstone.closed_at else None,
        reason=translate.gettext(reason) if reason else tombstone.reason,
    )


async def case_header(request: Request, case: Case, *, assignee: StaffUser | None) -> CaseSummary:
    """The head of one case's pages (the {code} route's case), with its legal hold if it has one and
    whether its pages are pseudonymised for this reader."""
    hold = await retention.hold_of(database(request), case_id=case.id)
    summary = case_summary(request, case, assignee=assignee, hold=hold)
    uncertain = await outbox.count_uncertain_to(database(request), beneficiary_id=case.beneficiary_id)
    return dataclasses.replace(summary, pseudonymised=not identity_shown(request), uncertain=uncertain)
