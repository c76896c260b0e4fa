"""The referrals tab: a referral to a partner from one of the plan's activities, made only under a
current consent to share data for case work, then tracked sent → accepted → done (or declined).

Each referral and each change of its status is audited with codes only (partner, status). A
second referral of the same activity to the same partner while one is still open is refused, so
a double tap makes one referral.
"""

from __future__ import annotations

import dataclasses
import uuid

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console import formview, i18n
from caseworker_console.casetabs import audit_view, tab_context
from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routing import action, page, request_case, request_withdrawn_at, signed_in_user
from caseworker_console.templating import gettext_for, pages
from programme import figures as rules
from programme.cycle import Stage
from programme.forms import SERVICE_AREAS
from programme.plan import PLAN_STAGES
from programme.text import N_
from storage import casework
from storage import plan as plans
from storage.journey import withdrawn_at
from storage.models import utcnow
from storage.models_figures import Partner, Referral
from storage.models_plan import PlanActivity
from storage.queries import record_audit

LOCKED = N_(
    "Referrals are made from the activities of the integration plan, which opens at intervention planning."
)
NO_CONSENT = N_(
    "The beneficiary's current consent does not allow sharing their data with partners: no referral "
    "can be made. Record a new consent first."
)
WITHDRAWN = N_(
    "The beneficiary has stopped taking part and withdrawn their consent: no referral can be made. "
    "Close the case with reason 1."
)
CLOSED = N_("This case is closed. Reopen it first.")
CHOOSE = N_("Choose an activity of the plan and an active partner.")
ALREADY_OPEN = N_("This activity is already referred to this partner and the referral is still open.")
BAD_MOVE = N_("A referral moves from sent to accepted or declined, and from accepted to done or declined.")
UNKNOWN = N_("This referral is not part of this case.")


@dataclasses.dataclass(frozen=True)
class ReferralView:
    id: str
    partner: str
    area: str
    activity: str
    status: str
    status_code: str
    made: str
    changed: str
    moves: list[tuple[str, str]]


@dataclasses.dataclass(frozen=True)
class Choice:
    value: str
    label: str


