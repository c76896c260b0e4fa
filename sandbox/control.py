"""Control API under /sandbox/api/: simulated users act, tests and the web phone look and inject faults."""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from sandbox.botapi import SPEC, STATE, WEBHOOKS, file_response
from sandbox.methods import photo_sizes
from sandbox.state import (
    FAULT_KINDS,
    BotState,
    CallbackRecord,
    Chat,
    ChatMessage,
    Fault,
    SimUser,
    StoredFile,
)
from texts.telegram_html import utf16_len

EVENTS_MAX_WAIT = 25.0
DEFAULT_PHONE = "+994501234567"
DEFAULT_LOCATION = {"latitude": 40.4093, "longitude": 49.8671}  # Baku
PLACEHOLDER_BYTES = b"sandbox placeholder file\n"
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,})?")

_API = "/sandbox/api"
_BOT = _API + r"/bots/{bot_id:\d+}"
_CHAT = _BOT + r"/users/{user_id:\d+}"


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_post(f"{_API}/users", create_user)
    router.add_get(f"{_API}/users", list_users)
    router.add_post(f"{_API}/users/many", create_users)
    router.add_get(f"{_API}/bots", list_bots)
    router.add_post(f"{_CHAT}/messages", user_message)
    router.add_post(f"{_CHAT}/press", press)
    router.add_post(f"{_CHAT}/block", block)
    router.add_post(f"{_CHAT}/unblock", unblock)
    router.add_get(f"{_CHAT}/transcript", transcript)
    router.add_post(f"{_BOT}/replay", replay)
    router.add_get(f"{_BOT}/log", call_log)
    router.add_delete(f"{_BOT}/log", clear_call_log)
    router.add_get(f"{_BOT}/events", events)
    router.add_get(_BOT + "/files/{file_id}", download)
    router.add_post(f"{_API}/faults", add_fault)
    router.add_delete(f"{_API}/faults", clear_faults)
    router.add_post(f"{_API}/reset", reset)


# --- request helpers ------------------------------------------------------------------------


