"""Outreach campaigns: compose a notice per language, choose who gets it, preview, schedule, watch it
go out (a progress fragment a static script polls), pause, resume, cancel, and read the results.

Outreach officers see counts and their own notices, never who the recipients are or any case.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console import i18n, telegram_preview
from caseworker_console.campaign_form import Draft, Settings, apply, clock, validate
from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.permissions import Permission, allows
from caseworker_console.routing import action, page, signed_in_user
from caseworker_console.templating import gettext_for, pages
from outreach import campaigns as work
from outreach.campaigns import (
    DIRECT,
    MAX_SPREAD_HOURS,
    MAX_TEXT,
    NO_CASE,
    AppointmentFilter,
    CampaignStatus,
)
from programme import figures as rules
from programme.cycle import STAGE_LABELS, Stage
from programme.forms import SERVICE_AREAS
from programme.text import N_
from storage import staff_link
from storage.models import StaffUser
from storage.models_channels import Channel
from storage.models_outreach import Campaign
from storage.queries import record_audit
from wording.languages import LANGUAGES, RIGHT_TO_LEFT

STATUS_LABELS: dict[str, str] = {
    CampaignStatus.DRAFT: N_("Draft"),
    CampaignStatus.SCHEDULED: N_("Scheduled"),
    CampaignStatus.RUNNING: N_("Sending"),
    CampaignStatus.PAUSED: N_("Paused"),
    CampaignStatus.CANCELLED: N_("Cancelled"),
    CampaignStatus.DONE: N_("Done"),
}
APPOINTMENT_LABELS: dict[str, str] = {
    AppointmentFilter.ANY: N_("Any"),
    AppointmentFilter.UPCOMING: N_("Has an appointment booked ahead"),
    AppointmentFilter.NOT_UPCOMING: N_("Has no appointment booked ahead"),
    AppointmentFilter.NO_SHOW: N_("Missed an appointment"),
}
NO_CASE_LABEL = N_("No case yet")
NOT_CHOSEN = N_("Language not chosen")
DIRECT_LABEL = N_("No channel (came without a link)")
LIST_SIZE = 100
# The compose and edit forms' second button: save, then send a test.
THEN_TEST = "test"
NOT_LINKED = N_("No Telegram chat is linked to your account yet: link yours on your account page first.")
NO_SUCH_VARIANT = N_("Choose a language the campaign has a text in.")
CHANGED_MEANWHILE = N_("Someone else changed this campaign meanwhile: check it and save again.")
# The sensitive filters (outreach.campaigns.SENSITIVE_FILTERS), by the form's names for them.
SENSITIVE_LABELS: dict[str, str] = {
    "stages": N_("Stage of their case"),
    "service_areas": N_("Service area of their plan"),
    "appointment": N_("Appointments"),
    "cities": N_("City or district they gave in the interview, one per line"),
}
CONFIRM_TWICE = N_("Tick the box to confirm that some of them may get it twice.")
NOTHING_UNCERTAIN = N_("No recipient's delivery is uncertain now: there is nothing to decide.")
NOTHING_TO_APPROVE = N_("This campaign uses no sensitive filter: it needs no approval.")


def _campaign_id(request: Request) -> uuid.UUID:
    try:
        return uuid.UUID(str(request.path_params["campaign_id"]))
    except ValueError:
        raise HTTPException(status_code=404) from None


async def _load(request: Request, *, lock: bool = False) -> Campaign:
    db = database(request)
    campaign = (
        await work.lock(db, _campaign_id(request)) if lock else await db.get(Campaign, _campaign_id(request))
    )
    if campaign is None:
        raise HTTPException(status_code=404)
    return campaign


def _local(request: Request, value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return i18n.format_local_datetime(
        value, locale=i18n.request_locale(request), timezone=config(request).timezone
    )


# ── the form ────────────────────────────────────────────────────────────────────────────────────


async def form_context(request: Request, draft: Draft, errors: dict[str, str]) -> dict[str, Any]:
    translate = gettext_for(request)
    locale = i18n.request_locale(request)
    db = database(request)
    sources = sorted({*await work.known_sources(db), *draft.sources} - {DIRECT})
    # Channels by the name the officer gave them (the Channels page), with the code of their link.
    names = dict(
        (await db.execute(select(Channel.code, Channel.name).where(Channel.code.in_(sources)))).all()
    )
    return {
        "active": "campaigns",
        "draft": draft,
        "errors": {field: translate.gettext(message) for field, message in errors.items()},
        "languages": [
            (code, LANGUAGES[code], "rtl" if code in RIGHT_TO_LEFT else "ltr") for code in LANGUAGES
        ],
        "language_names": {code: i18n.language_name(code, locale) or code for code in LANGUAGES},
        "stage_options": [(str(stage), translate.gettext(STAGE_LABELS[stage])) for stage in Stage]
        + [(NO_CASE, translate.gettext(NO_CASE_LABEL))],
        "area_options": [(option.value, translate.gettext(option.label)) for option in SERVICE_AREAS],
        "source_options": [
            (DIRECT, translate.gettext(DIRECT_LABEL), None),
            *[(code, names.get(code, code), code if code in names else None) for code in sources],
        ],
        "appointment_options": [
            (str(key), translate.gettext(label)) for key, label in APPOINTMENT_LABELS.items()
        ],
        "max_text": MAX_TEXT,
        "max_spread": MAX_SPREAD_HOURS,
    }


# ── list, compose ───────────────────────────────────────────────────────────────────────────────


@dataclasses.dataclass(frozen=True)
class Row:
    id: str
    name: str
    status: str
    status_code: str
    starts: str | None
    created: str
    created_by: str


async def campaign_list(request: Request) -> Response:
    db = database(request)
    translate = gettext_for(request)
    found = (
        await db.execute(
            select(Campaign, StaffUser)
            .outerjoin(StaffUser, StaffUser.id == Campaign.created_by)
            .order_by(Campaign.created_at.desc())
            .limit(LIST_SIZE)
        )
    ).all()
    await db.commit()
    rows = [
        Row(
            id=str(campaign.id),
            name=campaign.name,
            status=translate.gettext(STATUS_LABELS.get(campaign.status, campaign.status)),
            status_code=campaign.status,
            starts=_local(request, campaign.starts_at),
            created=_local(request, campaign.created_at) or "",
            created_by=(author.display_name or author.username) if author else "—",
        )
        for campaign, author in found
    ]
    return pages(request).render(request, "campaigns.html", {"active": "campaigns", "rows": rows})


async def compose(request: Request) -> Response:
    context = await form_context(request, Draft(), {})
    await database(request).commit()
    return pages(request).render(request, "campaign_form.html", {**context, "campaign": None})


async def create(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    form = await request.form()
    draft = Draft.read(form)
    settings = validate(draft, config(request).timezone)
    if not isinstance(settings, Settings):
        context = await form_context(request, draft, settings)
        return pages(request).render(
            request, "campaign_form.html", {**context, "campaign": None}, status_code=400
        )
    campaign = Campaign(status=CampaignStatus.DRAFT, created_by=user.staff_id, expanded=0, version=1)
    apply(settings, campaign)
    db.add(campaign)
    await db.flush()
    await _audit(request, "campaign.created", campaign)
    await db.commit()
    if form.get("then") == THEN_TEST:
        return await _send_test(request, campaign, work.text_languages(campaign))
    return RedirectResponse(request.url_for("campaign", campaign_id=campaign.id).path, status_code=303)


async def _audit(
    request: Request, what: str, campaign: Campaign, details: dict[str, Any] | None = None
) -> None:
    await record_audit(
        database(request),
        actor=signed_in_user(request).actor,
        action=what,
        object_type="campaign",
        object_id=str(campaign.id),
        details=details or {},
    )


def _changed_meanwhile(form: FormData, campaign: Campaign) -> bool:
    """The form was made from an older version of the campaign than the one now stored."""
    return str(form.get("version")) != str(campaign.version)


async def _save(request: Request, campaign: Campaign, *, then_test: bool = False) -> Response:
    """A change made to the campaign (and audited) is saved: its version moves on (a page showing
    the old one is now stale), it is committed, and the officer goes back to its page (or on to
    send the test)."""
    campaign.version += 1
    await database(request).commit()
    if then_test:
        return await _send_test(request, campaign, work.text_languages(campaign))
    return RedirectResponse(request.url_for("campaign", campaign_id=campaign.id).path, status_code=303)


# ── one campaign ────────────────────────────────────────────────────────────────────────────────


@dataclasses.dataclass(frozen=True)
class Preview:
    language: str
    name: str
    direction: str
    recipients: rules.Cell  # masked as on the figures page
    variant: str
    text: str
    shown: Markup | None  # the text as Telegram shows it (None: it would refuse it)
    button: str | None
    link: str | None


async def previews(request: Request, campaign: Campaign) -> tuple[rules.Cell, list[Preview]]:
    """Who would get it now, by language, and exactly what each language's readers would see; the
    counts masked as on the figures page (a segment is a filter too: under 5 shows as "<5")."""
    locale = i18n.request_locale(request)
    segment = work.Segment.from_data(campaign.segment)
    counts = await work.count_by_language(
        database(request), segment, campaign.starts_at or config(request).clock(), crypto=crypto(request)
    )
    # "Not chosen" is listed even when empty: its presence would tell that someone is in it.
    listed: list[str | None] = [*LANGUAGES, None]
    cells, total = rules.breakdown({code or "": counts.get(code, 0) for code in listed})
    shown = []
    for code in listed:
        # Unknown until the bot has been asked: the link is shown with a stand-in for its name.
        payload = work.render(campaign, code, bot_username=config(request).bot_username or "…")
        markup = payload.get("reply_markup")
        button = markup["inline_keyboard"][0][0] if markup else None
        variant = work.variant_for(campaign, code)
        shown.append(
            Preview(
                language=code or "",
                name=i18n.language_name(code, locale) or gettext_for(request).gettext(NOT_CHOSEN),
                direction="rtl" if variant in RIGHT_TO_LEFT or code in RIGHT_TO_LEFT else "ltr",
                recipients=cells[code or ""],
                variant=i18n.language_name(variant, locale) or variant,
                text=payload["text"],
                shown=telegram_preview.as_shown(payload["text"]),
                button=button["text"] if button else None,
                link=button["url"] if button else None,
            )
        )
    return total, shown


FIGURE_NAMES = ("sent", "failed", "blocked", "opted_out", "uncertain", "cancelled", "remaining")


def masked_figures(figures: work.Figures) -> tuple[dict[str, rules.Cell], rules.Cell]:
    """A campaign's figures as the officer may read them: its recipients by outcome are a breakdown
    of its segment, masked as the figures page masks campaign delivery."""
    return rules.breakdown({name: getattr(figures, name) for name in FIGURE_NAMES})


@dataclasses.dataclass(frozen=True)
class Progress:
    status: str
    status_code: str
    final: bool
    figures: dict[str, rules.Cell]
    estimated_finish: str | None
    percent: int | None  # None: not shown (a share of a masked count), the bar runs indeterminate


async def progress_of(request: Request, campaign: Campaign) -> Progress:
    db = database(request)
    figures = await work.figures(db, campaign.id)
    total = max(figures.total, campaign.planned or 0)
    finish = (
        await work.estimated_finish(db, campaign, zone=config(request).timezone)
        if campaign.status != CampaignStatus.PAUSED
        else None
    )
    final = campaign.status in (CampaignStatus.DONE, CampaignStatus.CANCELLED, CampaignStatus.DRAFT)
    cells, _ = masked_figures(figures)
    # As on the figures page, a percentage only between two shown counts.
    percent = rules.share(rules.masked(figures.settled), rules.masked(total))
    return Progress(
        status=gettext_for(request).gettext(STATUS_LABELS.get(campaign.status, campaign.status)),
        status_code=campaign.status,
        final=final,
        figures=cells,
        estimated_finish=_local(request, finish),
        percent=100 if final else percent,
    )


@dataclasses.dataclass(frozen=True)
class LanguageResult:
    name: str
    variant: str
    figures: dict[str, rules.Cell]


async def results(request: Request, campaign: Campaign) -> list[LanguageResult]:
    """The figures by language, masked: within each language's row, and across the languages (a
    language with under 5 recipients is masked whole, and if it is the only one, the smallest other
    is too, so the campaign's total minus the others gives nothing away)."""
    locale = i18n.request_locale(request)
    by_language = await work.figures_by_language(database(request), campaign.id)
    order = {code: n for n, code in enumerate(LANGUAGES)}
    totals, _ = rules.breakdown({code or "": figures.total for code, figures in by_language.items()})
    shown = []
    for code, figures in sorted(by_language.items(), key=lambda item: order.get(item[0] or "", 99)):
        cells, _ = masked_figures(figures)
        if totals[code or ""].masked:
            cells = {name: rules.Cell(value=cell.value, masked=True) for name, cell in cells.items()}
        shown.append(
            LanguageResult(
                name=i18n.language_name(code, locale) or gettext_for(request).gettext(NOT_CHOSEN),
                variant=i18n.language_name(work.variant_for(campaign, code), locale) or "",
                figures=cells,
            )
        )
    return shown


