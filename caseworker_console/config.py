"""The console's settings as one object on the app, and how sessions expire."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Awaitable, Callable

from aiogram.types import WebhookInfo
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection

from programme.organisation import Organisation
from programme.retention import DEFAULT_RETENTION, RetentionPolicy
from programme.staff_alerts import AlertPolicy
from storage.crypto import Crypto
from storage.models import StaffSession, utcnow
from storage.organisation import current_organisation

LOGIN_CSRF_COOKIE = "intake_login_csrf"


@dataclasses.dataclass(frozen=True)
class SessionPolicy:
    idle: dt.timedelta
    absolute: dt.timedelta
    secure_cookies: bool

    def expired(self, record: StaffSession, now: dt.datetime) -> bool:
        return record.last_seen_at + self.idle <= now or record.created_at + self.absolute <= now

    @property
    def login_csrf_cookie(self) -> str:
        # Over HTTPS the __Host- prefix stops a sibling subdomain from planting its own token,
        # the one weakness of a double-submit cookie.
        return f"__Host-{LOGIN_CSRF_COOKIE}" if self.secure_cookies else LOGIN_CSRF_COOKIE


@dataclasses.dataclass(frozen=True)
class ConsoleConfig:
    sessions: SessionPolicy
    timezone: zoneinfo.ZoneInfo
    page_size: int = 50
    # The organisation named in the consent text (INTAKE_DATA_CONTROLLER), as the bot names it.
    data_controller: str = ""
    # Where people ask about their data (INTAKE_DATA_CONTACT), as the bot names it.
    data_contact: str = ""
    # How long data is kept and when an erasure request is due (INTAKE_RETAIN_*, INTAKE_ERASURE_DUE_DAYS).
    retention: RetentionPolicy = DEFAULT_RETENTION
    # The bot's @username for deep links and flyers (TELEGRAM_BOT_USERNAME, or getMe); None: unknown.
    bot_username: str | None = None
    # A campaign that sensitive filters narrow under this many people waits for a supervisor's
    # approval (INTAKE_CAMPAIGN_APPROVAL_BELOW).
    campaign_approval_below: int = 10
    # What time it is for the dates the console decides by (the digest's today, the offices' and
    # retention's first allowed days): utcnow, or a test's fixed moment.
    clock: Callable[[], dt.datetime] = utcnow
    # getWebhookInfo of the process's bot, for the operations page; None: this console has no bot.
    webhook_info: Callable[[], Awaitable[WebhookInfo]] | None = None
    # When staff phones are told of an unopened urgent alert, and of a handoff left waiting
    # (INTAKE_ALERT_ESCALATE_AFTER, INTAKE_ALERT_WAITING_AFTER), as the account page says.
    alert_policy: AlertPolicy = dataclasses.field(default_factory=AlertPolicy)

    def organisation_defaults(self) -> Organisation:
        """The organisation as the environment gives it, until an administrator saves its page."""
        return Organisation(controller=self.data_controller, contact=self.data_contact)

    def consent_version(self, organisation: Organisation) -> str:
        """The version of the consent text that names `organisation` and these retention periods."""
        return organisation.consent_version(self.retention, defaults=self.organisation_defaults())

    async def organisation(self, session: AsyncSession) -> Organisation:
        """The organisation as saved on its page, else as the environment gives it."""
        return await current_organisation(session, defaults=self.organisation_defaults())


def config(connection: HTTPConnection) -> ConsoleConfig:
    settings: ConsoleConfig = connection.app.state.config
    return settings


def today(connection: HTTPConnection, zone: zoneinfo.ZoneInfo | None = None) -> dt.date:
    """The date now in `zone`, by default the office's time zone (INTAKE_TIMEZONE)."""
    settings = config(connection)
    return settings.clock().astimezone(zone or settings.timezone).date()


def crypto(connection: HTTPConnection) -> Crypto:
    """The app's keys for sealed data; 503 when the console was started without them."""
    keys: Crypto | None = connection.app.state.crypto
    if keys is None:
        raise HTTPException(status_code=503)
    return keys
