"""The consent tab (Annex 4): the current consent and its history, and recording a paper signature."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from caseworker_console import casework as work
from caseworker_console import formview, i18n
from caseworker_console.casetabs import CLOSED, commit_change, open_tab, tab_context
from caseworker_console.config import config
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routing import action, page, request_case, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.views import staff_name
from programme import consent
from programme.assessment import CONSENT_LANGUAGES, PAPER_CONSENT, clean_form
from programme.cycle import Stage
from programme.retention import DEFAULT_RETENTION, RetentionPolicy
from programme.text import N_
from storage import casework
from storage.journey import record_consent
from wording.languages import bot_catalog

CHANNEL_LABELS: dict[str, str] = {"bot": N_("In the bot"), "paper": N_("Signed on paper")}


@functools.cache
def consent_text(
    language: str, controller: str, contact: str = "", retention: RetentionPolicy = DEFAULT_RETENTION
) -> str:
    """The Annex 4 text in a language as the bot shows it: its catalog, the same data controller,
    contact and retention periods, so the same text has the same hash."""
    words = bot_catalog(language)
    return consent.rendered(
        words.gettext, words.ngettext, controller=controller, contact=contact, retention=retention
    )


async def organisation_consent_text(request: Request, language: str) -> tuple[str, str]:
    """The Annex 4 text in a language, naming what this organisation set now (the organisation page,
    else INTAKE_DATA_*; INTAKE_RETAIN_*), and the version that makes."""
    settings = config(request)
    organisation = await settings.organisation(database(request))
    text = consent_text(
        language, organisation.controller_in(language), organisation.contact_in(language), settings.retention
    )
    return text, settings.consent_version(organisation)


@dataclasses.dataclass(frozen=True)
class ConsentView:
    current: bool
    version: str
    language: str
    channel: str
    when: str
    recorded_by: str | None
    casework: str
    publicity: str
    third_party: str


async def render(
    request: Request,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    db = database(request)
    case = request_case(request)
    translate = gettext_for(request)
    locale = i18n.request_locale(request)
    history = await casework.consent_history(db, case_id=case.id)
    people = await casework.staff_by_id(db, ids=[row.recorded_by for row in history if row.recorded_by])
    publicity = {option.value: translate.gettext(option.label) for option in consent.PUBLICITY_LEVELS}
    languages = {option.value: option.label for option in CONSENT_LANGUAGES}
    yes, no = translate.gettext(formview.YES), translate.gettext(formview.NO)
    views = [
        ConsentView(
            current=row.superseded_at is None,
            version=row.text_version,
            language=languages.get(row.language, row.language),
            channel=translate.gettext(CHANNEL_LABELS[row.channel])
            if row.channel in CHANNEL_LABELS
            else row.channel,
            when=i18n.format_local_datetime(
                row.recorded_at, locale=locale, timezone=config(request).timezone
            ),
            recorded_by=staff_name(people.get(row.recorded_by or 0)),
            casework=yes if row.casework else no,
            publicity=publicity.get(row.publicity, row.publicity),
            third_party=yes if row.third_party else no,
        )
        for row in history
    ]
    if values is None:
        values = {"language": case.language} if case.language in languages else {}
    organisation = await config(request).organisation(db)
    context = await tab_context(request, "consent")
    return pages(request).render(
        request,
        "consent.html",
        {
            **context,
            "error": translate.gettext(error) if error else None,
            "saved": request.query_params.get("saved") == "1",
            "current": next((view for view in views if view.current), None),
            "history": views,
            "guardian_needed": case.guardian_consent_needed,
            "text_version": config(request).consent_version(organisation),
            "fields": formview.fields(PAPER_CONSENT, translate, values=values, errors=errors),
            "error_count": len(errors or {}),
        },
        status_code=status_code,
    )


async def consent_tab(request: Request) -> Response:
    return await open_tab(request, "consent", render)


async def record_paper(request: Request) -> Response:
    """Record what the person signed on paper; it supersedes the current consent, which stays on file."""
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    form = await request.form()
    raw = formview.submitted(PAPER_CONSENT, form)
    answers, errors = clean_form(PAPER_CONSENT, raw)
    if errors:
        return await render(request, values=raw, errors=errors, status_code=400)
    if case.stage == Stage.CLOSED:
        return await render(request, values=raw, error=CLOSED, status_code=400)

    async def save() -> None:
        text, version = await organisation_consent_text(request, answers["language"])
        await record_consent(
            db,
            case=case,
            casework=answers["casework"] == "yes",
            publicity=answers["publicity"],
            third_party=answers["third_party"] == "yes",
            language=answers["language"],
            text_version=version,
            text_hash=consent.text_hash(text),
            channel="paper",
            staff_id=user.staff_id,
        )
        # The consent decides what may happen next (planning): a page made before it is stale.
        await work.save_case(db, case)

    return await commit_change(
        request, version=form.get("version"), change=save, render=render, values=raw, tab="case_consent"
    )


routes = [
    page("/cases/{code}/consent", consent_tab, name="case_consent", permission=Permission.CASE_READ),
    action(
        "/cases/{code}/consent", record_paper, name="case_consent_submit", permission=Permission.CASE_WRITE
    ),
]
