"""The audit page in the reader's language: every action the code base records has a label."""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
from bs4 import BeautifulSoup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseworker_console.audit_labels import ACTION_LABELS, OBJECT_LABELS
from storage.models import AuditEntry, StaffUser

SignIn = Callable[..., Awaitable[StaffUser]]

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("caseworker_console", "storage", "bot", "outreach", "programme")
# Calls that write an audit entry, with the action as a keyword or a positional argument.
AUDIT_CALLS = {"record_audit", "_audit", "_audit_account"}
# Actions made as f"<prefix>{value}": where each prefix's values are passed (function, argument).
FAMILIES = {
    "alert.": ("alert", 1),
    "campaign.": ("_transition", 1),
    "plan.": ("_change", 1),
    "request.": ("add_data_request", "kind"),
}


def _name(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")


def _strings(node: ast.expr) -> Iterator[str]:
    """The literal values an argument can take; an f-string gives its literal prefix."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body)
        yield from _strings(node.orelse)
    elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        yield f"{node.values[0].value}{{}}"


def _calls() -> Iterator[ast.Call]:
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield from (node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call))


def recorded_actions() -> set[str]:
    calls = list(_calls())
    found: set[str] = set()
    for call in calls:
        if _name(call) in AUDIT_CALLS:
            arguments = [*call.args, *(word.value for word in call.keywords if word.arg == "action")]
            found.update(value for argument in arguments for value in _strings(argument) if "." in value)
    actions = {value for value in found if not value.endswith("{}")}
    for family in sorted(found - actions):
        prefix = family.removesuffix("{}")
        assert prefix in FAMILIES, f"actions made as {family!r}: say in FAMILIES where its values come from"
        function, where = FAMILIES[prefix]
        values = set()
        for call in calls:
            if _name(call) != function:
                continue
            if isinstance(where, int) and len(call.args) > where:
                values.update(_strings(call.args[where]))
            values.update(v for word in call.keywords if word.arg == where for v in _strings(word.value))
        assert values, f"no values found for {family!r}"
        actions.update(prefix + value for value in values)
    return actions


def test_every_action_recorded_in_the_code_has_a_label() -> None:
    actions = recorded_actions()
    # The scan sees each way an entry is written: literals, choices, the login and the families.
    assert {"case.taken", "staff.locked", "staff.login", "campaign.paused", "plan.edit-goal"} <= actions
    assert {"alert.crisis_words", "request.deletion"} <= actions
    assert sorted(actions - ACTION_LABELS.keys()) == []
    # And no label waits for an action nothing records any more.
    assert sorted(ACTION_LABELS.keys() - actions) == []


def test_every_object_kind_recorded_in_the_code_has_a_label() -> None:
    kinds = {
        value
        for call in _calls()
        if _name(call) == "record_audit"
        for word in call.keywords
        if word.arg == "object_type"
        for value in _strings(word.value)
    }
    assert "case" in kinds and "staff_user" in kinds
    assert sorted(kinds - OBJECT_LABELS.keys()) == []


async def test_the_audit_page_shows_labels_in_the_readers_language_and_keeps_the_codes(
    client: httpx.AsyncClient, sign_in_as: SignIn, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    at = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    async with sessionmaker() as session:
        session.add_all(
            [
                AuditEntry(
                    at=at,
                    actor="bot",
                    action="case.closed",
                    object_type="case",
                    object_id="IP-2026-000001",
                    details={"reason": "other_institution"},
                ),
                AuditEntry(
                    at=at + dt.timedelta(minutes=1),
                    actor="bot",
                    action="case.stage_changed",
                    object_type="case",
                    object_id="IP-2026-000001",
                    details={"from": "screening", "to": "initial_assessment"},
                ),
                AuditEntry(
                    at=at + dt.timedelta(minutes=1),
                    actor="bot",
                    action="referral.status",
                    object_type="case",
                    object_id="IP-2026-000001",
                    details={"from": "sent", "to": "accepted"},
                ),
                # An action of older data that no label knows is shown as its code.
                AuditEntry(
                    at=at + dt.timedelta(minutes=2),
                    actor="bot",
                    action="legacy.thing",
                    object_type="gadget",
                    object_id="7",
                    details={"reason": "other_institution"},
                ),
            ]
        )
        await session.commit()
    await sign_in_as("rustam", role="supervisor", language="ru")
    page = BeautifulSoup((await client.get("/audit")).text, "lxml")
    rows = {
        row.select_one(".audit-action code").get_text()
        if row.select_one(".audit-action code")
        else row.select_one(".audit-action").get_text(): row
        for row in page.select("tr.audit-entry")
    }
    closed = rows["case.closed"]
    assert closed.select_one(".audit-label").get_text() == "Дело закрыто"
    assert closed.select_one(".audit-object").get_text() == "Дело IP-2026-000001"
    assert closed.select_one(".audit-object")["title"] == "case"
    assert "другое учреждение" in closed.select_one(".audit-details").get_text().casefold()
    moved = rows["case.stage_changed"].select_one(".audit-details").get_text()
    assert "screening" not in moved and "initial_assessment" not in moved
    referral = rows["referral.status"].select_one(".audit-details").get_text()
    assert "sent" not in referral and "accepted" not in referral
    legacy = rows["legacy.thing"]
    assert legacy.select_one(".audit-action").get_text() == "legacy.thing"
    assert legacy.select_one(".audit-object").get_text() == "gadget 7"
    assert legacy.select_one(".audit-details").get_text() == "reason: other_institution"
    options = {option["value"]: option.get_text() for option in page.select("#f-action option")}
    assert options["case.closed"] == "Дело закрыто (case.closed)"
    assert options["legacy.thing"] == "legacy.thing"
    # The filter still takes the code.
    filtered = BeautifulSoup((await client.get("/audit", params={"action": "case.closed"})).text, "lxml")
    assert [row.select_one(".audit-action code").get_text() for row in filtered.select("tr.audit-entry")] == [
        "case.closed"
    ]
