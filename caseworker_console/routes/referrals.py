"""The referrals tab: a referral to a partner from one of the plan's activities, made only under a
current consent to share data for case work, then tracked sent → accepted → done (or declined).

Each referral and each change of its status is audited with codes only (partner, status). A
second referral of the same activity to the same partner while one is still open is refused, so
a double tap makes one referral.
"""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from caseworker_console import i18n
from caseworker_console.casetabs import audit_view, tab_context
from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routing import action, page, request_case, request_withdrawn_at, saved, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.viewmodels import referrals as view
from caseworker_console.viewmodels.referrals import CLOSED, LOCKED, NO_CONSENT, WITHDRAWN
from programme import figures as rules
from programme.cycle import Stage
from programme.plan import PLAN_STAGES
from programme.text import N_
from storage import casework
from storage import plan as plans
from storage import referrals as store
from storage.journey import withdrawn_at
from storage.models import Case
from storage.models_figures import Referral
from storage.queries import record_audit

CHOOSE = N_("Choose an activity of the plan and an active partner.")
ALREADY_OPEN = N_("This activity is already referred to this partner and the referral is still open.")
BAD_MOVE = N_("A referral moves from sent to accepted or declined, and from accepted to done or declined.")
UNKNOWN = N_("This referral is not part of this case.")


async def load(request: Request, case: Case, *, identity: bool) -> view.Loaded:
    """The case's referrals, partners and plan activities; the activities' texts only for a reader
    who may see them (nothing is decrypted otherwise)."""
    db = database(request)
    activities = (await plans.load_plan(db, case_id=case.id)).activities if view.plan_open(case.stage) else []
    keys = crypto(request)
    return view.Loaded(
        stage=case.stage,
        consent=await casework.has_casework_consent(db, case_id=case.id),
        withdrawn=request_withdrawn_at(request, case) is not None,
        activities=activities,
        texts={
            activity.id: plans.text_of(keys, activity, "text_enc") if identity else None
            for activity in activities
        },
        partners=await store.all_partners(db),
        referrals=await store.case_referrals(db, case_id=case.id),
    )


async def render(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    translate = gettext_for(request)
    context = await tab_context(request, "referrals")
    loaded = await load(request, request_case(request), identity=context["identity"])
    tab = view.build_referrals(
        loaded,
        can_write=context["can_write"],
        translate=translate,
        locale=i18n.request_locale(request),
        zone=config(request).timezone,
    )
    return pages(request).render(
        request,
        "referrals.html",
        {
            **context,
            "referrals": tab.referrals,
            "note": tab.note,
            "error": translate.gettext(error) if error else None,
            "saved": request.query_params.get("saved") == "1",
            "can_refer": tab.can_refer,
            "can_track": context["can_write"],
            "activities": tab.activities,
            "partner_groups": tab.partner_groups,
        },
        status_code=status_code,
    )


async def referrals_tab(request: Request) -> Response:
    await audit_view(request, "referrals")
    response = await render(request)
    await database(request).commit()
    return response


def _done(request: Request) -> Response:
    return saved(request, "case_referrals", code=request_case(request).code)


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
    partner = await store.partner(db, partner_id=str(form.get("partner", "")))
    if activity is None or partner is None or not partner.active:
        return await render(request, error=CHOOSE, status_code=400)
    if await store.open_referral_exists(
        db, activity_id=activity.id, partner_id=partner.id, open_statuses=rules.OPEN_REFERRAL
    ):
        return await render(request, error=ALREADY_OPEN, status_code=409)
    now = config(request).clock()
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
    referral = await store.find_referral(db, case_id=case.id, referral_id=wanted)
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
    referral.changed_at = config(request).clock()
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
