"""Async driver of the sandbox control API (tests, benchmarks): plays users, reads chats, injects faults."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

import aiohttp

EVENTS_MAX_WAIT = 25.0
# How often to look again for an answer the bot has not given yet.
POLL_INTERVAL = 0.02


class SandboxError(RuntimeError):
    """The control API refused a request."""


class SandboxClient:
    """Drives one bot's chats on a running sandbox; use as ``async with SandboxClient(url, bot_id)``."""

    def __init__(self, base_url: str, bot_id: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.bot_id = bot_id
        self._session: aiohttp.ClientSession | None = None
        # Per user, the newest bot message wait_for_bot_message has returned.
        self._high_water: dict[int, int] = {}

    async def __aenter__(self) -> SandboxClient:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        seconds: float | None = None,
    ) -> Any:
        if self._session is None:
            raise RuntimeError("use SandboxClient as an async context manager")
        request_timeout = aiohttp.ClientTimeout(total=seconds) if seconds else None
        async with self._session.request(
            method,
            f"{self.base_url}/sandbox/api{path}",
            json=json,
            params=params,
            timeout=request_timeout,
        ) as response:
            body = await response.json(content_type=None)
            if response.status >= 400:
                raise SandboxError(f"{method} {path} -> {response.status}: {body}")
            return body

    def _chat_path(self, user_id: int) -> str:
        return f"/bots/{self.bot_id}/users/{user_id}"

    # --- users act --------------------------------------------------------------------------

    async def create_user(self, first_name: str = "Test", language_code: str = "en", **kw: Any) -> int:
        """A new simulated user (``last_name``, ``username`` optional); returns its id."""
        payload = {"first_name": first_name, "language_code": language_code, **kw}
        user = await self._request("POST", "/users", json=payload)
        return user["id"]

    async def create_users(
        self, count: int, first_name: str = "User", language_code: str = "en"
    ) -> list[int]:
        """`count` new simulated users in one request (named `first_name` 1, 2, …); their ids."""
        payload = {"count": count, "first_name": first_name, "language_code": language_code}
        return list((await self._request("POST", "/users/many", json=payload))["ids"])

    async def send(self, user_id: int, **payload: Any) -> int:
        """The user sends a message: ``text=``, ``sticker=True``, ``photo=True``, ``voice=True``,
        ``document={"file_name": ...}``, ``location={...}`` or ``contact={...}``; returns the update_id."""
        result = await self._request("POST", f"{self._chat_path(user_id)}/messages", json=payload)
        return result["update_id"]

    async def send_text(self, user_id: int, text: str) -> int:
        return await self.send(user_id, text=text)

    async def share_contact(self, user_id: int, phone_number: str) -> int:
        return await self.send(user_id, contact={"phone_number": phone_number})

    async def press(self, user_id: int, label: str) -> int:
        """Press the inline or reply-keyboard button labelled ``label``; returns the update_id."""
        result = await self._request("POST", f"{self._chat_path(user_id)}/press", json={"text": label})
        return result["update_id"]

    async def press_data(self, user_id: int, message_id: int, callback_data: str) -> int:
        """A callback query with any data at all, as a tampered client could send."""
        payload = {"message_id": message_id, "callback_data": callback_data}
        result = await self._request("POST", f"{self._chat_path(user_id)}/press", json=payload)
        return result["update_id"]

    async def press_for_answer(
        self,
        user_id: int,
        *,
        label: str | None = None,
        message_id: int = 0,
        callback_data: str = "",
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the documented test API
    ) -> dict[str, Any]:
        """Press a button (by label, or with any data) and wait for the bot's answer to that press."""
        payload = (
            {"text": label}
            if label is not None
            else {"message_id": message_id, "callback_data": callback_data}
        )
        result = await self._request("POST", f"{self._chat_path(user_id)}/press", json=payload)
        query_id = result["callback_query_id"]
        async with asyncio.timeout(timeout):
            while True:
                answers = (await self.transcript(user_id))["callback_answers"]
                found = [answer for answer in answers if answer["callback_query_id"] == query_id]
                if found:
                    return found[-1]
                await asyncio.sleep(POLL_INTERVAL)

    async def block(self, user_id: int) -> None:
        await self._request("POST", f"{self._chat_path(user_id)}/block")

    async def unblock(self, user_id: int) -> None:
        await self._request("POST", f"{self._chat_path(user_id)}/unblock")

    async def replay(self, update_id: int) -> None:
        """Deliver an update again with the same update_id, as Telegram's webhook retries do."""
        await self._request("POST", f"/bots/{self.bot_id}/replay", json={"update_id": update_id})

    # --- looking ----------------------------------------------------------------------------

    async def transcript(self, user_id: int) -> dict[str, Any]:
        return await self._request("GET", f"{self._chat_path(user_id)}/transcript")

    async def bot_messages(self, user_id: int) -> list[dict[str, Any]]:
        """The bot's messages in the chat, deleted ones included (see their ``deleted`` flag)."""
        messages = (await self.transcript(user_id))["messages"]
        return [message for message in messages if message["from"] == "bot"]

    async def _events(self, after: int, wait: float) -> dict[str, Any]:
        wait = max(min(wait, EVENTS_MAX_WAIT), 0.0)
        return await self._request(
            "GET",
            f"/bots/{self.bot_id}/events",
            params={"after": str(after), "timeout": str(wait)},
            seconds=wait + 5.0,
        )

    async def wait_for_bot_message(
        self,
        user_id: int,
        *,
        count: int | None = None,
        contains: str | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the documented test API
    ) -> dict[str, Any]:
        """Wait for a (not deleted) bot message whose text contains ``contains`` and return it.

        Without ``count``: the first such message newer than the one this method last returned
        for the user, so successive calls step through the bot's replies. With ``count``: the
        ``count``-th such message of the whole chat (1-based). Raises AssertionError on timeout.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            transcript = await self.transcript(user_id)
            found = self._match(transcript, user_id, count, contains)
            if found is not None:
                self._high_water[user_id] = max(self._high_water.get(user_id, 0), found["message_id"])
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                wanted = f"containing {contains!r}" if contains is not None else "new"
                raise AssertionError(
                    f"no {wanted} bot message (count={count}) for user {user_id} within"
                    f" {timeout}s; transcript:\n{format_transcript(transcript)}"
                )
            await self._events(transcript["seq"], remaining)

    def _match(
        self, transcript: dict[str, Any], user_id: int, count: int | None, contains: str | None
    ) -> dict[str, Any] | None:
        floor = 0 if count is not None else self._high_water.get(user_id, 0)
        matching = [
            message
            for message in transcript["messages"]
            if message["from"] == "bot"
            and not message["deleted"]
            and message["message_id"] > floor
            and (contains is None or contains in message["text"])
        ]
        wanted = count or 1
        return matching[wanted - 1] if len(matching) >= wanted else None

    async def wait_idle(
        self,
        user_id: int,
        *,
        quiet: float = 0.3,
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the documented test API
    ) -> None:
        """Wait until the user's chat has not changed for ``quiet`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        quiet_until = loop.time() + quiet
        seq = (await self.transcript(user_id))["seq"]
        while (now := loop.time()) < quiet_until:
            if now >= deadline:
                raise AssertionError(f"chat of user {user_id} still changing after {timeout}s")
            changes = await self._events(seq, min(quiet_until, deadline) - now)
            seq = changes["seq"]
            if user_id in changes["user_ids"]:
                quiet_until = loop.time() + quiet

    async def call_log(self) -> list[dict[str, Any]]:
        """Every Bot API call the bot made: ``t`` (monotonic seconds), method, chat_id, ok, error_code,
        and ``paid_broadcast`` (true) on a call that asked for a paid broadcast."""
        return await self._request("GET", f"/bots/{self.bot_id}/log")

    async def clear_call_log(self) -> None:
        await self._request("DELETE", f"/bots/{self.bot_id}/log")

    # --- test machinery ---------------------------------------------------------------------

    async def inject_fault(self, kind: str, count: int = 1, **kw: Any) -> None:
        """The bot's next ``count`` calls (``method=`` to target one) fail with ``kind``: "429"
        (``retry_after=``), "403", "500", "502", "delay" or "timeout" (``delay=`` seconds)."""
        payload = {"bot_id": self.bot_id, "kind": kind, "count": count, **kw}
        await self._request("POST", "/faults", json=payload)

    async def clear_faults(self) -> None:
        await self._request("DELETE", "/faults")

    async def reset(self) -> None:
        """Forget all users, chats, updates and faults of the whole sandbox."""
        await self._request("POST", "/reset")
        self._high_water.clear()


def format_transcript(transcript: dict[str, Any]) -> str:
    """One line per message, for assertion messages."""
    lines = []
    for message in transcript["messages"]:
        flags = "".join(f" ({flag})" for flag in ("edited", "deleted") if message.get(flag))
        buttons = [
            button.get("text", "") for row in _keyboard_rows(message.get("reply_markup")) for button in row
        ]
        shown = message["text"] or f"[{message['kind']}]"
        suffix = f"  buttons: {buttons}" if buttons else ""
        lines.append(f"  #{message['message_id']} {message['from']}{flags}: {shown}{suffix}")
    return "\n".join(lines) or "  (no messages)"


def _keyboard_rows(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    if not markup:
        return []
    return markup.get("inline_keyboard") or markup.get("keyboard") or []
