"""HTTP face of the Bot API emulator: token check, body decoding, injected faults, validation, call log."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any
from urllib.parse import quote

from aiohttp import web

from sandbox.methods import CallContext, handler_for
from sandbox.spec import BotApiSpec, Method, SpecError, UploadedFile
from sandbox.state import BLOCKED, ApiError, BotState, Fault, SandboxState, StoredFile, bad_request
from sandbox.webhook import WebhookDelivery

logger = logging.getLogger(__name__)

STATE = web.AppKey("sandbox_state", SandboxState)
SPEC = web.AppKey("sandbox_spec", BotApiSpec)
WEBHOOKS = web.AppKey("sandbox_webhooks", WebhookDelivery)

TOKEN_RE = re.compile(r"(\d+):[A-Za-z0-9_-]{30,}")
UPLOAD_KEEP_LIMIT = 1024 * 1024
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_FAULT_ERRORS = {
    "403": (403, BLOCKED),
    "500": (500, "Internal Server Error"),
    "502": (502, "Bad Gateway"),
}


def add_routes(app: web.Application) -> None:
    app.router.add_route("*", "/bot{token}/{method}", handle_call)
    app.router.add_get("/file/bot{token}/{file_path:.+}", handle_file_download)


def _answer(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _bot(request: web.Request) -> BotState | None:
    """The bot a token names. Only the numeric id identifies a bot: the secret part is not checked."""
    match = TOKEN_RE.fullmatch(request.match_info["token"])
    return request.app[STATE].bot(int(match[1])) if match else None


async def handle_call(request: web.Request) -> web.Response:
    bot = _bot(request)
    if bot is None:
        return _answer(ApiError(401, "Unauthorized").payload(), 401)
    received = time.monotonic()
    bot.last_request_at = time.time()
    method = request.app[SPEC].method(request.match_info["method"])
    method_name = method.name if method else request.match_info["method"]
    params: dict[str, Any] = {}
    try:
        if method is None:
            raise ApiError(404, "Not Found")
        params, files = await read_params(request)
        result = await _perform(request.app, bot, method, params, files)
    except ApiError as error:
        _log(bot, received, method_name, params, error.code)
        return _answer(error.payload(), error.code)
    _log(bot, received, method_name, params, None)
    return _answer({"ok": True, "result": result})


def _log(bot: BotState, received: float, method: str, params: dict[str, Any], error_code: int | None) -> None:
    chat_id = params.get("chat_id")
    if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
        chat_id = int(chat_id)
    # Paid broadcasts are charged per message: the log says which calls asked for one.
    paid = params.get("allow_paid_broadcast") in (True, "true", "True")
    bot.log_call(received, method, chat_id, error_code, paid_broadcast=paid)
    logger.debug("bot %s: %s -> %s", bot.bot_id, method, error_code or 200)


async def _perform(
    app: web.Application,
    bot: BotState,
    method: Method,
    params: dict[str, Any],
    files: dict[str, UploadedFile],
) -> Any:
    state = app[STATE]
    fault = state.take_fault(bot.bot_id, method.name)
    if fault is not None:
        await _apply_fault(fault)
    try:
        checked = app[SPEC].validate(method, params, files)
    except SpecError as error:
        raise bad_request(str(error)) from None
    handler = handler_for(method.name)
    if handler is None:
        return True
    return await handler(CallContext(state, bot, app[WEBHOOKS]), checked)


async def _apply_fault(fault: Fault) -> None:
    """Delays then let the call proceed ("timeout": the client gave up, yet the call happened)."""
    if fault.kind in ("delay", "timeout"):
        await asyncio.sleep(fault.delay)
        return
    if fault.kind == "429":
        raise ApiError(
            429,
            f"Too Many Requests: retry after {fault.retry_after}",
            {"retry_after": fault.retry_after},
        )
    raise ApiError(*_FAULT_ERRORS[fault.kind])


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Parameters from the query string and a JSON, urlencoded or multipart body, like Telegram."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if not request.body_exists:
        return params, files
    if request.content_type == "application/json":
        params.update(await _json_body(request))
    elif request.content_type in _FORM_TYPES:
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(413, "Request Entity Too Large") from None
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = params[key] = _uploaded(value)
            else:
                params[key] = value
    return params, files


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.text())
    except ValueError:
        raise bad_request("can't parse JSON object") from None
    if not isinstance(body, dict):
        raise bad_request("can't parse JSON object")
    return body


def _uploaded(field: web.FileField) -> UploadedFile:
    with field.file as handle:
        data = handle.read(UPLOAD_KEEP_LIMIT + 1)
        size = handle.seek(0, 2)
    kept = data if len(data) <= UPLOAD_KEEP_LIMIT else None
    return UploadedFile(field.filename, field.content_type, size, kept)


def file_response(stored: StoredFile | None) -> web.Response:
    """The bytes of a file the sandbox kept, or Telegram's 404."""
    if stored is None or stored.data is None:
        return _answer(ApiError(404, "Not Found").payload(), 404)
    # RFC 5987 encoding keeps any uploaded file name from breaking out of the header.
    disposition = f"inline; filename*=UTF-8''{quote(stored.file_name or stored.file_unique_id)}"
    return web.Response(
        body=stored.data,
        content_type=stored.mime_type or "application/octet-stream",
        headers={"Content-Disposition": disposition},
    )


async def handle_file_download(request: web.Request) -> web.Response:
    """``/file/bot<token>/<file_path>`` as getFile describes it."""
    bot = _bot(request)
    if bot is None:
        return _answer(ApiError(401, "Unauthorized").payload(), 401)
    unique_id = request.match_info["file_path"].rpartition("/")[2]
    stored = next((f for f in bot.files.values() if f.file_unique_id == unique_id), None)
    return file_response(stored)
