"""In-memory world of the sandbox: simulated users, bots, their chats, update queues and injected faults."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

FIRST_USER_ID = 100_000_001
BOT_FIRST_NAME = "Intake Bridge (sandbox)"
CALL_LOG_LIMIT = 100_000
UPDATE_HISTORY_LIMIT = 10_000
CHANGE_HISTORY_LIMIT = 1_000
FAULT_KINDS = ("429", "403", "500", "502", "delay", "timeout")
# Telegram's defaults: these update types are only sent when asked for explicitly.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class ApiError(Exception):
    """A Bot API error answer: HTTP status and ``error_code`` are the same number, like Telegram."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


BLOCKED = "Forbidden: bot was blocked by the user"


class Signal:
    """Wakes every current waiter at once; waiters re-check their condition afterwards."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float | None) -> bool:
        """True when notified, False when ``seconds`` passed first (None: wait as long as it takes)."""
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        return True


@dataclass
class SimUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def telegram(self) -> dict[str, Any]:
        """The Telegram ``User`` object."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                user[key] = getattr(self, key)
        return user


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    size: int
    data: bytes | None  # None when larger than the sandbox keeps

    def document(self) -> dict[str, Any]:
        """The Telegram ``Document`` object."""
        doc: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc


@dataclass
class ChatMessage:
    message_id: int
    sender: str  # "user" or "bot"
    date: int
    kind: str  # "text", "document", "venue", ...
    content: dict[str, Any]  # the Message fields of this kind: text/entities, venue, caption, ...
    html: str  # the text or caption exactly as sent
    reply_markup: dict[str, Any] | None = None
    edit_date: int | None = None
    deleted: bool = False

    @property
    def text(self) -> str:
        """Plain text, or the plain caption of a media message."""
        return self.content.get("text") or self.content.get("caption") or ""

    def telegram(self, chat: Chat, sender: dict[str, Any]) -> dict[str, Any]:
        """The Telegram ``Message`` object."""
        message = {
            "message_id": self.message_id,
            "from": sender,
            "chat": chat.telegram(),
            "date": self.date,
            **self.content,
        }
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        return message

    def transcript_entry(self, bot_id: int) -> dict[str, Any]:
        document = self.content.get("document")
        return {
            "message_id": self.message_id,
            "from": self.sender,
            "date": self.date,
            "text": self.text,
            "entities": self.content.get("entities") or self.content.get("caption_entities") or [],
            "html": self.html,
            "kind": self.kind,
            "reply_markup": self.reply_markup,
            "edited": self.edit_date is not None,
            "deleted": self.deleted,
            "document": _transcript_document(bot_id, document) if document else None,
            "venue": self.content.get("venue"),
            "location": self.content.get("location"),
            "contact": self.content.get("contact"),
        }


def _transcript_document(bot_id: int, document: dict[str, Any]) -> dict[str, Any]:
    return {
        "file_name": document.get("file_name"),
        "mime_type": document.get("mime_type"),
        "file_size": document.get("file_size"),
        "url": f"/sandbox/api/bots/{bot_id}/files/{document['file_id']}",
    }


@dataclass
class Chat:
    """The private chat between one bot and one user (its id is the user's id)."""

    user: SimUser
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    callback_answers: list[dict[str, Any]] = field(default_factory=list)
    reply_keyboard: dict[str, Any] | None = None
    blocked: bool = False
    next_message_id: int = 1

    def telegram(self) -> dict[str, Any]:
        """The Telegram ``Chat`` object."""
        chat: dict[str, Any] = {"id": self.user.id, "type": "private"}
        chat.update({k: v for k, v in self.user.telegram().items() if k in _CHAT_USER_KEYS})
        return chat

    def add(
        self,
        sender: str,
        kind: str,
        content: dict[str, Any],
        html: str = "",
        reply_markup: dict[str, Any] | None = None,
    ) -> ChatMessage:
        message = ChatMessage(
            self.next_message_id, sender, int(time.time()), kind, content, html, reply_markup
        )
        self.messages[message.message_id] = message
        self.next_message_id += 1
        if sender == "bot" and reply_markup:
            self._apply_keyboard(reply_markup)
        return message

    def _apply_keyboard(self, markup: dict[str, Any]) -> None:
        # Reply keyboards outlive their message until removed or replaced, as in Telegram.
        if "keyboard" in markup:
            self.reply_keyboard = markup
        elif markup.get("remove_keyboard"):
            self.reply_keyboard = None

    def find(self, message_id: int) -> ChatMessage | None:
        message = self.messages.get(message_id)
        return message if message is not None and not message.deleted else None

    def inline_button(self, label: str) -> tuple[ChatMessage, dict[str, Any]] | None:
        """The button labelled ``label`` on the newest bot message that has one."""
        for message in reversed(self.messages.values()):
            if message.sender != "bot" or message.deleted or not message.reply_markup:
                continue
            for row in message.reply_markup.get("inline_keyboard", ()):
                for button in row:
                    if button.get("text") == label:
                        return message, button
        return None

    def reply_button(self, label: str) -> dict[str, Any] | None:
        for row in (self.reply_keyboard or {}).get("keyboard", ()):
            for button in row:
                if button.get("text") == label:
                    return button
        return None

    def transcript(self, bot_id: int) -> dict[str, Any]:
        return {
            "messages": [m.transcript_entry(bot_id) for m in self.messages.values()],
            "callback_answers": list(self.callback_answers),
            "reply_keyboard": self.reply_keyboard,
            "blocked": self.blocked,
        }


