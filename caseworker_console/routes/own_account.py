"""The signed-in person's own account page: who they are here, and their linked Telegram chat
(where a campaign's "send a test to me" goes), linked by a one-time code the bot takes.

The code is shown once, in the answer that makes it; only its keyed hash is stored (storage.staff_link).
"""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routes.accounts import ROLE_LABELS
from caseworker_console.routing import action, page, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.views import local_time
from outreach.campaigns import deep_link
from storage import staff_link
from storage.models import utcnow
from storage.models_staff_link import StaffTelegramLink
from storage.queries import record_audit


async def _render(
    request: Request, *, code: str | None = None, expires: dt.datetime | None = None
) -> Response:
    db = database(request)
    user = signed_in_user(request)
    link: StaffTelegramLink | None = await staff_link.link_of(db, staff_user_id=user.staff_id)
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
    }
    await db.commit()
    # Like every page, not cached (caseworker_console.security): the code is not kept anywhere.
    return pages(request).render(request, "own_account.html", context)


async def account_page(request: Request) -> Response:
    return await _render(request)


async def new_code(request: Request) -> Response:
    """A one-time code, shown in this answer only; any earlier code stops working."""
    db = database(request)
    user = signed_in_user(request)
    now = utcnow()
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


routes = [
    page("/account", account_page, name="account", permission=Permission.SIGNED_IN),
    action("/account/telegram/code", new_code, name="account_telegram_code", permission=Permission.SIGNED_IN),
    action(
        "/account/telegram/unlink", unlink, name="account_telegram_unlink", permission=Permission.SIGNED_IN
    ),
]
