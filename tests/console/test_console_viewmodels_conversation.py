"""A case's conversation as a view model, built from rows made by hand: no database, no HTTP."""

from __future__ import annotations

import datetime as dt
import gettext
import uuid
import zoneinfo
from typing import Any

from caseworker_console.viewmodels.conversation import Reader, build_conversation
from storage.models import OutboxMessage, StaffUser
from storage.models_journey import CaseMessage
from storage.outbox import Lane

BAKU = zoneinfo.ZoneInfo("Asia/Baku")
AT = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
PEOPLE = {4: StaffUser(id=4, username="amina", display_name="Amina K.")}
BODIES: dict[uuid.UUID, dict[str, Any]] = {}


def message(kind: str, body: dict[str, Any], **more: Any) -> CaseMessage:
    row = CaseMessage(
        id=uuid.uuid4(), kind=kind, created_at=AT, **{"direction": "in", "read_at": None, **more}
    )
    BODIES[row.id] = body
    return row


def reader(*, on_case: bool = True) -> Reader:
    def reveal(row: Any, column: str) -> dict[str, Any] | None:
        return BODIES.get(row.id)

    return Reader(
        translate=gettext.NullTranslations(), locale="en", zone=BAKU, reveal=reveal if on_case else None
    )


TEXT = message("text", {"text": "When is my appointment?"})
REPLY = message("text", {"text": "On Friday."}, direction="out", staff_id=4, read_at=AT)
VOICE = message("voice", {"duration": 12, "caption": "listen"})
PLACE = message("location", {"latitude": 40.4, "longitude": 49.8})
PHOTO = message("photo", {"file_name": "id.jpg"}, removed_at=AT + dt.timedelta(days=400))
WAITING = OutboxMessage(id=uuid.uuid4(), lane=int(Lane.REMINDER), created_at=AT)
BODIES[WAITING.id] = {"text": "Reminder: tomorrow at 10:00"}


def test_messages_show_their_text_kind_attachment_and_who_wrote_them() -> None:
    messages, uncertain = build_conversation(
        [TEXT, REPLY, VOICE, PLACE, PHOTO], [WAITING], people=PEOPLE, reader=reader()
    )
    text, reply, voice, place, photo = messages
    assert (text.text, text.kind, text.attachment, text.unread, text.by) == (
        "When is my appointment?",
        "Text",
        None,
        True,
        None,
    )
    assert not reply.incoming and not reply.unread and reply.by == "Amina K."
    assert (voice.text, voice.attachment) == ("listen", "Voice message: 12 s")
    assert place.attachment == "Location: 40.4, 49.8"
    assert photo.attachment == "Photo: removed on Jan 5, 2028, after the retention period"
    assert text.at == "Dec 1, 2026, 12:00\u202fPM" and text.at_iso == AT.isoformat()
    (waiting,) = uncertain
    assert (waiting.kind, waiting.text) == ("An appointment reminder", "Reminder: tomorrow at 10:00")


def test_a_reader_not_on_the_case_sees_when_and_what_kind_never_what_was_written() -> None:
    messages, uncertain = build_conversation(
        [TEXT, PHOTO], [WAITING], people=PEOPLE, reader=reader(on_case=False)
    )
    assert [message.text for message in messages] == ["Hidden", "Hidden"]
    # No file name either: only its kind.
    assert messages[1].kind == "Photo" and "id.jpg" not in (messages[1].attachment or "")
    assert uncertain[0].text == "Hidden" and uncertain[0].kind == "An appointment reminder"