_CHAT_USER_KEYS = ("first_name", "last_name", "username")


@dataclass(eq=False)  # identity: a replayed copy must stay distinct from its original
class QueuedUpdate:
    update: dict[str, Any]
    chat_id: int | None  # webhooks deliver one update per chat at a time, in order
    returned: bool = False
    replay: bool = False

    @property
    def update_id(self) -> int:
        return self.update["update_id"]


@dataclass
class WebhookConfig:
    urls: list[str]
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None
    _turn: int = 0

    def next_url(self) -> str:
        """Round-robin over the comma-separated URLs (a sandbox extension for replicas)."""
        url = self.urls[self._turn % len(self.urls)]
        self._turn += 1
        return url

    def record_error(self, message: str) -> None:
        self.last_error_date = int(time.time())
        self.last_error_message = message


@dataclass
class CallbackRecord:
    user_id: int
    answered: bool = False


class BotState:
    """Everything one bot (one token) sees: its chats, update queue, files, settings and call log."""

    def __init__(self, bot_id: int, username: str) -> None:
        self.bot_id = bot_id
        self.username = username
        self.updates_signal = Signal()
        self.events_signal = Signal()
        self.next_update_id = 1  # survives reset: a running bot's offset must keep working
        self.poll_generation = 0
        self.seq = 0
        self.clear()

    def clear(self) -> None:
        """Forget chats, updates and settings; the update counter and waiting pollers stay."""
        self.chats: dict[int, Chat] = {}
        self.pending: list[QueuedUpdate] = []
        self.history: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self.files: dict[str, StoredFile] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook: WebhookConfig | None = None
        self.allowed_updates: list[str] = []
        self.call_log: deque[dict[str, Any]] = deque(maxlen=CALL_LOG_LIMIT)
        self.changes: deque[tuple[int, int]] = deque(maxlen=CHANGE_HISTORY_LIMIT)
        self.last_request_at: float | None = None
        self.updates_signal.notify()
        self.touch(None)

    def me(self) -> dict[str, Any]:
        """The bot's ``User`` object as it appears in messages."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": self.username,
        }

    def summary(self) -> dict[str, Any]:
        return {**self.me(), "last_request_at": self.last_request_at}

    def touch(self, user_id: int | None) -> None:
        """Record that a chat changed so the web phone and waiting tests look again."""
        self.seq += 1
        if user_id is not None:
            self.changes.append((self.seq, user_id))
        self.events_signal.notify()

    def changed_since(self, seq: int) -> list[int]:
        """Users whose chat changed after ``seq``."""
        if len(self.changes) == self.changes.maxlen and self.changes[0][0] > seq + 1:
            return sorted(self.chats)  # older than the history kept: report every chat
        return sorted({user_id for change_seq, user_id in self.changes if change_seq > seq})

    def chat(self, user: SimUser) -> Chat:
        """The chat with ``user``, opened when the user first writes to the bot."""
        if user.id not in self.chats:
            self.chats[user.id] = Chat(user)
        return self.chats[user.id]

    def sendable_chat(self, chat_id: int | str, users: dict[int, SimUser]) -> Chat:
        """The chat a Bot API call targets, failing the way Telegram does.

        Unlike Telegram, a bot may write first to any user the sandbox knows: tests of outreach
        create recipients without scripting a /start for each.
        """
        user_id = int(chat_id) if isinstance(chat_id, int) or chat_id.lstrip("-").isdigit() else 0
        if user_id not in users:
            raise bad_request("chat not found")
        chat = self.chat(users[user_id])
        if chat.blocked:
            raise ApiError(403, BLOCKED)
        return chat

    def enqueue(self, body: dict[str, Any], chat_id: int | None) -> int:
        """Queue a new update (``body`` without ``update_id``) and return its id."""
        update_id = self.next_update_id
        self.next_update_id += 1
        update = {"update_id": update_id, **body}
        self.history[update_id] = update
        while len(self.history) > UPDATE_HISTORY_LIMIT:
            self.history.popitem(last=False)
        if self._wanted(body):
            self.pending.append(QueuedUpdate(update, chat_id))
            self.updates_signal.notify()
        return update_id

    def _wanted(self, body: dict[str, Any]) -> bool:
        kind = next(iter(body))
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in _OPT_IN_UPDATES

    def replay(self, update_id: int) -> bool:
        """Queue again an exact copy of an earlier update, as webhook retries do."""
        update = self.history.get(update_id)
        if update is None:
            return False
        chat_id = _update_chat_id(update)
        self.pending.append(QueuedUpdate(dict(update), chat_id, replay=True))
        self.updates_signal.notify()
        return True

    def confirm(self, offset: int) -> None:
        """getUpdates' offset: forget what the bot has seen, or keep only the last -offset."""
        if offset < 0:
            self.pending = self.pending[offset:]
            return
        # A replayed copy has an old update_id; it must survive until it has been handed out.
        self.pending = [
            queued
            for queued in self.pending
            if queued.update_id >= offset or (queued.replay and not queued.returned)
        ]

    def take_updates(self, limit: int) -> list[dict[str, Any]]:
        batch = self.pending[:limit]
        for queued in batch:
            queued.returned = True
        return [queued.update for queued in batch]

    def add_file(
        self, file_name: str | None, mime_type: str | None, data: bytes | None, size: int
    ) -> StoredFile:
        unique_id = f"F{len(self.files) + 1}"
        stored = StoredFile(
            f"{unique_id}-{secrets.token_urlsafe(12)}", unique_id, file_name, mime_type, size, data
        )
        self.files[stored.file_id] = stored
        return stored

    def remove_pending(self, queued: QueuedUpdate) -> None:
        if queued in self.pending:
            self.pending.remove(queued)

    def log_call(
        self,
        received: float,
        method: str,
        chat_id: Any,
        error_code: int | None,
        *,
        paid_broadcast: bool = False,
    ) -> None:
        entry = {
            "t": received,
            "method": method,
            "chat_id": chat_id,
            "ok": error_code is None,
            "error_code": error_code,
        }
        if paid_broadcast:
            entry["paid_broadcast"] = True
        self.call_log.append(entry)