def _fail(status: int, message: str) -> web.HTTPException:
    error_class = web.HTTPNotFound if status == 404 else web.HTTPBadRequest
    return error_class(text=json.dumps({"error": message}), content_type="application/json")


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json() if request.body_exists else {}
    except ValueError:
        raise _fail(400, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise _fail(400, "the body must be a JSON object")
    return body


def _bot(request: web.Request) -> BotState:
    # Created on demand: tests may queue updates before the bot process makes its first call.
    return request.app[STATE].bot(int(request.match_info["bot_id"]))


def _user(request: web.Request) -> SimUser:
    user_id = int(request.match_info["user_id"])
    user = request.app[STATE].users.get(user_id)
    if user is None:
        raise _fail(404, f"no user {user_id}: create one with POST {_API}/users")
    return user


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise _fail(400, f"{key} must be a string")
    return value or None


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(400, f"{name} must be a number")
    return float(value)


# --- users and bots -------------------------------------------------------------------------


async def create_user(request: web.Request) -> web.Response:
    body = await _body(request)
    first_name = _optional_str(body, "first_name")
    if not first_name:
        raise _fail(400, "first_name is required")
    user = request.app[STATE].create_user(
        first_name,
        _optional_str(body, "last_name"),
        _optional_str(body, "username"),
        _optional_str(body, "language_code"),
    )
    return web.json_response(user.telegram())


MANY_USERS_MAX = 100_000


async def create_users(request: web.Request) -> web.Response:
    """`count` users named `first_name` N (benchmarks need 100,000 people, not 100,000 requests);
    answers their ids, in order."""
    body = await _body(request)
    count = body.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MANY_USERS_MAX:
        raise _fail(400, f"count must be a whole number from 1 to {MANY_USERS_MAX}")
    first_name = _optional_str(body, "first_name") or "User"
    language_code = _optional_str(body, "language_code")
    state = request.app[STATE]
    ids = [state.create_user(f"{first_name} {n + 1}", None, None, language_code).id for n in range(count)]
    return web.json_response({"ids": ids})


async def list_users(request: web.Request) -> web.Response:
    return web.json_response([user.telegram() for user in request.app[STATE].users.values()])


async def list_bots(request: web.Request) -> web.Response:
    """Bots that have called the Bot API, most recently active first."""
    active = [bot for bot in request.app[STATE].bots.values() if bot.last_request_at is not None]
    active.sort(key=lambda bot: bot.last_request_at or 0.0, reverse=True)
    return web.json_response([bot.summary() for bot in active])


# --- what users do --------------------------------------------------------------------------


def _user_says(bot: BotState, user: SimUser, kind: str, content: dict[str, Any]) -> dict[str, int]:
    chat = bot.chat(user)
    if chat.blocked:  # writing to a bot one has blocked restarts it, as in Telegram
        _set_blocked(bot, chat, blocked=False)
    message = chat.add("user", kind, content, content.get("text", ""))
    update_id = bot.enqueue({"message": message.telegram(chat, user.telegram())}, user.id)
    bot.touch(user.id)
    return {"update_id": update_id, "message_id": message.message_id}


def _text(bot: BotState, user: SimUser, value: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(value, str) or not value.strip():
        raise _fail(400, "text must be a non-empty string")
    content: dict[str, Any] = {"text": value}
    command = _COMMAND_RE.match(value)
    if command:
        length = utf16_len(command.group(0))
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return "text", content


def _placeholder(bot: BotState, name: str | None, mime: str) -> StoredFile:
    return bot.add_file(name, mime, PLACEHOLDER_BYTES, len(PLACEHOLDER_BYTES))


def _sticker(bot: BotState, user: SimUser, value: Any) -> tuple[str, dict[str, Any]]:
    stored = _placeholder(bot, None, "image/webp")
    sticker = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "\N{THUMBS UP SIGN}",
    }
    return "sticker", {"sticker": sticker}


def _photo(bot: BotState, user: SimUser, value: Any) -> tuple[str, dict[str, Any]]:
    return "photo", {"photo": photo_sizes(_placeholder(bot, None, "image/jpeg"))}


def _document(bot: BotState, user: SimUser, value: Any) -> tuple[str, dict[str, Any]]:
    name = value.get("file_name") if isinstance(value, dict) else None
    if not isinstance(name, str) or not name:
        raise _fail(400, 'document must be {"file_name": "<name>"}')
    stored = _placeholder(bot, name, "application/octet-stream")
    return "document", {"document": stored.document()}


def _voice(bot: BotState, user: SimUser, value: Any) -> tuple[str, dict[str, Any]]:
    stored = _placeholder(bot, None, "audio/ogg")
    voice = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "duration": 2,
        "mime_type": "audio/ogg",
        "file_size": stored.size,
    }
    return "voice", {"voice": voice}


