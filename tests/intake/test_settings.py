"""Settings: the names of the README's settings table, defaults, and one clear sentence for every mistake."""

from __future__ import annotations

import base64
import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from intake.settings import Settings, SettingsError, load_settings
from programme.staff_alerts import AlertPolicy

ROOT = Path(__file__).resolve().parents[2]
NAMES = [
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_URL",
    "DATABASE_URL",
    "INTAKE_DATA_KEYS",
    "INTAKE_TIMEZONE",
    "INTAKE_CONSOLE_ADDR",
    "TELEGRAM_WEBHOOK_URL",
    "TELEGRAM_WEBHOOK_SECRET",
    "INTAKE_SEND_RATE",
    "INTAKE_DATA_CONTROLLER",
    "INTAKE_WEBHOOK_ADDR",
    "TELEGRAM_BOT_USERNAME",
    "INTAKE_REMINDER_OFFSETS",
    "INTAKE_REMINDER_QUIET_HOURS",
    "INTAKE_DATA_CONTACT",
    "INTAKE_CONSOLE_URL",
    "INTAKE_TRUSTED_PROXIES",
    "INTAKE_FLOOD_LIMIT",
    "INTAKE_RETAIN_CLOSED_DAYS",
    "INTAKE_RETAIN_UNENROLLED_DAYS",
    "INTAKE_RETAIN_ATTACHMENT_DAYS",
    "INTAKE_RETAIN_UPDATES_DAYS",
    "INTAKE_RETAIN_AUDIT_DAYS",
    "INTAKE_ERASURE_DUE_DAYS",
    "INTAKE_ERASURE_LEDGER",
    "INTAKE_SPEEDUPS",
    "INTAKE_CAMPAIGN_APPROVAL_BELOW",
    "INTAKE_FEEDBACK_ANSWER_DAYS",
    "INTAKE_RETAIN_FEEDBACK_DAYS",
    "INTAKE_ALERT_ESCALATE_AFTER",
    "INTAKE_ALERT_WAITING_AFTER",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_those_of_the_design() -> None:
    settings = load_settings()
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.database_url == "sqlite+aiosqlite:///./var/intake.db"
    assert settings.timezone == "Asia/Baku"
    assert (settings.console_host, settings.console_port) == ("127.0.0.1", 8000)
    assert settings.send_rate == 25
    assert settings.webhook_url is None
    assert settings.alert_policy() == AlertPolicy(
        escalate_after=dt.timedelta(minutes=15), waiting_after=dt.timedelta(hours=4)
    )
    assert settings.console_link == "http://127.0.0.1:8000"


def test_staff_alerts_link_to_the_public_console_and_waiting_alerts_may_be_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INTAKE_CONSOLE_URL", "https://console.example.org/")
    monkeypatch.setenv("INTAKE_ALERT_ESCALATE_AFTER", "30m")
    monkeypatch.setenv("INTAKE_ALERT_WAITING_AFTER", "off")
    # Overdue feedback is told by the due time its first answer was given.
    monkeypatch.setenv("INTAKE_FEEDBACK_ANSWER_DAYS", "3")
    settings = load_settings()
    assert settings.console_link == "https://console.example.org"
    assert settings.alert_policy() == AlertPolicy(
        escalate_after=dt.timedelta(minutes=30), waiting_after=None, feedback_answer=dt.timedelta(days=3)
    )


def test_every_setting_is_read_from_its_environment_name_and_documented_in_the_readme() -> None:
    aliases = {field.alias for field in Settings.model_fields.values()}
    assert aliases == set(NAMES)
    readme = (ROOT / "README.md").read_text()
    assert [name for name in NAMES if f"`{name}`" not in readme] == []


@pytest.mark.parametrize(
    ("name", "value", "sentence"),
    [
        ("INTAKE_TIMEZONE", "Mars/Olympus", "INTAKE_TIMEZONE is invalid: unknown time zone 'Mars/Olympus'."),
        ("INTAKE_CONSOLE_ADDR", "8000", "INTAKE_CONSOLE_ADDR is invalid: expected host:port"),
        ("INTAKE_WEBHOOK_ADDR", "127.0.0.1:65536", "INTAKE_WEBHOOK_ADDR is invalid: expected host:port"),
        ("INTAKE_SEND_RATE", "0", "INTAKE_SEND_RATE is invalid:"),
        (
            "INTAKE_CONSOLE_URL",
            "console.example.org",
            "INTAKE_CONSOLE_URL is invalid: expected the console's",
        ),
        ("INTAKE_FLOOD_LIMIT", "fast", "INTAKE_FLOOD_LIMIT is invalid: expected updates per seconds"),
        ("INTAKE_RETAIN_CLOSED_DAYS", "0", "INTAKE_RETAIN_CLOSED_DAYS is invalid:"),
        ("INTAKE_ERASURE_DUE_DAYS", "soon", "INTAKE_ERASURE_DUE_DAYS is invalid:"),
        ("INTAKE_CAMPAIGN_APPROVAL_BELOW", "-1", "INTAKE_CAMPAIGN_APPROVAL_BELOW is invalid:"),
        ("TELEGRAM_API_URL", "api.telegram.org", "TELEGRAM_API_URL is invalid: expected an http"),
        ("TELEGRAM_BOT_USERNAME", "t.me/intake", "TELEGRAM_BOT_USERNAME is invalid: expected the bot's"),
        (
            "INTAKE_REMINDER_OFFSETS",
            "24h,soon",
            "INTAKE_REMINDER_OFFSETS is invalid: 'soon' is not an offset",
        ),
        (
            "INTAKE_REMINDER_QUIET_HOURS",
            "9pm",
            "INTAKE_REMINDER_QUIET_HOURS is invalid: expected local times",
        ),
        (
            "INTAKE_ALERT_ESCALATE_AFTER",
            "off",
            "INTAKE_ALERT_ESCALATE_AFTER is invalid: 'off' is not a duration like 15m",
        ),
        (
            "INTAKE_ALERT_WAITING_AFTER",
            "4h,8h",
            "INTAKE_ALERT_WAITING_AFTER is invalid: '4h,8h' is not a duration like 15m",
        ),
    ],
)
def test_a_malformed_setting_is_one_sentence(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, sentence: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert str(raised.value).startswith(sentence)
    assert "\n" not in str(raised.value)


def test_the_console_and_the_webhook_may_take_a_free_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_CONSOLE_ADDR", "127.0.0.1:0")
    monkeypatch.setenv("INTAKE_WEBHOOK_ADDR", "127.0.0.1:0")
    settings = load_settings()
    assert (settings.console_port, settings.webhook_port) == (0, 0)


def test_missing_token_and_keys_are_explained() -> None:
    settings = load_settings()
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN is not set"):
        settings.token()
    with pytest.raises(SettingsError, match="INTAKE_DATA_KEYS is not set"):
        settings.keys()


def _intake(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in NAMES} | env
    return subprocess.run(
        [sys.executable, "-m", "intake", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=environment,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_serve_without_a_token_stops_with_one_sentence_and_no_traceback() -> None:
    result = _intake("serve")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("intake: TELEGRAM_BOT_TOKEN is not set")
    assert "Traceback" not in result.stderr


def test_serve_with_a_malformed_key_stops_with_one_sentence() -> None:
    short_key = base64.b64encode(b"x" * 10).decode()
    result = _intake("serve", TELEGRAM_BOT_TOKEN="123:" + "a" * 35, INTAKE_DATA_KEYS=short_key)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "intake: INTAKE_DATA_KEYS key 1 decodes to 10 bytes; each key must be 32 bytes."
    )


def test_create_user_needs_the_database_not_the_data_keys(tmp_path: Path) -> None:
    """Beside a running `intake demo`, whose data key stays in ./var, an account is made as the
    README says, without INTAKE_DATA_KEYS; a database without tables gets one sentence."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    account = ["create-user", "olga", "--role", "outreach", "--password-stdin"]
    empty = _intake(*account, stdin="walk-the-demo-2026\n", DATABASE_URL=url)
    assert empty.returncode == 2 and "Traceback" not in empty.stderr
    assert empty.stderr.strip().splitlines()[-1] == (
        "intake: The database at DATABASE_URL has no tables yet: run `intake migrate` first."
    )
    assert _intake("migrate", DATABASE_URL=url).returncode == 0
    made = _intake(*account, stdin="walk-the-demo-2026\n", DATABASE_URL=url)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == "Created outreach account 'olga'."
    with sqlite3.connect(tmp_path / "intake.db") as database:
        assert database.execute("SELECT username, role FROM staff_users").fetchall() == [("olga", "outreach")]
    again = _intake(*account, stdin="walk-the-demo-2026\n", DATABASE_URL=url)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines()[-1] == "intake: The username olga is already taken."


def test_every_command_has_help() -> None:
    listing = _intake("--help")
    assert listing.returncode == 0
    for command in [
        "demo",
        "serve",
        "bot",
        "console",
        "worker",
        "migrate",
        "create-user",
        "rotate-keys",
        "sandbox",
    ]:
        assert command in listing.stdout
        assert _intake(command, "--help").returncode == 0


def test_the_bot_username_is_taken_with_or_without_its_at(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "@Bridge_Intake_bot")
    assert load_settings().bot_username == "Bridge_Intake_bot"
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "")
    assert load_settings().bot_username is None


@pytest.mark.parametrize(
    ("environment", "ledger"),
    [
        ({}, Path("var/erasure-ledger")),  # beside the default SQLite database, ./var/intake.db
        ({"DATABASE_URL": "sqlite+aiosqlite:////srv/intake/intake.db"}, Path("/srv/intake/erasure-ledger")),
        ({"DATABASE_URL": "postgresql+asyncpg://intake:secret@db/intake"}, Path("var/erasure-ledger")),
        (
            {
                "DATABASE_URL": "sqlite+aiosqlite:////srv/intake/intake.db",
                "INTAKE_ERASURE_LEDGER": "/backup/ledger",
            },
            Path("/backup/ledger"),
        ),
    ],
)
def test_the_erasure_ledger_is_beside_the_database_unless_it_is_set(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], ledger: Path
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert load_settings().erasure_ledger_path() == ledger
