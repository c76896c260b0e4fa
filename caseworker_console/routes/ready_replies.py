"""Ready replies: supervisors add, correct and retire the replies caseworkers send with one click, a
label in the console's languages and a text in each of the bot's. Every change is audited (which
languages, never the texts: the page shows them).

The texts are not personal data (a reply is for anyone; the form says so) and are kept in clear.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console import i18n
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routing import action, page, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.views import FIX_BELOW
from programme import ready_replies as rules
from programme.assessment import CONSENT_LANGUAGES
from programme.text import N_
from storage.models_organisation import ReadyReply
from storage.organisation import find_ready_reply, ready_replies, save_ready_reply
from storage.queries import record_audit
from texts.bidi import isolate

NOT_FOUND = N_("This ready reply does not exist.")
LANGUAGE_NAMES = {option.value: option.label for option in CONSENT_LANGUAGES}


@dataclasses.dataclass(frozen=True)
class ReplyView:
    id: int
    label: str
    # (code, language name, text) for every bot language, the text empty where none is given.
    texts: list[tuple[str, str, str]]
    lacking: list[str]  # names of the languages it has no text in
    active: bool


def reply_view(reply: ReadyReply, locale: str) -> ReplyView:
    texts = reply.texts or {}
    return ReplyView(
        id=reply.id,
        label=rules.label_in(reply.labels or {}, locale),
        texts=[(code, LANGUAGE_NAMES[code], texts.get(code, "")) for code in LANGUAGE_NAMES],
        # Each name isolated: a right-to-left one in the list keeps its place.
        lacking=[isolate(LANGUAGE_NAMES[code]) for code in rules.lacking(texts)],
        active=reply.active,
    )


async def list_page(request: Request) -> Response:
    locale = i18n.request_locale(request)
    replies = await ready_replies(database(request), active_only=False)
    return pages(request).render(
        request,
        "ready_replies.html",
        {
            "active": "ready_replies",
            "replies": [reply_view(reply, locale) for reply in replies],
            "saved": request.query_params.get("saved") == "1",
        },
    )


def _values(reply: ReadyReply | None) -> dict[str, str]:
    if reply is None:
        return {"active": "1"}
    values = {f"label_{code}": text for code, text in (reply.labels or {}).items()}
    values.update({f"text_{code}": text for code, text in (reply.texts or {}).items()})
    values["active"] = "1" if reply.active else ""
    return values


async def render_form(
    request: Request,
    reply: ReadyReply | None,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, rules.Message] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    translate = gettext_for(request)
    errors = errors or {}
    summary = error or (FIX_BELOW if errors else None)
    return pages(request).render(
        request,
        "ready_reply_form.html",
        {
            "active": "ready_replies",
            "reply": reply,
            "title": rules.label_in(reply.labels or {}, i18n.request_locale(request)) if reply else None,
            "values": values if values is not None else _values(reply),
            "errors": {field: translate.gettext(msgid) % params for field, (msgid, params) in errors.items()},
            "summary": translate.gettext(summary) if summary else None,
            "label_languages": [(code, i18n.LANGUAGES[code]) for code in rules.LABEL_LANGUAGES],
            "languages": list(LANGUAGE_NAMES.items()),
            "limits": {"label": rules.LABEL_MAX, "text": rules.TEXT_MAX},
            "placeholders": [
                ("{" + name + "}", translate.gettext(meaning)) for name, meaning in rules.PLACEHOLDERS.items()
            ],
        },
        status_code=status_code,
    )


async def edit_page(request: Request) -> Response:
    asked = request.query_params.get("reply")
    reply = await find_ready_reply(database(request), reply_id=asked) if asked else None
    if asked and reply is None:
        return await render_form(request, None, error=NOT_FOUND, status_code=404)
    return await render_form(request, reply)


async def save(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    form: Any = await request.form()
    asked = form.get("reply")
    reply = await find_ready_reply(db, reply_id=asked) if asked else None
    if asked and reply is None:
        return await render_form(request, None, error=NOT_FOUND, status_code=400)
    labels, texts, values, errors = rules.read_form(form)
    values["active"] = "1" if form.get("active") == "1" else ""
    if errors:
        return await render_form(request, reply, values=values, errors=errors, status_code=400)
    new = reply is None
    saved = await save_ready_reply(
        db, reply, labels=labels, texts=texts, active=values["active"] == "1", staff_id=user.staff_id
    )
    await record_audit(
        db,
        actor=user.actor,
        action="ready_reply.added" if new else "ready_reply.changed",
        object_type="ready_reply",
        object_id=str(saved.id),
        details={"languages": sorted(texts), "active": saved.active},
    )
    await db.commit()
    return RedirectResponse(request.url_for("ready_replies").path + "?saved=1", status_code=303)


routes = [
    page("/ready-replies", list_page, name="ready_replies", permission=Permission.READY_REPLIES),
    page("/ready-replies/edit", edit_page, name="ready_reply_edit", permission=Permission.READY_REPLIES),
    action("/ready-replies/save", save, name="ready_reply_save", permission=Permission.READY_REPLIES),
]
