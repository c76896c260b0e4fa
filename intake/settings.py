"""Typed settings from the environment (the names are an interface: see the README)."""

from __future__ import annotations

import functools
import os
import re
import time
import zoneinfo
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.flood import FloodLimit, parse_flood_limit
from intake import speedups
from programme.reminders import ReminderPolicy, parse_offsets, parse_quiet_hours
from programme.retention import RetentionPolicy
from programme.staff_alerts import DEFAULT_ESCALATE_AFTER, AlertPolicy, parse_duration
from storage.crypto import KeyConfigError, generate_key, parse_keys
from storage.engine import sqlite_file

# Telegram's rule for setWebhook's secret_token is 1-256 of these; we ask for at least 16 so that
# it cannot be guessed (it is the only thing that tells Telegram's requests from anyone else's).
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")
# Telegram's rule for a bot's username: 5-32 of these, ending in "bot" (any case).
BOT_USERNAME = re.compile(r"[A-Za-z0-9_]{2,29}[Bb][Oo][Tt]")


# The only drivers the processes run on: SQLite through aiosqlite, PostgreSQL through asyncpg.
ASYNC_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one sentence for an operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=True)

    telegram_bot_token: SecretStr | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: str = Field("https://api.telegram.org", alias="TELEGRAM_API_URL")
    database_url: str = Field("sqlite+aiosqlite:///./var/intake.db", alias="DATABASE_URL")
    data_keys: SecretStr | None = Field(None, alias="INTAKE_DATA_KEYS")
    timezone: str = Field("Asia/Baku", alias="INTAKE_TIMEZONE")
    console_addr: str = Field("127.0.0.1:8000", alias="INTAKE_CONSOLE_ADDR")
    console_url: str | None = Field(None, alias="INTAKE_CONSOLE_URL")
    trusted_proxies: str = Field("127.0.0.1", alias="INTAKE_TRUSTED_PROXIES")
    webhook_url: str | None = Field(None, alias="TELEGRAM_WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(None, alias="TELEGRAM_WEBHOOK_SECRET")
    webhook_addr: str = Field("127.0.0.1:8443", alias="INTAKE_WEBHOOK_ADDR")
    send_rate: float = Field(25.0, alias="INTAKE_SEND_RATE", gt=0, le=1000)
    data_controller: str = Field("", alias="INTAKE_DATA_CONTROLLER", max_length=200)
    data_contact: str = Field("", alias="INTAKE_DATA_CONTACT", max_length=200)
    bot_username: str | None = Field(None, alias="TELEGRAM_BOT_USERNAME")
    reminder_offsets: str = Field("24h,2h", alias="INTAKE_REMINDER_OFFSETS")
    reminder_quiet_hours: str = Field("21:00-09:00", alias="INTAKE_REMINDER_QUIET_HOURS")
    flood_limit: str = Field("20/10s", alias="INTAKE_FLOOD_LIMIT")
    retain_closed_days: int = Field(730, alias="INTAKE_RETAIN_CLOSED_DAYS", ge=1, le=36500)
    retain_unenrolled_days: int = Field(183, alias="INTAKE_RETAIN_UNENROLLED_DAYS", ge=1, le=36500)
    retain_attachment_days: int = Field(365, alias="INTAKE_RETAIN_ATTACHMENT_DAYS", ge=1, le=36500)
    retain_updates_days: int = Field(7, alias="INTAKE_RETAIN_UPDATES_DAYS", ge=1, le=365)
    retain_audit_days: int = Field(2190, alias="INTAKE_RETAIN_AUDIT_DAYS", ge=1, le=36500)
    erasure_due_days: int = Field(30, alias="INTAKE_ERASURE_DUE_DAYS", ge=1, le=90)
    erasure_ledger: str | None = Field(None, alias="INTAKE_ERASURE_LEDGER")
    # Read by intake.speedups before anything else (the patches precede aiogram's import); here so
    # that a malformed value stops start-up with one sentence, as every other setting does.
    speedups: str = Field("on", alias="INTAKE_SPEEDUPS")
    campaign_approval_below: int = Field(10, alias="INTAKE_CAMPAIGN_APPROVAL_BELOW", ge=0, le=100_000)
    feedback_answer_days: int = Field(7, alias="INTAKE_FEEDBACK_ANSWER_DAYS", ge=1, le=90)
    retain_feedback_days: int = Field(365, alias="INTAKE_RETAIN_FEEDBACK_DAYS", ge=30, le=3650)
    alert_escalate_after: str = Field("15m", alias="INTAKE_ALERT_ESCALATE_AFTER")
    alert_waiting_after: str = Field("4h", alias="INTAKE_ALERT_WAITING_AFTER")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("reminder_offsets")
    @classmethod
    def _offsets(cls, value: str) -> str:
        parse_offsets(value)
        return value

    @field_validator("reminder_quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

    @field_validator("alert_escalate_after")
    @classmethod
    def _escalate_after(cls, value: str) -> str:
        parse_duration(value, allow_off=False)
        return value

    @field_validator("alert_waiting_after")
    @classmethod
    def _waiting_after(cls, value: str) -> str:
        parse_duration(value, allow_off=True)
        return value

    @field_validator("speedups")
    @classmethod
    def _on_or_off(cls, value: str) -> str:
        return "on" if speedups.requested({speedups.SETTING: value}) else "off"

    @field_validator("flood_limit")
    @classmethod
    def _flood_limit(cls, value: str) -> str:
        parse_flood_limit(value)
        return value

    @field_validator("console_addr", "webhook_addr")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        # Port 0: a free one, which the console or the webhook logs (tests and benchmarks start them so).
        if not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError("expected host:port, for example 127.0.0.1:8000")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_urls(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        # Several comma-separated URLs are the sandbox's stand-in for a load balancer (tests, bench).
        parts = [part.strip() for part in value.split(",")]
        if not all(part.startswith(("http://", "https://")) for part in parts):
            raise ValueError("expected an https:// URL")
        return ",".join(parts)

    @field_validator("bot_username")
    @classmethod
    def _bot_username(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        name = value.strip().removeprefix("@")
        if not BOT_USERNAME.fullmatch(name):
            raise ValueError("expected the bot's username, 5 to 32 of A-Z, a-z, 0-9 and _, ending in bot")
        return name

    @field_validator("database_url")
    @classmethod
    def _async_url(cls, value: str) -> str:
        value = value.strip()
        scheme, found, rest = value.partition("://")
        if scheme in ASYNC_DRIVERS:
            return value
        if not found:
            raise ValueError("expected a URL such as sqlite+aiosqlite:///./var/intake.db, not a plain path")
        if scheme.startswith("sqlite"):
            # The path is no secret; PostgreSQL's URL may hold a password, so it is never repeated.
            raise ValueError(f"name the async driver, sqlite+aiosqlite://{rest}")
        if scheme.startswith(("postgres", "postgresql")):
            raise ValueError("name the async driver, postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE")
        raise ValueError(
            "expected sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE"
        )

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("use 16 to 256 characters among A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("console_url")
    @classmethod
    def _console_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.strip().startswith(("http://", "https://")):
            raise ValueError("expected the console's public URL, https://…")
        return value.strip().rstrip("/")

    @field_validator("telegram_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/")

    @property
    def console_host(self) -> str:
        return self.console_addr.rpartition(":")[0].strip("[]")

    @property
    def console_port(self) -> int:
        return int(self.console_addr.rpartition(":")[2])

    @property
    def console_over_https(self) -> bool:
        """The console is reached over HTTPS (INTAKE_CONSOLE_URL): Secure cookies and HSTS."""
        return self.console_url is not None and self.console_url.startswith("https://")

    def console_exposed_without_https(self) -> bool:
        """It listens beyond this machine, and no https URL says a TLS proxy stands in front."""
        loopback = self.console_host in ("localhost", "::1") or self.console_host.startswith("127.")
        return not loopback and not self.console_over_https

    @property
    def webhook_host(self) -> str:
        return self.webhook_addr.rpartition(":")[0].strip("[]")

    @property
    def webhook_port(self) -> int:
        return int(self.webhook_addr.rpartition(":")[2])

    def reminder_policy(self) -> ReminderPolicy:
        return ReminderPolicy(
            offsets=parse_offsets(self.reminder_offsets),
            quiet_hours=parse_quiet_hours(self.reminder_quiet_hours),
        )

    def alert_policy(self) -> AlertPolicy:
        return AlertPolicy(
            escalate_after=parse_duration(self.alert_escalate_after, allow_off=False)
            or DEFAULT_ESCALATE_AFTER,
            waiting_after=parse_duration(self.alert_waiting_after, allow_off=True),
            feedback_answer=self.retention_policy().feedback_answer,
        )

    @property
    def console_link(self) -> str:
        """Where staff alerts' links lead: INTAKE_CONSOLE_URL, else the address the console listens on."""
        return self.console_url or f"http://{self.console_addr}"

    def flood(self) -> FloodLimit | None:
        return parse_flood_limit(self.flood_limit)

    def erasure_ledger_path(self) -> Path:
        """INTAKE_ERASURE_LEDGER; by default `erasure-ledger` beside SQLite's database file, or
        ./var/erasure-ledger beside a PostgreSQL database."""
        if self.erasure_ledger and self.erasure_ledger.strip():
            return Path(self.erasure_ledger.strip())
        database = sqlite_file(self.database_url)
        return (Path("var") if database is None else database.parent) / "erasure-ledger"

    def retention_policy(self) -> RetentionPolicy:
        return RetentionPolicy(
            closed_days=self.retain_closed_days,
            unenrolled_days=self.retain_unenrolled_days,
            attachment_days=self.retain_attachment_days,
            updates_days=self.retain_updates_days,
            audit_days=self.retain_audit_days,
            erasure_due_days=self.erasure_due_days,
            feedback_answer_days=self.feedback_answer_days,
            feedback_kept_days=self.retain_feedback_days,
        )

    def webhook_secret_value(self) -> str:
        if self.webhook_secret is None:
            raise SettingsError(
                "TELEGRAM_WEBHOOK_SECRET is not set: webhook mode needs it to tell Telegram's requests "
                "from anyone else's (make one with `openssl rand -hex 32`)."
            )
        return self.webhook_secret.get_secret_value()

    def token(self) -> str:
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value().strip():
            raise SettingsError("TELEGRAM_BOT_TOKEN is not set: give the bot token from @BotFather.")
        return self.telegram_bot_token.get_secret_value().strip()

    def keys(self) -> list[bytes]:
        if self.data_keys is None:
            raise SettingsError(
                "INTAKE_DATA_KEYS is not set: give one or more base64 32-byte keys "
                "(make one with `intake rotate-keys --new-key`)."
            )
        try:
            return parse_keys(self.data_keys.get_secret_value())
        except KeyConfigError as error:
            raise SettingsError(str(error)) from None


def _explain(error: ValidationError) -> str:
    first = error.errors()[0]
    name = next((str(part) for part in first.get("loc", ()) if isinstance(part, str)), "a setting")
    alias = Settings.model_fields[name].alias if name in Settings.model_fields else name
    message = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    return f"{alias} is invalid: {message}."


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(_explain(error)) from None


@functools.cache
def get_settings() -> Settings:
    """Settings read once per process; tests call `get_settings.cache_clear()`."""
    return load_settings()


def _written_key(key_file: Path) -> str:
    """The key another process is writing at the same moment: read once it is there."""
    for _ in range(50):
        if key := key_file.read_text().strip():
            return key
        time.sleep(0.01)
    raise SettingsError(f"{key_file} is empty: remove it and start again to make a new demo key.")


def demo_keys(var_dir: Path) -> str:
    """The demo's data key, generated on first start and kept under ./var (never committed)."""
    key_file = var_dir / "data-keys"
    var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        # Created readable by its owner alone from the first byte: no moment with wider rights.
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _written_key(key_file)
    with os.fdopen(descriptor, "w") as written:
        written.write(generate_key() + "\n")
    return key_file.read_text().strip()
