"""The conversation tab: the beneficiary's messages and the caseworker's replies, sent through the outbox."""

from __future__ import annotations

import functools
import uuid

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console import casework as work
from caseworker_console import i18n
from caseworker_console.casetabs import CLOSED, commit_change, open_tab, tab_context
from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routing import action, identity_shown, page, request_case, signed_in_user
from caseworker_console.templating import gettext_for, pages
from caseworker_console.viewmodels import conversation as view
from programme.cycle import Stage
from programme.text import N_
from storage import casework, outbox
from storage.journey import case_messages
from storage.models import Case, OutboxMessage, utcnow
from storage.organisation import find_ready_reply, ready_replies
from storage.queries import record_audit
from storage.sealing import unseal_json
from wording.languages import locale_of
from wording.replies import ready_reply_text

# Telegram takes at most 4,096 characters; escaping for HTML can lengthen a text, so keep room.
MAX_REPLY = 4000

EMPTY_REPLY = N_("Write a reply first.")
LONG_REPLY = N_("A reply can be at most 4,000 characters.")
UNKNOWN_CANNED = N_("Choose one of the ready replies.")
NO_TEXT_IN_LANGUAGE = N_(
    "This ready reply has no text in %(language)s, the beneficiary's language: nothing was sent. Write "
    "your reply yourself, or ask a supervisor to add the text."
)
NOTHING_UNCERTAIN = N_("That message is no longer waiting for a decision: the page now shows how it stands.")


async def reader_language(request: Request, case: Case) -> str:
    """The language the person reads a reply in: the one the line above it is in (wording.replies)."""
    beneficiary = await casework.beneficiary_of(database(request), case=case)
    return locale_of(beneficiary.language, case.language)