async def render_campaign(
    request: Request,
    campaign: Campaign,
    *,
    draft: Draft | None = None,
    errors: dict[str, str] | None = None,
    test_error: str | None = None,
    uncertain_error: str | None = None,
    status_code: int = 200,
) -> Response:
    db = database(request)
    zone = config(request).timezone
    locale = i18n.request_locale(request)
    tested = request.query_params.get("tested", "")
    context: dict[str, Any] = {
        "active": "campaigns",
        "campaign": campaign,
        "test_languages": [
            (code, i18n.language_name(code, locale) or code) for code in work.text_languages(campaign)
        ],
        "tested": int(tested) if tested.isdigit() and len(tested) < 4 else None,
        "test_error": gettext_for(request).gettext(test_error) if test_error else None,
        "test_needs_link": test_error == NOT_LINKED,
        "uncertain_error": gettext_for(request).gettext(uncertain_error) if uncertain_error else None,
    }
    if campaign.status == CampaignStatus.DRAFT:
        context.update(await form_context(request, draft or Draft.of(campaign, zone), errors or {}))
        context["recipients"], context["previews"] = await previews(request, campaign)
        context["approval"] = await approval_of(request, campaign, context["recipients"].value)
    else:
        context["errors"] = {}
        context["progress"] = await progress_of(request, campaign)
        context["results"] = await results(request, campaign)
        # Whether to ask about the uncertain ones (at least one undecided); their number is shown
        # masked in the figures, never here.
        context["uncertain_waiting"] = await work.undecided_uncertain(db, campaign.id) > 0
        context["can_resend"] = campaign.status in work.RESENDABLE
    author = await db.get(StaffUser, campaign.created_by) if campaign.created_by else None
    await db.commit()
    translate = gettext_for(request)
    context.update(
        status=translate.gettext(STATUS_LABELS.get(campaign.status, campaign.status)),
        starts=_local(request, campaign.starts_at),
        created_by=(author.display_name or author.username) if author else "—",
        quiet=(clock(campaign.quiet_from), clock(campaign.quiet_until))
        if campaign.quiet_from is not None
        else None,
        spread_hours=f"{campaign.spread_seconds / 3600:g}",
        can_pause=campaign.status in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING),
        can_resume=work.can_resume(campaign),
        preparing=campaign.status == CampaignStatus.PAUSED and work.preparing(campaign),
        can_cancel=campaign.status in (*work.EXPANDING, CampaignStatus.DRAFT),
    )
    return pages(request).render(request, "campaign.html", context, status_code=status_code)


