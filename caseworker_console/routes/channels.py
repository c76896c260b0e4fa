"""Outreach channels: the list with each channel's counts, making and changing one, its flyer.

For outreach officers and supervisors (Permission.CHANNELS). The counts are of cases, never their
content, and a count under five is shown as "<5".
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from caseworker_console.config import config
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routing import action, page, signed_in_user
from caseworker_console.templating import gettext_for, pages
from programme.channels import NAME_MAX, ChannelKind, ChannelRefused, deep_link, masked, new_code, valid_code
from programme.text import N_
from storage import channels as store
from storage.models_channels import Channel
from storage.queries import record_audit
from wording.languages import LANGUAGES, RIGHT_TO_LEFT

KIND_LABELS: dict[ChannelKind, str] = {
    ChannelKind.UNIVERSITY: N_("University"),
    ChannelKind.PUBLIC_SERVICE_CENTRE: N_("Public service centre"),
    ChannelKind.HOSPITAL: N_("Hospital"),
    ChannelKind.COMMUNITY_MEETING: N_("Community meeting"),
    ChannelKind.OTHER: N_("Other"),
}

NAME_NEEDED = N_("Give the channel a name.")
NAME_TOO_LONG = N_("A channel's name is at most 120 characters.")
BAD_KIND = N_("Choose the kind of channel.")
BAD_CODE = N_(
    "A code is 1 to 64 of the letters A-Z and a-z, digits, _ and -; "
    '"bot" and "console" are taken. Leave it empty for a random one.'
)
CODE_TAKEN = N_("Another channel already has this code (capitals aside). Choose another.")
NO_LANGUAGES = N_("Choose at least one language for the flyer.")
NO_USERNAME = N_(
    "The bot's username is not known, so there is no link to print. "
    "Set TELEGRAM_BOT_USERNAME, or start the console with the bot's token."
)


@dataclasses.dataclass(frozen=True, slots=True)
class ChannelEntry:
    """What is entered to make or change a channel, checked."""

    name: str
    kind: str
    languages: list[str]


def read_entry(form: FormData) -> ChannelEntry:
    name = " ".join(str(form.get("name", "")).split())
    if not name:
        raise ChannelRefused(NAME_NEEDED)
    if len(name) > NAME_MAX:
        raise ChannelRefused(NAME_TOO_LONG)
    kind = str(form.get("kind", ""))
    if kind not in set(ChannelKind):
        raise ChannelRefused(BAD_KIND)
    chosen = {str(value) for value in form.getlist("languages")}
    # In the bot's order, whatever order the form sent them in; anything unknown is dropped.
    languages = [language for language in LANGUAGES if language in chosen]
    if not languages:
        raise ChannelRefused(NO_LANGUAGES)
    return ChannelEntry(name, kind, languages)


def _entered(form: FormData | None) -> dict[str, Any]:
    if form is None:
        # The code is proposed in the form, so a double-submitted form makes one channel (see create).
        return {"languages": list(LANGUAGES), "code": new_code()}
    return {
        "name": str(form.get("name", ""))[:200],
        "code": str(form.get("code", ""))[:100],
        "kind": str(form.get("kind", "")),
        "languages": [str(value) for value in form.getlist("languages")],
    }


def _choices(request: Request) -> dict[str, Any]:
    translate = gettext_for(request)
    return {
        "kinds": [(kind.value, translate.gettext(label)) for kind, label in KIND_LABELS.items()],
        "flyer_languages": [(code, name, code in RIGHT_TO_LEFT) for code, name in LANGUAGES.items()],
    }


def _kind_label(request: Request, kind: str) -> str:
    label = KIND_LABELS.get(ChannelKind(kind)) if kind in set(ChannelKind) else None
    return gettext_for(request).gettext(label) if label else kind


def _link(request: Request, channel: Channel) -> str | None:
    username = config(request).bot_username
    return deep_link(username, channel.code) if username else None


async def render_list(
    request: Request, *, error: str | None = None, form: FormData | None = None, status_code: int = 200
) -> Response:
    db = database(request)
    every = await store.all_channels(db)
    counts = await store.figures(db, codes=[channel.code for channel in every])
    rows = [
        {
            "id": channel.id,
            "code": channel.code,
            "name": channel.name,
            "kind": _kind_label(request, channel.kind),
            "active": channel.active,
            "link": _link(request, channel),
            "applicants": masked(counts[channel.code].applicants),
            "eligible": masked(counts[channel.code].provisionally_eligible),
            "enrolled": masked(counts[channel.code].enrolled),
        }
        for channel in every
    ]
    return pages(request).render(
        request,
        "channels.html",
        {
            "active": "channels",
            "channels": rows,
            "error": error,
            "entered": _entered(form),
            "username_known": config(request).bot_username is not None,
            **_choices(request),
        },
        status_code=status_code,
    )


async def channels_page(request: Request) -> Response:
    response = await render_list(request)
    await database(request).commit()
    return response


async def create(request: Request) -> Response:
    db = database(request)
    form = await request.form()
    translate = gettext_for(request)
    user = signed_in_user(request)
    try:
        entry = read_entry(form)
        code = str(form.get("code", "")).strip() or new_code()
        if not valid_code(code):
            raise ChannelRefused(BAD_CODE)
        if await store.code_taken(db, code=code):
            # Looked for only once the code is seen taken, so the row that took it is visible.
            if (replayed := await _replayed(request, code, entry)) is not None:
                return replayed
            raise ChannelRefused(CODE_TAKEN)
    except ChannelRefused as refused:
        await db.rollback()
        return await render_list(
            request, error=translate.gettext(refused.message), form=form, status_code=400
        )
    channel = Channel(
        code=code, name=entry.name, kind=entry.kind, languages=entry.languages, created_by=user.staff_id
    )
    db.add(channel)
    try:
        await db.flush()
    except IntegrityError:
        # Made between the check and now: by this very form sent twice at once, or by someone else.
        await db.rollback()
        if (replayed := await _replayed(request, code, entry)) is not None:
            return replayed
        return await render_list(request, error=translate.gettext(CODE_TAKEN), form=form, status_code=400)
    await record_audit(
        db,
        actor=user.actor,
        action="channel.created",
        object_type="channel",
        object_id=channel.code,
        details={"kind": channel.kind, "languages": channel.languages},
    )
    await db.commit()
    return RedirectResponse(request.url_for("channel", channel_id=channel.id).path, status_code=303)


async def _replayed(request: Request, code: str, entry: ChannelEntry) -> Response | None:
    """The same form sent again (a double click, a reload after a lost answer): the channel it
    made, instead of a second one or a "code taken" for one's own channel."""
    db = database(request)
    existing = await store.find_by_code(db, code=code)
    if existing is None or existing.created_by != signed_in_user(request).staff_id:
        return None
    if (existing.name, existing.kind, existing.languages) != (entry.name, entry.kind, entry.languages):
        return None
    await db.commit()
    return RedirectResponse(request.url_for("channel", channel_id=existing.id).path, status_code=303)