async def render(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    db = database(request)
    case = request_case(request)
    translate = gettext_for(request)
    locale = i18n.request_locale(request)
    zone = config(request).timezone
    context = await tab_context(request, "referrals")
    areas = {option.value: translate.gettext(option.label) for option in SERVICE_AREAS}
    statuses = {key: translate.gettext(label) for key, label in rules.REFERRAL_STATUSES.items()}
    open_plan = case.stage in PLAN_STAGES or case.stage == Stage.CLOSED
    consent = await casework.has_casework_consent(db, case_id=case.id)
    activities: dict[uuid.UUID, PlanActivity] = {}
    texts: dict[uuid.UUID, str] = {}
    if open_plan:
        keys = crypto(request)
        # The activities' texts only for a reader on the case (permissions.sees_identity).
        hidden = None if context["identity"] else translate.gettext(formview.HIDDEN)
        for activity in (await plans.load_plan(db, case_id=case.id)).activities:
            activities[activity.id] = activity
            texts[activity.id] = hidden or plans.text_of(keys, activity, "text_enc")
    partners = (
        (await db.execute(select(Partner).order_by(Partner.service_area, Partner.name))).scalars().all()
    )
    named = {partner.id: partner for partner in partners}
    made = (
        await db.execute(
            select(Referral).where(Referral.case_id == case.id).order_by(Referral.created_at, Referral.id)
        )
    ).scalars()

    def when(value: object) -> str:
        return i18n.format_local_datetime(value, locale=locale, timezone=zone)  # type: ignore[arg-type]

    referrals = [
        ReferralView(
            id=str(row.id),
            partner=named[row.partner_id].name,
            area=areas.get(named[row.partner_id].service_area, ""),
            activity=texts.get(row.activity_id, ""),
            status=statuses.get(row.status, row.status),
            status_code=row.status,
            made=when(row.created_at),
            changed=when(row.changed_at),
            moves=[
                (move, statuses[move])
                for move in rules.REFERRAL_STATUSES
                if move in rules.REFERRAL_MOVES[row.status]
            ],
        )
        for row in made
    ]
    withdrawn = request_withdrawn_at(request, case) is not None
    note = None
    if not open_plan:
        note = LOCKED
    elif case.stage == Stage.CLOSED:
        note = CLOSED
    elif withdrawn:
        note = WITHDRAWN
    elif not consent:
        note = NO_CONSENT
    can_refer = (
        context["can_write"] and open_plan and consent and not withdrawn and case.stage != Stage.CLOSED
    )
    return pages(request).render(
        request,
        "referrals.html",
        {
            **context,
            "referrals": referrals,
            "note": translate.gettext(note) if note else None,
            "error": translate.gettext(error) if error else None,
            "saved": request.query_params.get("saved") == "1",
            "can_refer": can_refer,
            "can_track": context["can_write"],
            "activities": [
                Choice(str(activity.id), f"{areas.get(activity.service_area, '')}: {texts[activity.id]}")
                for activity in activities.values()
            ],
            "partner_groups": [
                (
                    label,
                    [
                        Choice(str(partner.id), partner.name)
                        for partner in partners
                        if partner.active and partner.service_area == area
                    ],
                )
                for area, label in areas.items()
            ],
        },
        status_code=status_code,
    )


async def referrals_tab(request: Request) -> Response:
    await audit_view(request, "referrals")
    response = await render(request)
    await database(request).commit()
    return response


def _done(request: Request) -> Response:
    code = request_case(request).code
    return RedirectResponse(request.url_for("case_referrals", code=code).path + "?saved=1", status_code=303)


async def refer(request: Request) -> Response:
    db = database(request)
    case = request_case(request)
    user = signed_in_user(request)
    form = await request.form()
    if case.stage == Stage.CLOSED:
        return await render(request, error=CLOSED, status_code=400)
    if case.stage not in PLAN_STAGES:
        return await render(request, error=LOCKED, status_code=400)
    # The withdrawal and the consent are read in the same transaction the referral is written in.
    if await withdrawn_at(db, beneficiary_id=case.beneficiary_id) is not None:
        return await render(request, error=WITHDRAWN, status_code=400)
    if not await casework.has_casework_consent(db, case_id=case.id):
        return await render(request, error=NO_CONSENT, status_code=400)
    activity = await plans.find_activity(db, case=case, activity_id=str(form.get("activity", "")))
    raw_partner = str(form.get("partner", ""))
    partner = (
        await db.get(Partner, int(raw_partner)) if raw_partner.isdigit() and len(raw_partner) < 10 else None
    )
    if activity is None or partner is None or not partner.active:
        return await render(request, error=CHOOSE, status_code=400)
    already = await db.execute(
        select(Referral.id).where(
            Referral.activity_id == activity.id,
            Referral.partner_id == partner.id,
            Referral.status.in_(rules.OPEN_REFERRAL),
        )
    )
    if already.first() is not None:
        return await render(request, error=ALREADY_OPEN, status_code=409)
    now = utcnow()
    referral = Referral(
        case_id=case.id,
        activity_id=activity.id,
        partner_id=partner.id,
        status="sent",
        created_by=user.staff_id,
        created_at=now,
        changed_by=user.staff_id,
        changed_at=now,
    )
    db.add(referral)
    await db.flush()
    await record_audit(
        db,
        actor=user.actor,
        action="referral.made",
        object_type="case",
        object_id=case.code,
        details={"referral": str(referral.id), "partner": partner.id, "service_area": partner.service_area},
    )
    await db.commit()
    return _done(request)


async def track(request: Request) -> Response:
    db = database(request)
    case = request_case(request)
    user = signed_in_user(request)
    form = await request.form()
    try:
        wanted = uuid.UUID(str(form.get("referral", "")))
    except ValueError:
        return await render(request, error=UNKNOWN, status_code=400)
    referral = (
        await db.execute(select(Referral).where(Referral.id == wanted, Referral.case_id == case.id))
    ).scalar_one_or_none()
    if referral is None:
        return await render(request, error=UNKNOWN, status_code=400)
    status = str(form.get("status", ""))
    if referral.status == status:
        # The same change sent twice (a double tap): already done.
        return _done(request)
    if status not in rules.REFERRAL_MOVES.get(referral.status, frozenset()):
        return await render(request, error=BAD_MOVE, status_code=400)
    before = referral.status
    referral.status = status
    referral.changed_by = user.staff_id
    referral.changed_at = utcnow()
    await record_audit(
        db,
        actor=user.actor,
        action="referral.status",
        object_type="case",
        object_id=case.code,
        details={"referral": str(referral.id), "from": before, "to": status},
    )
    await db.commit()
    return _done(request)


routes = [
    page("/cases/{code}/referrals", referrals_tab, name="case_referrals", permission=Permission.CASE_READ),
    action("/cases/{code}/referrals", refer, name="case_referrals_add", permission=Permission.CASE_WRITE),
    action(
        "/cases/{code}/referrals/status",
        track,
        name="case_referrals_status",
        permission=Permission.CASE_WRITE,
    ),
]
