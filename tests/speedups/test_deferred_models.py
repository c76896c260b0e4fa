"""aiogram's types are built on first use in our processes (intake.speedups.deferred_models): the
same answers as aiogram's eager build, for a fraction of the memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Nested types several levels deep: a callback query's message with a keyboard, entities, a reply.
UPDATE = {
    "update_id": 7,
    "callback_query": {
        "id": "c1",
        "chat_instance": "i1",
        "data": "consent:yes",
        "from": {"id": 5, "is_bot": False, "first_name": "Zahra", "language_code": "fa"},
        "message": {
            "message_id": 11,
            "date": 1_700_000_000,
            "chat": {"id": 5, "type": "private", "first_name": "Zahra"},
            "from": {"id": 42, "is_bot": True, "first_name": "Intake", "username": "intake_bot"},
            "text": "Do you agree? /start",
            "entities": [{"type": "bot_command", "offset": 14, "length": 6}],
            "reply_to_message": {
                "message_id": 10,
                "date": 1_699_999_999,
                "chat": {"id": 5, "type": "private"},
            },
            "reply_markup": {"inline_keyboard": [[{"text": "Yes", "callback_data": "consent:yes"}]]},
        },
    },
}

PROBE = """
import json, re, sys
if sys.argv[1] == "ours":
    import intake.runtime  # what `intake bot` and `intake worker` import first
else:
    import aiogram  # aiogram's own eager build
from aiogram.types import Message, Update
rss = int(re.search(r"VmRSS:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) // 1024
built_at_import = Message.__pydantic_complete__
update = Update.model_validate(json.loads(sys.argv[2]))
print(json.dumps({
    "rss_mib": rss,
    "message_built_at_import": built_at_import,
    "dump": update.model_dump(mode="json", exclude_none=True),
    "type": type(update.callback_query.message).__name__,
    "button": update.callback_query.message.reply_markup.inline_keyboard[0][0].callback_data,
}))
"""


def _probe(mode: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode, json.dumps(UPDATE)],
        cwd=ROOT,
        env=os.environ | {"INTAKE_SPEEDUPS": "on"},  # this patch, whatever the suite runs on
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def test_types_built_on_first_use_read_updates_as_aiogram_does() -> None:
    ours, eager = _probe("ours"), _probe("aiogram")

    assert ours["message_built_at_import"] is False
    assert eager["message_built_at_import"] is True
    assert ours["dump"] == eager["dump"]
    assert ours["type"] == eager["type"] == "Message"
    assert ours["button"] == "consent:yes"
    # Our whole runtime imported (dispatcher, storage, web server) still weighs less than aiogram alone.
    assert ours["rss_mib"] < eager["rss_mib"] - 30, (ours["rss_mib"], eager["rss_mib"])