@dataclasses.dataclass(frozen=True)
class Approval:
    """Where the draft stands with the supervisor's approval (outreach.campaigns.needs_approval)."""

    required: bool  # sensitive filters narrow it under the threshold now
    filters: list[str]  # the sensitive filters it uses, as the form names them
    threshold: int
    approved_by: str | None
    approved_at: str | None
    can_approve: bool  # the reader may approve it (a supervisor), and it uses sensitive filters

    @property
    def blocks_sending(self) -> bool:
        return self.required and self.approved_by is None and self.approved_at is None


async def approval_of(request: Request, campaign: Campaign, count: int) -> Approval:
    segment = work.Segment.from_data(campaign.segment)
    threshold = config(request).campaign_approval_below
    translate = gettext_for(request)
    approver = await database(request).get(StaffUser, campaign.approved_by) if campaign.approved_by else None
    used = work.sensitive_filters(segment)
    return Approval(
        required=work.needs_approval(segment, count, below=threshold),
        filters=[translate.gettext(SENSITIVE_LABELS[name]) for name in used],
        threshold=threshold,
        approved_by=(approver.display_name or approver.username) if approver else None,
        approved_at=_local(request, campaign.approved_at) if work.approved(campaign) else None,
        can_approve=bool(used) and allows(signed_in_user(request).role, Permission.CAMPAIGN_APPROVE),
    )