def _location(bot: BotState, user: SimUser, value: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise _fail(400, 'location must be {"latitude": <number>, "longitude": <number>}')
    location = {key: _number(value.get(key), key) for key in ("latitude", "longitude")}
    return "location", {"location": location}


def _contact(bot: BotState, user: SimUser, value: Any) -> tuple[str, dict[str, Any]]:
    """A contact the user shares of themselves, as a request_contact button produces."""
    phone = value.get("phone_number") if isinstance(value, dict) else None
    if not isinstance(phone, str) or not phone:
        raise _fail(400, 'contact must be {"phone_number": "<number>"}')
    contact = {
        "phone_number": phone,
        "first_name": value.get("first_name") or user.first_name,
        "user_id": user.id,
    }
    return "contact", {"contact": contact}


_ContentBuilder = Callable[[BotState, SimUser, Any], tuple[str, dict[str, Any]]]
_CONTENT_BUILDERS: dict[str, _ContentBuilder] = {
    "text": _text,
    "sticker": _sticker,
    "photo": _photo,
    "document": _document,
    "voice": _voice,
    "location": _location,
    "contact": _contact,
}


async def user_message(request: web.Request) -> web.Response:
    bot, user, body = _bot(request), _user(request), await _body(request)
    key = next((key for key in _CONTENT_BUILDERS if body.get(key)), None)
    if key is None:
        raise _fail(400, f"the body needs one of: {', '.join(_CONTENT_BUILDERS)}")
    kind, content = _CONTENT_BUILDERS[key](bot, user, body[key])
    return web.json_response(_user_says(bot, user, kind, content))


async def press(request: web.Request) -> web.Response:
    """Press an inline button (by message and callback_data, or by label) or a reply button."""
    bot, user, body = _bot(request), _user(request), await _body(request)
    chat = bot.chats.get(user.id)
    if chat is None:
        raise _fail(404, f"user {user.id} has no chat with bot {bot.bot_id}")
    if "callback_data" in body:
        return web.json_response(_forged_press(bot, chat, body))
    label = body.get("text")
    if not isinstance(label, str):
        raise _fail(400, 'the body needs "text" (a button label) or "message_id" + "callback_data"')
    found = chat.inline_button(label)
    if found is not None:
        message, button = found
        if "callback_data" not in button:
            raise _fail(400, f"button {label!r} sends no callback_data: {button}")
        return web.json_response(_callback(bot, chat, message, button["callback_data"]))
    button = chat.reply_button(label)
    if button is None:
        raise _fail(404, f"no button labelled {label!r}; visible buttons: {_labels(chat)}")
    return web.json_response(_press_reply_button(bot, chat, button, body))


def _forged_press(bot: BotState, chat: Chat, body: dict[str, Any]) -> dict[str, Any]:
    # Any callback_data is allowed on purpose: clients can forge it, bots must not trust it.
    message_id = body.get("message_id")
    message = chat.find(message_id) if isinstance(message_id, int) else None
    if message is None or message.sender != "bot":
        raise _fail(404, f"no bot message {message_id} in chat {chat.user.id}")
    return _callback(bot, chat, message, str(body["callback_data"]))


def _callback(bot: BotState, chat: Chat, message: ChatMessage, data: str) -> dict[str, Any]:
    query_id = str(secrets.randbits(63))  # Telegram's ids are long decimal strings
    bot.callbacks[query_id] = CallbackRecord(chat.user.id)
    query = {
        "id": query_id,
        "from": chat.user.telegram(),
        "message": message.telegram(chat, bot.me()),
        "chat_instance": f"{bot.bot_id}{chat.user.id}",
        "data": data,
    }
    update_id = bot.enqueue({"callback_query": query}, chat.user.id)
    return {"update_id": update_id, "callback_query_id": query_id}


def _press_reply_button(
    bot: BotState, chat: Chat, button: dict[str, Any], body: dict[str, Any]
) -> dict[str, int]:
    if chat.reply_keyboard and chat.reply_keyboard.get("one_time_keyboard"):
        chat.reply_keyboard = None
    user = chat.user
    if button.get("request_contact"):
        phone = body.get("phone_number", DEFAULT_PHONE)
        kind, content = _contact(bot, user, {"phone_number": phone})
    elif button.get("request_location"):
        kind, content = "location", {"location": dict(DEFAULT_LOCATION)}
    else:
        kind, content = _text(bot, user, button["text"])
    return _user_says(bot, user, kind, content)


def _labels(chat: Chat) -> list[str]:
    """What a press could name: the reply keyboard and the newest inline keyboard."""
    rows = list((chat.reply_keyboard or {}).get("keyboard", ()))
    for message in reversed(chat.messages.values()):
        inline = (message.reply_markup or {}).get("inline_keyboard")
        if message.sender == "bot" and not message.deleted and inline:
            rows += inline
            break
    return [button.get("text", "") for row in rows for button in row]


def _member(bot: BotState, status: str) -> dict[str, Any]:
    member: dict[str, Any] = {"status": status, "user": bot.me()}
    if status == "kicked":
        member["until_date"] = 0
    return member


def _set_blocked(bot: BotState, chat: Chat, *, blocked: bool) -> None:
    """Block or unblock, telling the bot through ``my_chat_member`` like Telegram does."""
    chat.blocked = blocked
    old, new = ("member", "kicked") if blocked else ("kicked", "member")
    change = {
        "chat": chat.telegram(),
        "from": chat.user.telegram(),
        "date": int(time.time()),
        "old_chat_member": _member(bot, old),
        "new_chat_member": _member(bot, new),
    }
    bot.enqueue({"my_chat_member": change}, chat.user.id)
    bot.touch(chat.user.id)


async def block(request: web.Request) -> web.Response:
    bot, user = _bot(request), _user(request)
    chat = bot.chat(user)
    if not chat.blocked:
        _set_blocked(bot, chat, blocked=True)
    return web.json_response({"blocked": True})


async def unblock(request: web.Request) -> web.Response:
    bot, user = _bot(request), _user(request)
    chat = bot.chat(user)
    if chat.blocked:
        _set_blocked(bot, chat, blocked=False)
    return web.json_response({"blocked": False})


# --- looking ---------------------------------------------------------------------------------


async def transcript(request: web.Request) -> web.Response:
    bot, user = _bot(request), _user(request)
    chat = bot.chats.get(user.id) or Chat(user)
    return web.json_response({**chat.transcript(bot.bot_id), "seq": bot.seq})


async def events(request: web.Request) -> web.Response:
    """Long poll: answers once anything in the bot's chats changed after ``after``."""
    bot = _bot(request)
    try:
        after = int(request.query.get("after", "-1"))
        wait = min(float(request.query.get("timeout", EVENTS_MAX_WAIT)), EVENTS_MAX_WAIT)
    except ValueError:
        raise _fail(400, "after must be an integer and timeout a number") from None
    if bot.seq <= after and not request.app[STATE].closing:
        await bot.events_signal.wait(max(wait, 0.0))
    return web.json_response({"seq": bot.seq, "user_ids": bot.changed_since(after)})


async def call_log(request: web.Request) -> web.Response:
    return web.json_response(list(_bot(request).call_log))


async def clear_call_log(request: web.Request) -> web.Response:
    _bot(request).call_log.clear()
    return web.json_response({"ok": True})


async def download(request: web.Request) -> web.Response:
    return file_response(_bot(request).files.get(request.match_info["file_id"]))


# --- test machinery -------------------------------------------------------------------------


async def replay(request: web.Request) -> web.Response:
    body = await _body(request)
    update_id = body.get("update_id")
    if not isinstance(update_id, int) or not _bot(request).replay(update_id):
        raise _fail(404, f"no update {update_id} to replay")
    return web.json_response({"update_id": update_id})


async def add_fault(request: web.Request) -> web.Response:
    body = await _body(request)
    kind = str(body.get("kind"))
    if kind not in FAULT_KINDS:
        raise _fail(400, f"kind must be one of {', '.join(FAULT_KINDS)}")
    count, bot_id = body.get("count", 1), body.get("bot_id")
    if not isinstance(count, int) or count < 1:
        raise _fail(400, "count must be a positive integer")
    if bot_id is not None and not isinstance(bot_id, int):
        raise _fail(400, "bot_id must be an integer")
    method = _optional_str(body, "method")
    if method is not None and request.app[SPEC].method(method) is None:
        raise _fail(400, f"{method} is not a Bot API method")
    fault = Fault(
        kind,
        count,
        bot_id,
        method,
        int(_number(body.get("retry_after", 1), "retry_after")),
        _number(body.get("delay", 10.0 if kind == "timeout" else 1.0), "delay"),
    )
    request.app[STATE].faults.append(fault)
    return web.json_response({"ok": True})


async def clear_faults(request: web.Request) -> web.Response:
    request.app[STATE].faults.clear()
    return web.json_response({"ok": True})


async def reset(request: web.Request) -> web.Response:
    request.app[WEBHOOKS].stop_all()
    request.app[STATE].reset()
    return web.json_response({"ok": True})
