"""The operations page for administrators: is the worker alive, how much waits in the outbox, when
the bot last heard from anyone, what Telegram says of the webhook, the database and its schema,
whether the data keys open the data. Nothing on it is about a person."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gettext
import logging

import aiohttp
from aiogram.exceptions import TelegramAPIError
from babel.dates import format_timedelta
from starlette.requests import Request
from starlette.responses import Response

from caseworker_console import i18n
from caseworker_console.config import config, crypto
from caseworker_console.database import database
from caseworker_console.permissions import Permission
from caseworker_console.routing import page
from caseworker_console.templating import gettext_for, pages
from caseworker_console.views import local_time
from programme.text import N_
from storage import ops
from storage.migrate import SchemaState, schema_state_of

log = logging.getLogger(__name__)

# The sender beats every 10 seconds (outreach.heartbeat): a minute without one means it stopped.
SENDER_SILENT_AFTER = dt.timedelta(minutes=1)
# A due message older than this is a backlog worth a look (the sender sends within seconds).
BACKLOG_LATE_AFTER = dt.timedelta(minutes=5)
LANES = {0: N_("Replies"), 1: N_("Reminders"), 2: N_("Campaigns")}
BACKENDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclasses.dataclass(frozen=True)
class Check:
    """One line of the page: what is checked, whether it is well, what it says and what to do."""

    key: str
    name: str
    ok: bool
    state: str
    todo: str = ""


@dataclasses.dataclass(frozen=True)
class LaneView:
    name: str
    waiting: int
    due: int
    oldest: str
    late: bool
    sending: int


def _ago(request: Request, moment: dt.datetime, now: dt.datetime) -> str:
    locale = i18n.request_locale(request)
    return format_timedelta(moment - now, locale=locale, add_direction=True)


async def _sender(request: Request, translate: gettext.NullTranslations, now: dt.datetime) -> Check:
    beat = await ops.marker(database(request), ops.SENDER_HEARTBEAT)
    name = translate.gettext("Worker (outbox sender)")
    if beat is None:
        return Check(
            "sender",
            name,
            False,
            translate.gettext("It has never run on this database."),
            translate.gettext("Start intake worker (or intake serve, which runs it too)."),
        )
    when = {"when": _ago(request, beat.at, now), "time": local_time(request, beat.at), "who": beat.detail}
    if now - beat.at > SENDER_SILENT_AFTER:
        return Check(
            "sender",
            name,
            False,
            translate.gettext("Stopped: its last heartbeat was %(when)s (%(time)s), from %(who)s.") % when,
            translate.gettext("Start intake worker again and look at its log for why it stopped."),
        )
    return Check(
        "sender",
        name,
        True,
        translate.gettext("Running: its last heartbeat was %(when)s, from %(who)s.") % when,
    )


def _schema(state: SchemaState, translate: gettext.NullTranslations, backend: str) -> Check:
    name = translate.gettext("Database")
    where = {"backend": backend, "revision": ", ".join(sorted(state.current)) or "—"}
    if state.at_head:
        return Check(
            "database",
            name,
            True,
            translate.gettext("%(backend)s, at the newest schema (%(revision)s).") % where,
        )
    return Check(
        "database",
        name,
        False,
        translate.gettext("%(backend)s, at an older schema (%(revision)s).") % where,
        translate.gettext("Run intake migrate, then restart the processes."),
    )


KEY_STATES = {
    ops.KeyState.CURRENT: (True, N_("The data keys open the data."), ""),
    ops.KeyState.OLDER: (
        True,
        N_("The data keys open the data; its check is still under an older key."),
        N_("Finish the key rotation: run intake rotate-keys, then remove the old key."),
    ),
    ops.KeyState.WRONG: (
        False,
        N_("The data keys do not open the data."),
        N_("Give INTAKE_DATA_KEYS the keys this database was written with, newest first."),
    ),
    None: (False, N_("Not checked yet."), N_("Restart the processes: each checks the keys when it starts.")),
}


async def _keys(request: Request, translate: gettext.NullTranslations) -> Check:
    ok, state, todo = KEY_STATES[await ops.key_state(database(request), crypto(request))]
    return Check(
        "keys", translate.gettext("Data keys"), ok, translate.gettext(state), todo and translate.gettext(todo)
    )


async def _bot(request: Request, translate: gettext.NullTranslations, now: dt.datetime) -> Check:
    last = await ops.last_update_at(database(request))
    queued = await ops.webhook_queue(database(request))
    name = translate.gettext("Bot")
    if last is None:
        state = translate.gettext("It has not received a message yet (or none in the days updates are kept).")
    else:
        state = translate.gettext("It last received an update %(when)s (%(time)s).") % {
            "when": _ago(request, last, now),
            "time": local_time(request, last),
        }
    if queued:
        state += " " + translate.ngettext(
            "%(count)s update received by the webhook waits to be handled.",
            "%(count)s updates received by the webhook wait to be handled.",
            queued,
        ) % {"count": queued}
    return Check("bot", name, True, state)


async def _webhook(request: Request, translate: gettext.NullTranslations, now: dt.datetime) -> Check:
    name = translate.gettext("Telegram")
    ask = config(request).webhook_info
    if ask is None:
        return Check(
            "telegram",
            name,
            True,
            translate.gettext("Not asked: this console has no TELEGRAM_BOT_TOKEN."),
        )
    try:
        info = await ask()
    except (TelegramAPIError, aiohttp.ClientError, TimeoutError) as error:
        log.warning("getWebhookInfo failed (%s)", type(error).__name__)
        return Check(
            "telegram",
            name,
            False,
            translate.gettext("Telegram did not answer getWebhookInfo."),
            translate.gettext("Check this server's connection to Telegram."),
        )
    mode = (
        translate.gettext("Webhook mode.")
        if info.url
        else translate.gettext("Long polling (no webhook is set).")
    )
    waiting = translate.ngettext(
        "%(count)s update waits at Telegram.",
        "%(count)s updates wait at Telegram.",
        info.pending_update_count,
    ) % {"count": info.pending_update_count}
    if info.last_error_date is None:
        return Check("telegram", name, True, f"{mode} {waiting}")
    error = translate.gettext("Its last delivery error, %(when)s: %(message)s") % {
        "when": _ago(request, info.last_error_date, now),
        "message": info.last_error_message or "—",
    }
    return Check(
        "telegram",
        name,
        False,
        f"{mode} {waiting} {error}",
        translate.gettext("Check that TELEGRAM_WEBHOOK_URL reaches intake bot through the proxy."),
    )


def _lanes(
    request: Request, translate: gettext.NullTranslations, now: dt.datetime, backlog: list[ops.LaneBacklog]
) -> list[LaneView]:
    return [
        LaneView(
            name=translate.gettext(LANES.get(row.lane, str(row.lane))),
            waiting=row.waiting,
            due=row.due,
            oldest=_ago(request, row.oldest_due, now) if row.oldest_due else "—",
            late=row.oldest_due is not None and now - row.oldest_due > BACKLOG_LATE_AFTER,
            sending=row.sending,
        )
        for row in backlog
    ]


async def operations(request: Request) -> Response:
    translate = gettext_for(request)
    db = database(request)
    now = config(request).clock()
    connection = await db.connection()
    backend = BACKENDS.get(connection.dialect.name, connection.dialect.name)
    version = connection.dialect.server_version_info
    if connection.dialect.name == "postgresql" and version:
        backend += " " + ".".join(str(part) for part in version[:2])
    lanes = _lanes(request, translate, now, await ops.outbox_backlog(db, now=now))
    checks = [
        await _sender(request, translate, now),
        _schema(await schema_state_of(connection), translate, backend),
        await _keys(request, translate),
        await _bot(request, translate, now),
        await _webhook(request, translate, now),
    ]
    return pages(request).render(
        request,
        "operations.html",
        {
            "active": "operations",
            "checks": checks,
            "lanes": lanes,
            "late": any(lane.late for lane in lanes),
            "checked_at": local_time(request, now),
        },
    )


routes = [page("/operations", operations, name="operations", permission=Permission.OPERATIONS)]
