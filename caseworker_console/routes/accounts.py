"""The administrators' accounts page: every account, creating one, disabling and enabling,
unlocking one locked after failed sign-ins, resetting a password (a temporary one, shown once),
changing a role (one that opens more case data waits for a supervisor) and a language."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console import accounts, i18n
from caseworker_console.config import config
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routing import action, page, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.throttle import SignInThrottle
from programme.text import N_
from storage import staff
from storage.models import StaffUser
from storage.queries import record_audit

CANNOT_DISABLE_SELF = N_("You cannot disable your own account.")
CANNOT_CHANGE_OWN_ROLE = N_("You cannot change your own role.")
ROLE_WAITS = N_("The role of {username} is changed; the account waits for a supervisor's approval.")
ROLE_CHANGED = N_("The role of {username} is changed.")
LANGUAGE_CHANGED = N_("The language of {username} is changed.")
FOCAL_SUPERVISORS_ONLY = N_("Only a supervisor can be a focal point for complaints.")

ROLE_LABELS: dict[str, str] = {
    "caseworker": N_("Caseworker"),
    "supervisor": N_("Supervisor"),
    "outreach": N_("Outreach officer"),
    "admin": N_("Administrator"),
}


async def render(
    request: Request,
    *,
    error: str | None = None,
    entered: dict[str, str] | None = None,
    status_code: int = 200,
    done: str | None = None,
    temporary: tuple[str, str] | None = None,
) -> Response:
    db = database(request)
    translate = gettext_for(request)
    locale = i18n.request_locale(request)
    zone = config(request).timezone
    now = config(request).clock()
    people = [
        {
            "id": person.id,
            "username": person.username,
            "display_name": person.display_name,
            "role": translate.gettext(ROLE_LABELS.get(person.role, person.role)),
            "role_code": person.role,
            "language_code": person.language,
            "language": i18n.LANGUAGES.get(person.language, person.language),
            "active": person.active,
            "awaiting": person.awaiting_approval,
            "pending": translate.gettext(ROLE_LABELS.get(person.pending_role, person.pending_role))
            if person.pending_role
            else None,
            "supervisor": person.role == "supervisor",
            "focal_point": person.focal_point,
            "locked": accounts.is_locked(person, now),
            "last_login": i18n.format_local_datetime(person.last_login_at, locale=locale, timezone=zone)
            if person.last_login_at
            else None,
        }
        for person in await staff.all_users(db)
    ]
    return pages(request).render(
        request,
        "accounts.html",
        {
            "active": "accounts",
            "people": people,
            "error": error,
            "done": done,
            # (username, password): shown in this answer only, never stored or logged.
            "temporary": temporary,
            "entered": entered or {},
            "roles": [(role, translate.gettext(ROLE_LABELS[role])) for role in accounts.ROLES],
            "languages": list(i18n.LANGUAGES.items()),
            "me": signed_in_user(request).account.id,
        },
        status_code=status_code,
    )


async def accounts_page(request: Request) -> Response:
    response = await render(request)
    await database(request).commit()
    return response


async def create(request: Request) -> Response:
    db = database(request)
    form = await request.form()
    entered = {
        name: str(form.get(name, ""))[:200] for name in ("username", "display_name", "role", "language")
    }
    try:
        await accounts.create_user(
            db,
            username=entered["username"],
            password=str(form.get("password", "")),
            role=entered["role"],
            display_name=entered["display_name"],
            language=entered["language"],
            actor=signed_in_user(request).actor,
            needs_approval=True,
            temporary_password=True,
        )
    except accounts.AccountError as refused:
        await db.rollback()
        message = refused.translated(gettext_for(request))
        return await render(request, error=message, entered=entered, status_code=400)
    await db.commit()
    return RedirectResponse(request.url_for("accounts").path, status_code=303)


async def target_account(request: Request) -> StaffUser:
    """The account named in the path; 404 for anything that is not one."""
    raw = str(request.path_params["user_id"])
    target = (
        await staff.find_user(database(request), user_id=int(raw))
        if raw.isdigit() and len(raw) < 10
        else None
    )
    if target is None:
        raise HTTPException(status_code=404)
    return target


async def set_active(request: Request) -> Response:
    """Disable (which ends the account's sessions at once) or enable an account; never one's own.
    Enabling a caseworker or supervisor puts the account up for a supervisor's approval instead."""
    db = database(request)
    user = signed_in_user(request)
    target = await target_account(request)
    form = await request.form()
    active = form.get("active") == "1"
    if target.id == user.staff_id and not active:
        return await render(request, error=gettext_for(request).gettext(CANNOT_DISABLE_SELF), status_code=400)
    if active:
        # A role that reads cases is not enabled here: it waits for a supervisor (the second person).
        await accounts.enable(db, user=target, actor=user.actor)
    else:
        await staff.set_user_active(db, user_id=target.id, active=False)
        await record_audit(
            db,
            actor=user.actor,
            action="staff.disabled",
            object_type="staff_user",
            object_id=str(target.id),
            details={},
        )
    await db.commit()
    return RedirectResponse(request.url_for("accounts").path, status_code=303)


async def set_focal_point(request: Request) -> Response:
    """Name a supervisor a focal point for complaints, or no longer (audited): focal points read
    the complaints about staff and what people are afraid to tell their caseworker."""
    db = database(request)
    target = await target_account(request)
    form = await request.form()
    if target.role != "supervisor":
        return await render(
            request, error=gettext_for(request).gettext(FOCAL_SUPERVISORS_ONLY), status_code=400
        )
    wanted = form.get("focal_point") == "1"
    if target.focal_point != wanted:
        target.focal_point = wanted
        await record_audit(
            db,
            actor=signed_in_user(request).actor,
            action="staff.focal_point" if wanted else "staff.focal_point_removed",
            object_type="staff_user",
            object_id=str(target.id),
            details={},
        )
        await db.commit()
    return RedirectResponse(request.url_for("accounts").path, status_code=303)


async def unlock(request: Request) -> Response:
    """Lift the lock of an account locked after failed sign-ins (audited)."""
    db = database(request)
    target = await target_account(request)
    await accounts.unlock(db, user=target, actor=signed_in_user(request).actor)
    await db.commit()
    throttle: SignInThrottle = request.app.state.throttle
    throttle.forget(target.username)
    return RedirectResponse(request.url_for("accounts").path, status_code=303)


async def reset_password(request: Request) -> Response:
    """A temporary password for the account, shown once in this answer; the holder must change it."""
    db = database(request)
    target = await target_account(request)
    if target.id == signed_in_user(request).staff_id:
        # One's own password is changed on "My account", after the current one.
        return RedirectResponse(request.url_for("account").path, status_code=303)
    password = await accounts.reset_password(db, user=target, actor=signed_in_user(request).actor)
    await db.commit()
    throttle: SignInThrottle = request.app.state.throttle
    throttle.forget(target.username)
    # Not a redirect: the password exists only in this answer (pages are never cached).
    return await render(request, temporary=(target.username, password))


async def change_role(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    target = await target_account(request)
    translate = gettext_for(request)
    if target.id == user.staff_id:
        return await render(request, error=translate.gettext(CANNOT_CHANGE_OWN_ROLE), status_code=400)
    form = await request.form()
    username = target.username
    try:
        holds = await accounts.change_role(
            db, user=target, role=str(form.get("role", ""))[:32], actor=user.actor
        )
    except accounts.AccountError as refused:
        await db.rollback()
        message = refused.translated(translate)
        return await render(request, error=message, status_code=400)
    await db.commit()
    done = translate.gettext(ROLE_CHANGED if holds else ROLE_WAITS).format(username=username)
    return await render(request, done=done)


async def change_language(request: Request) -> Response:
    db = database(request)
    target = await target_account(request)
    translate = gettext_for(request)
    form = await request.form()
    username = target.username
    try:
        await accounts.change_language(
            db, user=target, language=str(form.get("language", ""))[:16], actor=signed_in_user(request).actor
        )
    except accounts.AccountError as refused:
        await db.rollback()
        message = refused.translated(translate)
        return await render(request, error=message, status_code=400)
    await db.commit()
    return await render(request, done=translate.gettext(LANGUAGE_CHANGED).format(username=username))


routes = [
    page("/accounts", accounts_page, name="accounts", permission=Permission.ACCOUNTS),
    action("/accounts", create, name="accounts_create", permission=Permission.ACCOUNTS),
    action("/accounts/{user_id}/active", set_active, name="account_active", permission=Permission.ACCOUNTS),
    action("/accounts/{user_id}/unlock", unlock, name="account_unlock", permission=Permission.ACCOUNTS),
    action(
        "/accounts/{user_id}/password", reset_password, name="account_reset", permission=Permission.ACCOUNTS
    ),
    action("/accounts/{user_id}/role", change_role, name="account_role", permission=Permission.ACCOUNTS),
    action(
        "/accounts/{user_id}/language",
        change_language,
        name="account_set_language",
        permission=Permission.ACCOUNTS,
    ),
    action(
        "/accounts/{user_id}/focal-point",
        set_focal_point,
        name="account_focal_point",
        permission=Permission.ACCOUNTS,
    ),
]