def _update_chat_id(update: dict[str, Any]) -> int | None:
    for key in ("message", "edited_message", "my_chat_member"):
        if key in update:
            return update[key]["chat"]["id"]
    if "callback_query" in update:
        return update["callback_query"]["from"]["id"]
    return None


@dataclass
class Fault:
    kind: str
    remaining: int
    bot_id: int | None = None
    method: str | None = None
    retry_after: int = 1
    delay: float = 1.0

    def matches(self, bot_id: int, method: str) -> bool:
        if self.bot_id is not None and self.bot_id != bot_id:
            return False
        if self.method is None:
            # An untargeted fault is meant for the calls a bot makes, not for its idle long poll.
            return method.lower() != "getupdates"
        return self.method.lower() == method.lower()


class SandboxState:
    """All simulated users and bots of one sandbox server."""

    def __init__(self, bot_username: str, first_user_id: int = FIRST_USER_ID) -> None:
        self.bot_username = bot_username
        self.first_user_id = first_user_id
        self.bots: dict[int, BotState] = {}
        self.users: dict[int, SimUser] = {}
        self.faults: list[Fault] = []
        self.next_user_id = first_user_id
        self.closing = False

    def bot(self, bot_id: int) -> BotState:
        if bot_id not in self.bots:
            self.bots[bot_id] = BotState(bot_id, self.bot_username)
        return self.bots[bot_id]

    def create_user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> SimUser:
        user = SimUser(self.next_user_id, first_name, last_name, username, language_code)
        self.users[user.id] = user
        self.next_user_id += 1
        return user

    def take_fault(self, bot_id: int, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(bot_id, method):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def reset(self) -> None:
        """Forget everything but keep bot objects, so long polls already waiting stay attached."""
        self.users.clear()
        self.faults.clear()
        self.next_user_id = self.first_user_id
        for bot in self.bots.values():
            bot.clear()

    def wake_all(self) -> None:
        for bot in self.bots.values():
            bot.updates_signal.notify()
            bot.events_signal.notify()
