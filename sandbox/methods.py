"""The Bot API methods the sandbox really implements; every other described method just answers true."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import yarl

from sandbox.spec import UploadedFile
from sandbox.state import (
    ApiError,
    BotState,
    Chat,
    ChatMessage,
    SandboxState,
    StoredFile,
    WebhookConfig,
    bad_request,
)
from sandbox.webhook import WebhookDelivery
from texts.telegram_html import HtmlParseError, ParsedText, parse_html, stripped, utf16_len

# Limits are counted in UTF-16 code units (an emoji outside the BMP counts 2), the stricter of
# Telegram's possible readings, so a message the sandbox accepts also fits on Telegram.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
LONG_POLL_MAX = 50
PHOTO_SIZE = (320, 240)
WEBHOOK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the"
    " same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active;"
    " use deleteWebhook to delete the webhook first"
)
CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
_INLINE_BUTTON_ACTIONS = frozenset(
    {
        "url", "callback_data", "web_app", "login_url", "switch_inline_query",
        "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
        "copy_text", "callback_game", "pay",
    }
)  # fmt: skip
_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


@dataclass(frozen=True)
class CallContext:
    state: SandboxState
    bot: BotState
    webhooks: WebhookDelivery


Handler = Callable[[CallContext, dict[str, Any]], Awaitable[Any]]
_HANDLERS: dict[str, Handler] = {}


def handler_for(method_name: str) -> Handler | None:
    return _HANDLERS.get(method_name.lower())


def _implements(method_name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _HANDLERS[method_name.lower()] = handler
        return handler

    return register


# --- updates and webhooks -------------------------------------------------------------------


@_implements("getMe")
async def _get_me(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    return {
        **ctx.bot.me(),
        "can_join_groups": False,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@_implements("getUpdates")
async def _get_updates(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    bot = ctx.bot
    if bot.webhook is not None:
        raise ApiError(409, CONFLICT_WEBHOOK)
    if "offset" in params:
        bot.confirm(params["offset"])
    if "allowed_updates" in params:
        bot.allowed_updates = params["allowed_updates"]
    limit = min(max(params.get("limit", 100), 1), 100)
    timeout = min(max(params.get("timeout", 0), 0), LONG_POLL_MAX)
    bot.poll_generation += 1
    generation = bot.poll_generation
    bot.updates_signal.notify()  # an older poll still waiting now ends with a conflict
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        updates = bot.take_updates(limit)
        remaining = deadline - asyncio.get_running_loop().time()
        if updates or remaining <= 0 or ctx.state.closing:
            return updates
        await bot.updates_signal.wait(remaining)
        if generation != bot.poll_generation:
            raise ApiError(409, CONFLICT_POLL)


@_implements("setWebhook")
async def _set_webhook(ctx: CallContext, params: dict[str, Any]) -> bool:
    urls = _webhook_urls(params["url"])
    secret = params.get("secret_token")
    if secret is not None and not _SECRET_TOKEN_RE.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    if params.get("drop_pending_updates"):
        ctx.bot.pending.clear()
    if "allowed_updates" in params:
        ctx.bot.allowed_updates = params["allowed_updates"]
    config = WebhookConfig(urls, secret, min(max(params.get("max_connections", 40), 1), 100))
    ctx.bot.webhook = config
    ctx.webhooks.start(ctx.bot, config)
    ctx.bot.poll_generation += 1  # a getUpdates still waiting gives up
    ctx.bot.updates_signal.notify()
    return True


def _webhook_urls(value: str) -> list[str]:
    """Comma-separated URLs are a sandbox extension: several bot replicas, served in turn."""
    urls = [part.strip() for part in value.split(",") if part.strip()]
    if not urls:
        raise bad_request("bad webhook: an HTTP URL must be provided for webhook")
    for url in urls:
        try:
            parsed = yarl.URL(url)
        except ValueError:
            raise bad_request(f"bad webhook: invalid URL {url!r}") from None
        if parsed.scheme not in ("http", "https"):
            raise bad_request("bad webhook: an HTTP URL must be provided for webhook")
        if parsed.host not in WEBHOOK_HOSTS:
            raise bad_request(
                f"bad webhook: the sandbox only delivers to 127.0.0.1, localhost or ::1, not {parsed.host}"
            )
    return urls


@_implements("deleteWebhook")
async def _delete_webhook(ctx: CallContext, params: dict[str, Any]) -> bool:
    ctx.webhooks.stop(ctx.bot.bot_id)
    ctx.bot.webhook = None
    if params.get("drop_pending_updates"):
        ctx.bot.pending.clear()
    return True


@_implements("getWebhookInfo")
async def _get_webhook_info(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bot = ctx.bot
    info: dict[str, Any] = {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.pending),
    }
    if bot.webhook is None:
        return info
    info.update(
        url=",".join(bot.webhook.urls),
        max_connections=bot.webhook.max_connections,
        ip_address="127.0.0.1",
    )
    if bot.webhook.last_error_date is not None:
        info["last_error_date"] = bot.webhook.last_error_date
        info["last_error_message"] = bot.webhook.last_error_message
    if bot.allowed_updates:
        info["allowed_updates"] = bot.allowed_updates
    return info


# --- bot settings ---------------------------------------------------------------------------


def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.get("language_code", "")


@_implements("setMyCommands")
async def _set_my_commands(ctx: CallContext, params: dict[str, Any]) -> bool:
    commands = [
        {"command": command["command"], "description": command["description"]}
        for command in params["commands"]
    ]
    if any(not _COMMAND_RE.fullmatch(command["command"]) for command in commands):
        raise bad_request("BOT_COMMAND_INVALID")
    ctx.bot.commands[_commands_key(params)] = commands
    return True


@_implements("getMyCommands")
async def _get_my_commands(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    return ctx.bot.commands.get(_commands_key(params), [])


@_implements("deleteMyCommands")
async def _delete_my_commands(ctx: CallContext, params: dict[str, Any]) -> bool:
    ctx.bot.commands.pop(_commands_key(params), None)
    return True


@_implements("setChatMenuButton")
async def _set_chat_menu_button(ctx: CallContext, params: dict[str, Any]) -> bool:
    ctx.bot.menu_buttons[params.get("chat_id")] = params.get("menu_button", {"type": "default"})
    return True


@_implements("getChatMenuButton")
async def _get_chat_menu_button(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    buttons = ctx.bot.menu_buttons
    return buttons.get(params.get("chat_id"), buttons.get(None, {"type": "default"}))


# --- sending --------------------------------------------------------------------------------


def _chat(ctx: CallContext, params: dict[str, Any]) -> Chat:
    return ctx.bot.sendable_chat(params["chat_id"], ctx.state.users)


def _formatted(raw: str, parse_mode: str | None, entities: list[dict[str, Any]] | None) -> ParsedText:
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            return parse_html(raw)
        except HtmlParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    if mode in ("", "markdown", "markdownv2"):
        # Markdown is accepted but not interpreted: the phone shows such text as sent.
        return stripped(raw, entities or [])
    raise bad_request("unsupported parse_mode")


def _with_entities(content: dict[str, Any], key: str, entities: list[dict[str, Any]]) -> dict[str, Any]:
    return {**content, key: entities} if entities else content


def _text_content(params: dict[str, Any]) -> dict[str, Any]:
    parsed = _formatted(params["text"], params.get("parse_mode"), params.get("entities"))
    if not parsed.text:
        raise bad_request("message text is empty")
    if utf16_len(parsed.text) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return _with_entities({"text": parsed.text}, "entities", parsed.entities)


def _caption_content(params: dict[str, Any]) -> dict[str, Any]:
    if not params.get("caption"):
        return {}
    parsed = _formatted(params["caption"], params.get("parse_mode"), params.get("caption_entities"))
    if utf16_len(parsed.text) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    if not parsed.text:
        return {}
    return _with_entities({"caption": parsed.text}, "caption_entities", parsed.entities)


def _checked_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """Rules the description states in prose, checked the way Telegram answers them."""
    for row in (markup or {}).get("inline_keyboard", ()):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
                raise bad_request("BUTTON_DATA_INVALID")
            if not _INLINE_BUTTON_ACTIONS & button.keys():
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
    return markup


def _bot_says(
    ctx: CallContext, chat: Chat, kind: str, content: dict[str, Any], html: str, params: dict[str, Any]
) -> dict[str, Any]:
    markup = _checked_markup(params.get("reply_markup"))
    message = chat.add("bot", kind, content, html, markup)
    ctx.bot.touch(chat.user.id)
    return message.telegram(chat, ctx.bot.me())


@_implements("sendMessage")
async def _send_message(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    content = _text_content(params)
    return _bot_says(ctx, _chat(ctx, params), "text", content, params["text"], params)


def _location(params: dict[str, Any]) -> dict[str, Any]:
    latitude, longitude = params["latitude"], params["longitude"]
    if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        raise bad_request("wrong latitude or longitude specified")
    extra = ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius")
    return {"latitude": latitude, "longitude": longitude} | {
        key: params[key] for key in extra if key in params
    }


@_implements("sendLocation")
async def _send_location(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    content = {"location": _location(params)}
    return _bot_says(ctx, _chat(ctx, params), "location", content, "", params)


@_implements("sendVenue")
async def _send_venue(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    location = _location(params)
    optional = ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type")
    venue = {"location": location, "title": params["title"], "address": params["address"]} | {
        key: params[key] for key in optional if key in params
    }
    content = {"venue": venue, "location": location}
    return _bot_says(ctx, _chat(ctx, params), "venue", content, "", params)


@_implements("sendContact")
async def _send_contact(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    keys = ("phone_number", "first_name", "last_name", "vcard")
    contact = {key: params[key] for key in keys if key in params}
    return _bot_says(ctx, _chat(ctx, params), "contact", {"contact": contact}, "", params)


def _file(bot: BotState, value: UploadedFile | str, kind: str) -> StoredFile:
    """A new upload, a file_id the bot was given before, or a URL (recorded, never fetched)."""
    if isinstance(value, UploadedFile):
        if value.size == 0:
            raise bad_request("file must be non-empty")
        return bot.add_file(value.filename, value.content_type, value.data, value.size)
    if value in bot.files:
        return bot.files[value]
    if value.startswith(("http://", "https://")):
        return bot.add_file(yarl.URL(value).name or kind, None, None, 0)
    raise bad_request("wrong file identifier/HTTP URL specified")


@_implements("sendDocument")
async def _send_document(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    caption = _caption_content(params)
    chat = _chat(ctx, params)
    content = {"document": _file(ctx.bot, params["document"], "document").document(), **caption}
    return _bot_says(ctx, chat, "document", content, params.get("caption", ""), params)


@_implements("sendPhoto")
async def _send_photo(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    caption = _caption_content(params)
    chat = _chat(ctx, params)
    content = {"photo": photo_sizes(_file(ctx.bot, params["photo"], "photo")), **caption}
    return _bot_says(ctx, chat, "photo", content, params.get("caption", ""), params)


def photo_sizes(stored: StoredFile) -> list[dict[str, Any]]:
    width, height = PHOTO_SIZE
    return [
        {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": width,
            "height": height,
            "file_size": stored.size,
        }
    ]


@_implements("getFile")
async def _get_file(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    stored = ctx.bot.files.get(params["file_id"])
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": f"files/{stored.file_unique_id}",
    }


@_implements("sendChatAction")
async def _send_chat_action(ctx: CallContext, params: dict[str, Any]) -> bool:
    if params["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    _chat(ctx, params)
    return True


# --- changing sent messages -----------------------------------------------------------------


def _editable(ctx: CallContext, params: dict[str, Any]) -> tuple[Chat, ChatMessage]:
    if "inline_message_id" in params:  # the sandbox has no inline mode, so no such messages
        raise bad_request("message to edit not found")
    if "chat_id" not in params:
        raise bad_request("chat_id is empty")
    if "message_id" not in params:
        raise bad_request("message identifier is not specified")
    chat = _chat(ctx, params)
    message = chat.find(params["message_id"])
    if message is None:
        raise bad_request("message to edit not found")
    if message.sender != "bot":
        raise bad_request("message can't be edited")
    return chat, message


def _inline_markup(message: ChatMessage) -> dict[str, Any] | None:
    markup = message.reply_markup
    return markup if markup is not None and "inline_keyboard" in markup else None


def _replace_inline_markup(message: ChatMessage, markup: dict[str, Any] | None) -> None:
    # An edit without reply_markup removes the inline keyboard (a classic Telegram surprise);
    # a reply keyboard sent along with the message is not the message's to lose.
    if markup is not None or message.reply_markup is None or _inline_markup(message):
        message.reply_markup = markup


def _edited(ctx: CallContext, chat: Chat, message: ChatMessage) -> dict[str, Any]:
    message.edit_date = int(time.time())
    ctx.bot.touch(chat.user.id)
    return message.telegram(chat, ctx.bot.me())


@_implements("editMessageText")
async def _edit_message_text(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    chat, message = _editable(ctx, params)
    if message.kind != "text":
        raise bad_request("there is no text in the message to edit")
    content = _text_content(params)
    markup = _checked_markup(params.get("reply_markup"))
    if content == message.content and markup == _inline_markup(message):
        raise bad_request(NOT_MODIFIED)
    message.content, message.html = content, params["text"]
    _replace_inline_markup(message, markup)
    return _edited(ctx, chat, message)


@_implements("editMessageReplyMarkup")
async def _edit_message_reply_markup(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    chat, message = _editable(ctx, params)
    markup = _checked_markup(params.get("reply_markup"))
    if markup == _inline_markup(message):
        raise bad_request(NOT_MODIFIED)
    _replace_inline_markup(message, markup)
    return _edited(ctx, chat, message)


@_implements("deleteMessage")
async def _delete_message(ctx: CallContext, params: dict[str, Any]) -> bool:
    chat = _chat(ctx, params)
    message = chat.find(params["message_id"])
    if message is None:
        raise bad_request("message to delete not found")
    message.deleted = True
    ctx.bot.touch(chat.user.id)
    return True


@_implements("deleteMessages")
async def _delete_messages(ctx: CallContext, params: dict[str, Any]) -> bool:
    """Like Telegram: 1 to 100 ids; the ones that cannot be found are skipped, not an error."""
    chat = _chat(ctx, params)
    ids = params.get("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must hold 1 to 100 ids")
    for message_id in ids:
        message = chat.find(message_id)
        if message is not None:
            message.deleted = True
    ctx.bot.touch(chat.user.id)
    return True


@_implements("answerCallbackQuery")
async def _answer_callback_query(ctx: CallContext, params: dict[str, Any]) -> bool:
    query_id = params["callback_query_id"]
    record = ctx.bot.callbacks.get(query_id)
    if record is None or record.answered:
        raise bad_request(QUERY_INVALID)
    record.answered = True
    ctx.bot.chats[record.user_id].callback_answers.append(
        {
            "callback_query_id": query_id,
            "text": params.get("text"),
            "show_alert": params.get("show_alert", False),
            "url": params.get("url"),
        }
    )
    ctx.bot.touch(record.user_id)
    return True
