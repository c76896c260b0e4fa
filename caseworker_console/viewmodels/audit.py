"""The audit log as the supervisors' page shows it: each entry's time on the office's clock, its
actor by name, and its action, object and details in the reader's language."""

from __future__ import annotations

import dataclasses
import gettext
import zoneinfo
from collections.abc import Mapping, Sequence

from caseworker_console import audit_labels, i18n
from storage.models import AuditEntry


@dataclasses.dataclass(frozen=True)
class EntryRow:
    at: str
    at_iso: str
    actor: str
    action: str
    action_label: str
    object_type: str
    object: str
    details: str


def details_text(translate: gettext.NullTranslations, action: str, details: Mapping[str, object]) -> str:
    # Details hold codes and counts only (never personal data); a code with a label shows the label.
    return ", ".join(
        f"{key}: {audit_labels.detail_value(translate, action, key, value)}"
        for key, value in sorted(details.items())
    )


def entry_rows(
    entries: Sequence[AuditEntry],
    *,
    names: Mapping[str, str],
    translate: gettext.NullTranslations,
    locale: str,
    zone: zoneinfo.ZoneInfo,
) -> list[EntryRow]:
    """The entries as rows; `names` gives staff actors ("staff:<id>") their names."""
    return [
        EntryRow(
            at=i18n.format_local_datetime(entry.at, locale=locale, timezone=zone),
            at_iso=entry.at.isoformat(),
            actor=names.get(entry.actor, entry.actor),
            action=entry.action,
            action_label=audit_labels.action_label(translate, entry.action),
            object_type=entry.object_type,
            object=" ".join(
                part
                for part in (audit_labels.object_label(translate, entry.object_type), entry.object_id)
                if part
            ),
            details=details_text(translate, entry.action, entry.details or {}),
        )
        for entry in entries
    ]