async def render(
    request: Request,
    *,
    draft: str = "",
    error: str | None = None,
    error_values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    db = database(request)
    case = request_case(request)
    keys = crypto(request)
    translate = gettext_for(request)
    rows = await case_messages(db, case_id=case.id)
    people = await casework.staff_by_id(db, ids=[row.staff_id for row in rows if row.staff_id])
    # A reader who is not on the case sees that messages were written, when and of which kind,
    # never what they say (permissions.sees_identity): nothing is decrypted for them.
    reader = view.Reader(
        translate=translate,
        locale=i18n.request_locale(request),
        zone=config(request).timezone,
        reveal=functools.partial(unseal_json, keys) if identity_shown(request) else None,
    )
    uncertain = await outbox.uncertain_to(db, beneficiary_id=case.beneficiary_id)
    messages, waiting = view.build_conversation(rows, uncertain, people=people, reader=reader)
    context = await tab_context(request, "conversation")
    language = await reader_language(request, case)
    shipped = await ready_replies(db, active_only=True)
    # Previewed as they would be sent now: placeholders filled from the settings saved now.
    organisation = await config(request).organisation(db)
    return pages(request).render(
        request,
        "conversation.html",
        {
            **context,
            "error": (translate.gettext(error) % error_values if error_values else translate.gettext(error))
            if error
            else None,
            "sent": request.query_params.get("sent") == "1",
            "messages": messages,
            "uncertain": waiting,
            "unread": sum(1 for message in messages if message.unread),
            "draft": draft,
            "max_reply": MAX_REPLY,
            "canned": view.ready_reply_views(
                shipped, language=language, locale=reader.locale, hours=organisation.hours
            ),
            "reader_language": view.LANGUAGE_NAMES.get(language, language),
            "caseworker_active": case.caseworker_active,
            "handed_off": case.handoff_at is not None,
            "topic": view.topic(case.handoff_reason, reader),
        },
        status_code=status_code,
    )


async def conversation_tab(request: Request) -> Response:
    return await open_tab(request, "conversation", render)


async def reply(request: Request) -> Response:
    db = database(request)
    user = signed_in_user(request)
    case = request_case(request)
    form = await request.form()
    typed = form.get("text")
    draft = typed.strip() if isinstance(typed, str) else ""
    chosen = form.get("canned")
    canned = chosen if isinstance(chosen, str) and chosen else None
    if canned is not None:
        ready = await find_ready_reply(db, reply_id=canned)
        if ready is None or not ready.active:
            return await render(request, error=UNKNOWN_CANNED, status_code=400)
        language = await reader_language(request, case)
        # Never in another language than the person's: the page shows such a reply as not sendable.
        text = (ready.texts or {}).get(language, "")
        if not text:
            name = view.LANGUAGE_NAMES.get(language, language)
            return await render(
                request, error=NO_TEXT_IN_LANGUAGE, error_values={"language": name}, status_code=400
            )
        # Its placeholders filled in the person's language from what is saved as it is sent.
        organisation = await config(request).organisation(db)
        text = ready_reply_text(text, language, hours=organisation.hours)
    else:
        text = draft
    if not text:
        return await render(request, error=EMPTY_REPLY, status_code=400)
    if len(text) > MAX_REPLY:
        return await render(request, draft=draft, error=LONG_REPLY, status_code=400)
    if case.stage == Stage.CLOSED:
        return await render(request, draft=draft, error=CLOSED, status_code=400)
    try:
        await work.reply(
            db, crypto(request), case=case, text=text, canned=canned, staff_id=user.staff_id, actor=user.actor
        )
    except work.StaleCase:
        await work.discard(db, case)
        return await render(request, draft=draft, error=work.STALE_MESSAGE, status_code=409)
    await db.commit()
    return RedirectResponse(
        request.url_for("case_conversation", code=case.code).path + "?sent=1", status_code=303
    )


async def uncertain(request: Request) -> Response:
    """The caseworker's choice for one message left uncertain: send it again (the person may get it
    twice) or leave it; only a reply or reminder of this case's person, not yet decided."""
    db = database(request)
    case = request_case(request)
    form = await request.form()
    choice = form.get("choice")
    try:
        message_id = uuid.UUID(str(form.get("message")))
    except ValueError:
        message_id = None
    if choice not in ("resend", "leave") or message_id is None:
        raise HTTPException(status_code=400)
    if choice == "resend" and case.stage == Stage.CLOSED:
        return await render(request, error=CLOSED, status_code=400)
    this = (
        OutboxMessage.id == message_id,
        OutboxMessage.beneficiary_id == case.beneficiary_id,
        OutboxMessage.campaign_id.is_(None),
        OutboxMessage.lane.in_(list(view.UNCERTAIN_KINDS)),
    )
    if choice == "resend":
        count = await outbox.send_uncertain_again(db, *this, not_before=utcnow())
    else:
        count = await outbox.leave_uncertain(db, *this)
    if not count:
        return await render(request, error=NOTHING_UNCERTAIN, status_code=409)
    await record_audit(
        db,
        actor=signed_in_user(request).actor,
        action="case.uncertain_resent" if choice == "resend" else "case.uncertain_left",
        object_type="case",
        object_id=case.code,
        details={},
    )
    await db.commit()
    return RedirectResponse(request.url_for("case_conversation", code=case.code).path, status_code=303)


async def mark_read(request: Request) -> Response:
    db = database(request)
    case = request_case(request)
    await work.mark_read(db, case=case, actor=signed_in_user(request).actor)
    await db.commit()
    return RedirectResponse(request.url_for("case_conversation", code=case.code).path, status_code=303)


async def hand_back(request: Request) -> Response:
    """Give the conversation back to the bot; a form made from an older case is refused."""
    db = database(request)
    case = request_case(request)
    form = await request.form()

    async def change() -> None:
        await work.hand_back(db, case=case, actor=signed_in_user(request).actor)

    return await commit_change(
        request,
        version=form.get("version"),
        change=change,
        render=render,
        tab="case_conversation",
        saved=False,
    )


routes = [
    page(
        "/cases/{code}/conversation",
        conversation_tab,
        name="case_conversation",
        permission=Permission.CASE_READ,
    ),
    action(
        "/cases/{code}/conversation/reply",
        reply,
        name="case_conversation_reply",
        permission=Permission.CASE_WRITE,
    ),
    action(
        "/cases/{code}/conversation/uncertain",
        uncertain,
        name="case_conversation_uncertain",
        permission=Permission.CASE_WRITE,
    ),
    action(
        "/cases/{code}/conversation/read",
        mark_read,
        name="case_conversation_read",
        permission=Permission.CASE_WRITE,
    ),
    action(
        "/cases/{code}/conversation/hand-back",
        hand_back,
        name="case_conversation_hand_back",
        permission=Permission.CASE_WRITE,
    ),
]
