"""Delivers queued updates to bots that set a webhook, with Telegram's ordering and retry behaviour."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import aiohttp

from sandbox.state import BotState, QueuedUpdate, WebhookConfig

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
MAX_ATTEMPTS = 8
BACKOFF_FIRST = 0.05
BACKOFF_MAX = 2.0
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10)


class WebhookDelivery:
    """One delivery worker per bot with a webhook; owns the HTTP client session they share."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._workers: dict[int, asyncio.Task[None]] = {}

    def start(self, bot: BotState, config: WebhookConfig) -> None:
        """(Re)start delivery for ``bot`` to the webhook described by ``config``."""
        self.stop(bot.bot_id)
        self._workers[bot.bot_id] = asyncio.create_task(
            self._run(bot, config), name=f"sandbox-webhook-{bot.bot_id}"
        )

    def stop(self, bot_id: int) -> None:
        """Stop delivery; updates not yet acknowledged stay queued, as in Telegram."""
        worker = self._workers.pop(bot_id, None)
        if worker is not None:
            worker.cancel()

    def stop_all(self) -> None:
        for bot_id in list(self._workers):
            self.stop(bot_id)

    async def close(self) -> None:
        workers = list(self._workers.values())
        self.stop_all()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=REQUEST_TIMEOUT)
        return self._session

    async def _run(self, bot: BotState, config: WebhookConfig) -> None:
        # Like Telegram: up to max_connections requests at once, but one at a time per chat so
        # each chat's updates arrive in order.
        busy_chats: set[int | None] = set()
        in_flight: dict[int, asyncio.Task[None]] = {}
        try:
            while True:
                queued = _next_deliverable(bot, in_flight, busy_chats)
                if queued is None or len(in_flight) >= config.max_connections:
                    await bot.updates_signal.wait(None)
                    continue
                if queued.chat_id is not None:
                    busy_chats.add(queued.chat_id)
                in_flight[id(queued)] = asyncio.create_task(self._deliver(bot, config, queued))
                in_flight[id(queued)].add_done_callback(
                    lambda _task, q=queued: _finished(bot, q, in_flight, busy_chats)
                )
        finally:
            for task in in_flight.values():
                task.cancel()

    async def _deliver(self, bot: BotState, config: WebhookConfig, queued: QueuedUpdate) -> None:
        for attempt in range(MAX_ATTEMPTS):
            error = await self._post(bot.bot_id, config.next_url(), config.secret_token, queued)
            if error is None:
                bot.remove_pending(queued)
                return
            config.record_error(error)
            await asyncio.sleep(min(BACKOFF_FIRST * 2**attempt, BACKOFF_MAX))
        logger.warning(
            "bot %s: dropping update %s after %s failed webhook deliveries",
            bot.bot_id,
            queued.update_id,
            MAX_ATTEMPTS,
        )
        bot.remove_pending(queued)

    async def _post(self, bot_id: int, url: str, secret: str | None, queued: QueuedUpdate) -> str | None:
        """None when the bot acknowledged the update, else Telegram's wording of the failure."""
        headers = {SECRET_HEADER: secret} if secret else {}
        try:
            async with self._http().post(url, json=queued.update, headers=headers) as response:
                body = await response.read()
                if 200 <= response.status < 300:
                    if _is_method_call(response.content_type, body):
                        # Telegram would execute it; say so rather than lose the message silently.
                        logger.warning("bot %s: webhook replies are not executed", bot_id)
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError) as error:
            return f"Connection failed: {type(error).__name__}"


def _next_deliverable(
    bot: BotState, in_flight: dict[int, asyncio.Task[None]], busy_chats: set[int | None]
) -> QueuedUpdate | None:
    for queued in bot.pending:
        if id(queued) in in_flight:
            continue
        if queued.chat_id is None or queued.chat_id not in busy_chats:
            return queued
    return None


def _finished(
    bot: BotState,
    queued: QueuedUpdate,
    in_flight: dict[int, asyncio.Task[None]],
    busy_chats: set[int | None],
) -> None:
    in_flight.pop(id(queued), None)
    busy_chats.discard(queued.chat_id)
    bot.updates_signal.notify()


def _is_method_call(content_type: str, body: bytes) -> bool:
    if content_type.startswith("multipart/"):
        return True
    if content_type != "application/json":
        return False
    try:
        reply = json.loads(body)
    except ValueError:
        return False
    return isinstance(reply, dict) and "method" in reply