async def _reach(request: Request, campaign: Campaign) -> int:
    """How many people the draft's segment holds now (exact: for the rule, never shown)."""
    counts = await work.count_by_language(
        database(request),
        work.Segment.from_data(campaign.segment),
        campaign.starts_at or config(request).clock(),
        crypto=crypto(request),
    )
    return sum(counts.values())


async def campaign_page(request: Request) -> Response:
    return await render_campaign(request, await _load(request))


async def progress(request: Request) -> Response:
    """The progress fragment the page's script swaps in every few seconds; reads only."""
    campaign = await _load(request)
    context = {"campaign": campaign, "progress": await progress_of(request, campaign)}
    await database(request).commit()
    response = pages(request).render(request, "_campaign_progress.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


async def edit(request: Request) -> Response:
    campaign = await _load(request, lock=True)
    form = await request.form()
    draft = Draft.read(form)
    if campaign.status != CampaignStatus.DRAFT:
        return await render_campaign(request, campaign, status_code=409)
    if _changed_meanwhile(form, campaign):
        errors = {"form": CHANGED_MEANWHILE}
        return await render_campaign(request, campaign, draft=draft, errors=errors, status_code=409)
    # What a supervisor approved: who gets it and what they get.
    approved_as = (campaign.segment, campaign.texts, campaign.button)
    # Nothing is set on the campaign unless every field is right.
    settings = validate(draft, config(request).timezone)
    if not isinstance(settings, Settings):
        return await render_campaign(request, campaign, draft=draft, errors=settings, status_code=400)
    apply(settings, campaign)
    await _audit(request, "campaign.changed", campaign)
    if approved_as != (campaign.segment, campaign.texts, campaign.button) and work.void_approval(campaign):
        await _audit(request, "campaign.approval_voided", campaign)
    return await _save(request, campaign, then_test=form.get("then") == THEN_TEST)


async def schedule(request: Request) -> Response:
    """Draft → scheduled: the worker takes the segment and fills the outbox when its time comes."""
    db = database(request)
    campaign = await _load(request, lock=True)
    form = await request.form()
    if campaign.status != CampaignStatus.DRAFT:
        return await render_campaign(request, campaign, status_code=409)
    if _changed_meanwhile(form, campaign):
        return await render_campaign(request, campaign, errors={"form": CHANGED_MEANWHILE}, status_code=409)
    if not (campaign.texts.get(campaign.fallback_language) or "").strip():
        errors = {"form": N_("The campaign has no text in its fallback language yet.")}
        return await render_campaign(request, campaign, errors=errors, status_code=400)
    segment = work.Segment.from_data(campaign.segment)
    threshold = config(request).campaign_approval_below
    if not work.approved(campaign) and work.needs_approval(
        segment, await _reach(request, campaign), below=threshold
    ):
        await record_audit(
            db,
            actor=signed_in_user(request).actor,
            action="campaign.approval_needed",
            object_type="campaign",
            object_id=str(campaign.id),
            details={"filters": work.sensitive_filters(segment)},
        )
        await db.commit()
        return await render_campaign(request, campaign, status_code=403)
    now = config(request).clock()
    if campaign.starts_at is None or campaign.starts_at < now:
        campaign.starts_at = now
    campaign.status = CampaignStatus.SCHEDULED
    await _audit(request, "campaign.scheduled", campaign)
    return await _save(request, campaign)


async def approve(request: Request) -> Response:
    """A supervisor approves the draft as it stands (who gets it and what): the second person for a
    campaign that sensitive filters narrow to few people. Changing it afterwards voids this."""
    campaign = await _load(request, lock=True)
    form = await request.form()
    if campaign.status != CampaignStatus.DRAFT or work.approved(campaign):
        # A second tap, or another supervisor was quicker: show how it stands now.
        return await render_campaign(request, campaign, status_code=409)
    if _changed_meanwhile(form, campaign):
        return await render_campaign(request, campaign, errors={"form": CHANGED_MEANWHILE}, status_code=409)
    segment = work.Segment.from_data(campaign.segment)
    if not work.sensitive_filters(segment):
        return await render_campaign(request, campaign, errors={"form": NOTHING_TO_APPROVE}, status_code=409)
    work.approve(campaign, staff_id=signed_in_user(request).staff_id, at=config(request).clock())
    await _audit(request, "campaign.approved", campaign, {"filters": work.sensitive_filters(segment)})
    return await _save(request, campaign)


async def uncertain(request: Request) -> Response:
    """The officer's choice for the recipients whose delivery is uncertain (the sender stopped while
    sending to them): send it to them again, knowing some may get it twice, or leave them."""
    db = database(request)
    campaign = await _load(request, lock=True)
    form = await request.form()
    choice = form.get("choice")
    if choice not in ("resend", "leave"):
        raise HTTPException(status_code=400)
    if choice == "resend" and form.get("twice") != "on":
        return await render_campaign(request, campaign, uncertain_error=CONFIRM_TWICE, status_code=400)
    if choice == "resend":
        settings = config(request)
        count = await work.send_uncertain_again(db, campaign, zone=settings.timezone, now=settings.clock())
    else:
        count = await work.leave_uncertain(db, campaign)
    if not count:
        # A second tap, another officer was quicker, or the campaign was cancelled meanwhile.
        return await render_campaign(request, campaign, uncertain_error=NOTHING_UNCERTAIN, status_code=409)
    await _audit(
        request,
        "campaign.uncertain_resent" if choice == "resend" else "campaign.uncertain_left",
        campaign,
        {"rows": count},
    )
    return await _save(request, campaign)


async def send_test(request: Request) -> Response:
    """The campaign's message in each of its languages (or the one chosen), as its readers get it,
    to the officer's own linked Telegram chat; never counted in the campaign's figures."""
    campaign = await _load(request)
    form = await request.form()
    available = work.text_languages(campaign)
    chosen = str(form.get("language") or "")
    if chosen and chosen not in available:
        return await render_campaign(request, campaign, test_error=NO_SUCH_VARIANT, status_code=400)
    return await _send_test(request, campaign, [chosen] if chosen else available)


async def _send_test(request: Request, campaign: Campaign, languages: list[str]) -> Response:
    """The test button's work, also done by "Save and send a test to me" once the draft is saved."""
    db = database(request)
    user = signed_in_user(request)
    if await staff_link.link_of(db, staff_user_id=user.staff_id) is None:
        return await render_campaign(request, campaign, test_error=NOT_LINKED, status_code=409)
    count = await work.send_test(
        db,
        crypto(request),
        campaign,
        staff_user_id=user.staff_id,
        languages=languages,
        bot_username=config(request).bot_username,
    )
    await record_audit(
        db,
        actor=user.actor,
        action="campaign.test_sent",
        object_type="campaign",
        object_id=str(campaign.id),
        details={"languages": languages},
    )
    await db.commit()
    target = request.url_for("campaign", campaign_id=campaign.id).path
    return RedirectResponse(f"{target}?tested={count}#test-heading", status_code=303)


async def _transition(request: Request, what: str) -> Response:
    db = database(request)
    campaign = await _load(request, lock=True)
    if what == "paused":
        changed = await work.pause(db, campaign)
    elif what == "resumed":
        changed = await work.resume(db, campaign, zone=config(request).timezone)
    else:
        changed = await work.cancel(db, campaign)
    if not changed:
        # A second tap, or another officer was quicker: show how it stands now.
        return await render_campaign(request, campaign, status_code=409)
    await _audit(request, f"campaign.{what}", campaign)
    return await _save(request, campaign)


async def pause(request: Request) -> Response:
    return await _transition(request, "paused")


async def resume(request: Request) -> Response:
    return await _transition(request, "resumed")


async def cancel(request: Request) -> Response:
    return await _transition(request, "cancelled")


routes = [
    page("/campaigns", campaign_list, name="campaigns", permission=Permission.CAMPAIGNS),
    page("/campaigns/new", compose, name="campaign_new", permission=Permission.CAMPAIGNS),
    action("/campaigns/new", create, name="campaign_create", permission=Permission.CAMPAIGNS),
    page("/campaigns/{campaign_id}", campaign_page, name="campaign", permission=Permission.CAMPAIGNS),
    page(
        "/campaigns/{campaign_id}/progress",
        progress,
        name="campaign_progress",
        permission=Permission.CAMPAIGNS,
    ),
    action("/campaigns/{campaign_id}/edit", edit, name="campaign_edit", permission=Permission.CAMPAIGNS),
    action(
        "/campaigns/{campaign_id}/schedule",
        schedule,
        name="campaign_schedule",
        permission=Permission.CAMPAIGNS,
    ),
    action(
        "/campaigns/{campaign_id}/approve",
        approve,
        name="campaign_approve",
        permission=Permission.CAMPAIGN_APPROVE,
    ),
    action(
        "/campaigns/{campaign_id}/uncertain",
        uncertain,
        name="campaign_uncertain",
        permission=Permission.CAMPAIGNS,
    ),
    action(
        "/campaigns/{campaign_id}/test",
        send_test,
        name="campaign_test",
        permission=Permission.CAMPAIGNS,
    ),
    action("/campaigns/{campaign_id}/pause", pause, name="campaign_pause", permission=Permission.CAMPAIGNS),
    action(
        "/campaigns/{campaign_id}/resume",
        resume,
        name="campaign_resume",
        permission=Permission.CAMPAIGNS,
    ),
    action(
        "/campaigns/{campaign_id}/cancel",
        cancel,
        name="campaign_cancel",
        permission=Permission.CAMPAIGNS,
    ),
]