async def _channel(request: Request) -> Channel:
    raw = str(request.path_params["channel_id"])
    channel = (
        await store.find_channel(database(request), channel_id=int(raw))
        if raw.isdigit() and len(raw) < 10
        else None
    )
    if channel is None:
        raise HTTPException(status_code=404)
    return channel


async def render_channel(
    request: Request,
    channel: Channel,
    *,
    error: str | None = None,
    form: FormData | None = None,
    status_code: int = 200,
) -> Response:
    counts = (await store.figures(database(request), codes=[channel.code]))[channel.code]
    entered = (
        _entered(form)
        if form is not None
        else {"name": channel.name, "kind": channel.kind, "languages": channel.languages}
    )
    return pages(request).render(
        request,
        "channel.html",
        {
            "active": "channels",
            "channel": channel,
            "kind": _kind_label(request, channel.kind),
            "link": _link(request, channel),
            "figures": {
                "applicants": masked(counts.applicants),
                "eligible": masked(counts.provisionally_eligible),
                "enrolled": masked(counts.enrolled),
            },
            "languages": [(language, LANGUAGES.get(language, language)) for language in channel.languages],
            "error": error,
            "entered": entered,
            **_choices(request),
        },
        status_code=status_code,
    )


async def channel_page(request: Request) -> Response:
    response = await render_channel(request, await _channel(request))
    await database(request).commit()
    return response


