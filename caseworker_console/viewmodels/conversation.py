"""A case's conversation tab as it is shown: the person's messages and the replies, and the
messages to the person whose delivery is uncertain, in the reader's language. For a reader who is
not on the case (permissions.sees_identity) what was written reads "Hidden"; only when, who and
of which kind show."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gettext
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from caseworker_console import formview, i18n
from caseworker_console.views import ALERT_KINDS, staff_name
from programme import ready_replies as replies
from programme.appointments import Interval
from programme.assessment import CONSENT_LANGUAGES
from programme.handoff import TOPICS
from programme.text import N_
from storage.models import OutboxMessage, StaffUser
from storage.models_journey import CaseMessage
from storage.models_organisation import ReadyReply
from storage.outbox import Lane
from texts.bidi import isolate
from wording.replies import ready_reply_text

KIND_LABELS: dict[str, str] = {
    "text": N_("Text"),
    "photo": N_("Photo"),
    "document": N_("Document"),
    "voice": N_("Voice message"),
    "location": N_("Location"),
}
# Messages to the person whose delivery is uncertain (the sender stopped while sending them).
UNCERTAIN_KINDS: dict[int, str] = {
    int(Lane.REPLY): N_("A reply or a proposal of a time"),
    int(Lane.REMINDER): N_("An appointment reminder"),
}
# Each language's name isolated: a right-to-left one in an English sentence or a list keeps its place.
LANGUAGE_NAMES = {option.value: isolate(option.label) for option in CONSENT_LANGUAGES}
# A file whose content the retention purge removed (storage.retention): the message stays.
FILE_REMOVED = N_("%(kind)s: removed on %(date)s, after the retention period")
# A row's sealed JSON column opened (None: the reader may not see it, and nothing is decrypted).
Reveal = Callable[[Any, str], dict[str, Any] | None]


@dataclasses.dataclass(frozen=True)
class MessageView:
    incoming: bool
    kind: str
    text: str  # the message, or an attachment's caption ("Hidden" for a reader not on the case)
    attachment: str | None  # kind of attachment and its file name, coordinates or length
    at: str
    at_iso: str
    unread: bool
    by: str | None
    alert: str | None = None  # the kind of alert it raised (urgent help, crisis words)


@dataclasses.dataclass(frozen=True)
class ReadyReplyView:
    id: int
    label: str
    text: str | None  # in the beneficiary's language; None: it has none, so it cannot be sent
    lacking: list[str]  # names of the bot's languages it has no text in


@dataclasses.dataclass(frozen=True)
class UncertainView:
    id: str
    kind: str
    text: str  # what was sent ("Hidden" for a reader not on the case)
    at: str
    at_iso: str


@dataclasses.dataclass(frozen=True)
class Reader:
    translate: gettext.NullTranslations
    locale: str
    zone: zoneinfo.ZoneInfo
    reveal: Reveal | None  # None: the reader is not on the case


def attachment(kind: str, body: dict[str, Any], label: str) -> str | None:
    if kind == "text":
        return None
    detail = body.get("file_name")
    if kind == "location" and "latitude" in body:
        detail = f"{body.get('latitude')}, {body.get('longitude')}"
    elif kind == "voice" and body.get("duration") is not None:
        detail = f"{body['duration']} s"
    return f"{label}: {detail}" if detail else label


def _alert_label(body: dict[str, Any], gettext: Callable[[str], str]) -> str | None:
    """The kind of alert a message raised (bot.dialogs.urgent keeps it in the body), translated."""
    raised = body.get("alert")
    return gettext(ALERT_KINDS[raised]) if raised in ALERT_KINDS else None


def _when(at: dt.datetime, reader: Reader) -> str:
    return i18n.format_local_datetime(at, locale=reader.locale, timezone=reader.zone)


def message_view(row: CaseMessage, people: Mapping[int, StaffUser], reader: Reader) -> MessageView:
    translate = reader.translate
    body = (reader.reveal(row, "body_enc") or {}) if reader.reveal else {}
    label = translate.gettext(KIND_LABELS[row.kind]) if row.kind in KIND_LABELS else row.kind
    shown = attachment(row.kind, body, label)
    if row.removed_at is not None:
        removed = i18n.format_day(row.removed_at.astimezone(reader.zone).date(), locale=reader.locale)
        shown = translate.gettext(FILE_REMOVED) % {"kind": label, "date": removed}
    return MessageView(
        incoming=row.direction == "in",
        kind=label,
        text=str(body.get("text") or body.get("caption") or "")
        if reader.reveal
        else translate.gettext(formview.HIDDEN),
        attachment=shown,
        at=_when(row.created_at, reader),
        at_iso=row.created_at.isoformat(),
        unread=row.direction == "in" and row.read_at is None,
        by=staff_name(people.get(row.staff_id or 0)),
        alert=_alert_label(body, translate.gettext),
    )


def uncertain_view(row: OutboxMessage, reader: Reader) -> UncertainView:
    payload = (reader.reveal(row, "payload_enc") or {}) if reader.reveal else {}
    return UncertainView(
        id=str(row.id),
        kind=reader.translate.gettext(UNCERTAIN_KINDS[row.lane]),
        text=str(payload.get("text") or "") if reader.reveal else reader.translate.gettext(formview.HIDDEN),
        at=_when(row.created_at, reader),
        at_iso=row.created_at.isoformat(),
    )


def topic(value: str | None, reader: Reader) -> str | None:
    """The topic the person chose before writing; like the messages, hidden from a reader not on
    the case."""
    label = dict(TOPICS).get(value or "")
    if label is None:
        return None
    return reader.translate.gettext(label if reader.reveal else formview.HIDDEN)


def ready_reply_views(
    rows: Sequence[ReadyReply], *, language: str, locale: str, hours: Mapping[int, Sequence[Interval]]
) -> list[ReadyReplyView]:
    """The ready replies as the reply form offers them: labelled in the reader's language, with the
    text in the person's (`language`) as it would be sent, placeholders filled, or none; and the
    languages each lacks."""
    texts = [(reply.texts or {}).get(language) for reply in rows]
    return [
        ReadyReplyView(
            id=reply.id,
            label=replies.label_in(reply.labels or {}, locale),
            text=ready_reply_text(text, language, hours=hours) if text else None,
            lacking=[LANGUAGE_NAMES[code] for code in replies.lacking(reply.texts or {})],
        )
        for reply, text in zip(rows, texts, strict=True)
    ]


def build_conversation(
    messages: Sequence[CaseMessage],
    uncertain: Sequence[OutboxMessage],
    *,
    people: Mapping[int, StaffUser],
    reader: Reader,
) -> tuple[list[MessageView], list[UncertainView]]:
    """The messages oldest first as stored, and the uncertain ones waiting for a decision."""
    return [message_view(row, people, reader) for row in messages], [
        uncertain_view(row, reader) for row in uncertain
    ]
