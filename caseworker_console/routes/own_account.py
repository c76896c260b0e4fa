"""The signed-in person's own account page: who they are here, their password and the console's
language, and their linked Telegram chat (where a campaign's "send a test to me" goes, and the alerts
about their cases they chose, outside their quiet hours), linked by a one-time code the bot takes.

The code is shown once, in the answer that makes it; only its keyed hash is stored (storage.staff_link).
A holder of a temporary password lands here and can do nothing else until they choose their own.
"""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console import accounts, i18n
from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.permissions import Permission, allows, feedback_routings
from caseworker_console.routes.accounts import ROLE_LABELS
from caseworker_console.routing import action, page, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.views import local_time
from outreach.campaigns import deep_link
from programme import staff_alerts as staff_alerts_rules
from programme.text import N_
from storage import staff, staff_alerts, staff_link
from storage.models_staff_link import StaffTelegramLink
from storage.queries import record_audit

QUIET_HOURS_ERROR = N_(
    "Give both times of the quiet hours, as hours and minutes (21:00), different from each other; "
    "or neither, for no quiet hours."
)


async def _render(
    request: Request,
    *,
    code: str | None = None,
    expires: dt.datetime | None = None,
    password_error: str | None = None,
    alerts_error: str | None = None,
    status_code: int = 200,
) -> Response:
    db = database(request)
    user = signed_in_user(request)
    link: StaffTelegramLink | None = await staff_link.link_of(db, staff_user_id=user.staff_id)
    choice = await staff_alerts.choice_of(db, staff_user_id=user.staff_id)
    username = config(request).bot_username
    context = {
        "active": "account",
        "username": user.account.username,
        "display_name": user.display_name,
        "role": gettext_for(request).gettext(ROLE_LABELS.get(user.role, user.role)),
        "linked_since": local_time(request, link.linked_at) if link is not None else None,
        "code": code,
        "code_link": deep_link(username, staff_link.DEEP_LINK_PREFIX + code) if code and username else None,
        "code_expires": local_time(request, expires) if expires is not None else None,
        "must_change": user.must_change_password,
        "password_error": password_error,
        "password_changed": request.query_params.get("changed") == "password",
        "language_changed": request.query_params.get("changed") == "language",
        "languages": list(i18n.LANGUAGES.items()),
        "language": user.language,
        # Alerts on the linked chat are about cases: for those who work on them.
        "gets_alerts": allows(user.role, Permission.CASES_LIST),
        "supervisor": user.role == "supervisor",
        # Overdue feedback is told to its readers (the feedback page's rule).
        "reads_feedback": bool(feedback_routings(role=user.role, focal_point=user.focal_point)),
        "feedback_days": config(request).alert_policy.feedback_answer.days,
        "choice": choice,
        "quiet_from": choice.quiet.start.strftime("%H:%M") if choice.quiet else "",
        "quiet_until": choice.quiet.end.strftime("%H:%M") if choice.quiet else "",
        "escalate_minutes": int(config(request).alert_policy.escalate_after.total_seconds() // 60),
        "alerts_error": alerts_error,
        "alerts_changed": request.query_params.get("changed") == "alerts",
    }
    await db.commit()
    # Like every page, not cached (caseworker_console.security): the code is not kept anywhere.
    return pages(request).render(request, "own_account.html", context, status_code=status_code)


async def account_page(request: Request) -> Response:
    return await _render(request)


async def new_code(request: Request) -> Response:
    """A one-time code, shown in this answer only; any earlier code stops working."""
    db = database(request)
    user = signed_in_user(request)
    now = config(request).clock()
    code = await staff_link.new_code(db, crypto(request), staff_user_id=user.staff_id, now=now)
    await record_audit(
        db,
        actor=user.actor,
        action="staff.telegram_code",
        object_type="staff_user",
        object_id=str(user.staff_id),
        details={},
    )
    await db.commit()
    return await _render(request, code=code, expires=now + staff_link.CODE_LIFETIME)


async def unlink(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    existed = await staff_link.unlink(db, staff_user_id=user.staff_id)
    if existed:
        await record_audit(
            db,
            actor=user.actor,
            action="staff.telegram_unlinked",
            object_type="staff_user",
            object_id=str(user.staff_id),
            details={},
        )
    await db.commit()
    return RedirectResponse(request.url_for("account").path, status_code=303)


def _account_url(request: Request, changed: str) -> str:
    return request.url_for("account").path + "?changed=" + changed


async def change_password(request: Request) -> Response:
    """The holder's new password, after their current one; their other sessions end."""
    db = database(request)
    user = signed_in_user(request)
    form = await request.form()
    account = await staff.find_user(db, user_id=user.staff_id)
    if account is None:  # disabled and removed meanwhile: the session is gone too
        return RedirectResponse(request.url_for("login").path, status_code=303)
    try:
        await accounts.change_own_password(
            db,
            user=account,
            current=str(form.get("current", ""))[: accounts.PASSWORD_MAX_LENGTH + 1],
            new=str(form.get("new", ""))[: accounts.PASSWORD_MAX_LENGTH + 1],
            repeated=str(form.get("repeated", ""))[: accounts.PASSWORD_MAX_LENGTH + 1],
            keep_session=user.session_id,
        )
    except accounts.AccountError as refused:
        await db.rollback()
        message = refused.translated(gettext_for(request))
        return await _render(request, password_error=message, status_code=400)
    await db.commit()
    return RedirectResponse(_account_url(request, "password"), status_code=303)


async def change_language(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    form = await request.form()
    account = await staff.find_user(db, user_id=user.staff_id)
    language = i18n.supported(str(form.get("language", "")))
    if account is None or language is None:
        # Only a forged form names a language the list does not offer.
        await db.rollback()
        return await _render(request, status_code=400)
    await accounts.change_language(db, user=account, language=language, actor=user.actor)
    await db.commit()
    return RedirectResponse(_account_url(request, "language"), status_code=303)


async def change_alerts(request: Request) -> Response:
    """Which alerts reach the linked chat, and the quiet hours (office time) they keep; audited."""
    db = database(request)
    user = signed_in_user(request)
    form = await request.form()
    chosen = {name: form.get(name) == "1" for name in ("urgent", "messages", "waiting", "feedback")}
    quiet_from, quiet_until = (
        str(form.get(name) or "").strip()[:5] for name in ("quiet_from", "quiet_until")
    )
    try:
        quiet = staff_alerts_rules.quiet_hours(quiet_from, quiet_until)
    except ValueError:
        quiet = None
    if (quiet_from or quiet_until) and quiet is None:
        await db.rollback()
        error = gettext_for(request).gettext(QUIET_HOURS_ERROR)
        return await _render(request, alerts_error=error, status_code=400)
    await staff_alerts.save_choice(
        db,
        staff_user_id=user.staff_id,
        **chosen,
        quiet_from=quiet_from or None,
        quiet_until=quiet_until or None,
    )
    await record_audit(
        db,
        actor=user.actor,
        action="staff.alerts_chosen",
        object_type="staff_user",
        object_id=str(user.staff_id),
        details={**chosen, "quiet_from": quiet_from or None, "quiet_until": quiet_until or None},
    )
    await db.commit()
    return RedirectResponse(_account_url(request, "alerts"), status_code=303)


routes = [
    page("/account", account_page, name="account", permission=Permission.SIGNED_IN),
    action("/account/password", change_password, name="account_password", permission=Permission.SIGNED_IN),
    action("/account/language", change_language, name="account_language", permission=Permission.SIGNED_IN),
    # Alerts are about cases: for those who work on them.
    action("/account/alerts", change_alerts, name="account_alerts", permission=Permission.CASES_LIST),
    action("/account/telegram/code", new_code, name="account_telegram_code", permission=Permission.SIGNED_IN),
    action(
        "/account/telegram/unlink", unlink, name="account_telegram_unlink", permission=Permission.SIGNED_IN
    ),
]