async def update(request: Request) -> Response:
    """Change the name, kind or flyer languages; the code never changes (its flyers are out)."""
    db = database(request)
    channel = await _channel(request)
    form = await request.form()
    try:
        entry = read_entry(form)
    except ChannelRefused as refused:
        message = gettext_for(request).gettext(refused.message)
        return await render_channel(request, channel, error=message, form=form, status_code=400)
    channel.name, channel.kind, channel.languages = entry.name, entry.kind, entry.languages
    await record_audit(
        db,
        actor=signed_in_user(request).actor,
        action="channel.changed",
        object_type="channel",
        object_id=channel.code,
        details={"kind": channel.kind, "languages": channel.languages},
    )
    await db.commit()
    return RedirectResponse(request.url_for("channel", channel_id=channel.id).path, status_code=303)


async def set_active(request: Request) -> Response:
    """Deactivate (the list puts it last; its link still counts, since its flyers are still out)
    or activate again."""
    db = database(request)
    channel = await _channel(request)
    form = await request.form()
    active = form.get("active") == "1"
    if channel.active != active:
        channel.active = active
        await record_audit(
            db,
            actor=signed_in_user(request).actor,
            action="channel.activated" if active else "channel.deactivated",
            object_type="channel",
            object_id=channel.code,
            details={},
        )
    await db.commit()
    return RedirectResponse(request.url_for("channel", channel_id=channel.id).path, status_code=303)


async def _flyer(request: Request, kind: str) -> Response:
    channel = await _channel(request)
    link = _link(request, channel)
    if link is None:
        # Nothing is wrong with the channel: the console does not know where its link points.
        response = await render_channel(
            request, channel, error=gettext_for(request).gettext(NO_USERNAME), status_code=409
        )
        await database(request).commit()
        return response
    await database(request).commit()
    # Drawing takes a moment of CPU: off the event loop, so other requests go on meanwhile.
    # Imported on the first flyer: the console starts without loading the PDF and image libraries.
    from caseworker_console import flyer

    body = await run_in_threadpool(flyer.rendered, kind, link, tuple(channel.languages), channel.name)
    media_type = "application/pdf" if kind == "pdf" else "image/png"
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="flyer-{channel.code}.{kind}"',
            "Cache-Control": "no-store",
        },
    )


async def flyer_pdf(request: Request) -> Response:
    return await _flyer(request, "pdf")


async def flyer_png(request: Request) -> Response:
    return await _flyer(request, "png")


CHANNELS = Permission.CHANNELS
routes = [
    page("/channels", channels_page, name="channels", permission=Permission.CHANNELS),
    action("/channels", create, name="channels_create", permission=Permission.CHANNELS),
    page("/channels/{channel_id}", channel_page, name="channel", permission=Permission.CHANNELS),
    action("/channels/{channel_id}", update, name="channel_update", permission=Permission.CHANNELS),
    action(
        "/channels/{channel_id}/active", set_active, name="channel_active", permission=Permission.CHANNELS
    ),
    page(
        "/channels/{channel_id}/flyer.pdf",
        flyer_pdf,
        name="channel_flyer_pdf",
        permission=Permission.CHANNELS,
    ),
    page(
        "/channels/{channel_id}/flyer.png",
        flyer_png,
        name="channel_flyer_png",
        permission=Permission.CHANNELS,
    ),
]
