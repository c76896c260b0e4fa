"""Audit entries as the audit page shows them, built from entries made by hand: no database, no HTTP."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from caseworker_console.i18n import translations
from caseworker_console.viewmodels.audit import entry_rows
from storage.models import AuditEntry

BAKU = zoneinfo.ZoneInfo("Asia/Baku")
AT = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def entry(actor: str, action: str, object_type: str, object_id: str | None, **details: object) -> AuditEntry:
    return AuditEntry(
        at=AT, actor=actor, action=action, object_type=object_type, object_id=object_id, details=details
    )


def test_entries_name_the_staff_and_label_actions_and_objects_in_the_readers_language() -> None:
    rows = entry_rows(
        [
            entry("staff:3", "case.taken", "case", "K7QX-42"),
            entry("system", "no.such.action", "mystery", None, rows=2, zeta="z"),
        ],
        names={"staff:3": "Amina K."},
        translate=translations("en"),
        locale="en",
        zone=BAKU,
    )
    taken, unknown = rows
    assert (taken.actor, taken.action, taken.at, taken.at_iso) == (
        "Amina K.",
        "case.taken",
        "Dec 1, 2026, 12:00\u202fPM",
        AT.isoformat(),
    )
    assert taken.action_label != "case.taken" and taken.object.endswith(" K7QX-42")
    # What no label knows shows as its code; details in key order.
    assert unknown.actor == "system" and unknown.action_label == "no.such.action"
    assert unknown.details == "rows: 2, zeta: z" and "K7QX" not in unknown.object
    russian = entry_rows(
        [entry("staff:3", "case.taken", "case", "K7QX-42")],
        names={},
        translate=translations("ru"),
        locale="ru",
        zone=BAKU,
    )
    assert russian[0].actor == "staff:3" and russian[0].action_label not in ("case.taken", taken.action_label)
