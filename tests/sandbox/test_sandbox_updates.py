"""Updates reach the bot like Telegram delivers them: long polling with offsets, or a webhook."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web

from sandbox.client import SandboxClient

if TYPE_CHECKING:
    from conftest import BotApi


# A long poll's own timeout: an answer well before it came because something woke the poll.
LONG_POLL = 60


async def still_waiting(poll: asyncio.Task[Any], sandbox_client: SandboxClient) -> bool:
    """Whether `poll` is still open after a request made after it was answered (order, not time)."""
    await sandbox_client.create_user()
    return not poll.done()


async def test_long_poll_wakes_when_an_update_arrives(bot_api: BotApi, sandbox_client: SandboxClient) -> None:
    user = await sandbox_client.create_user()
    poll = asyncio.create_task(bot_api.ok("getUpdates", timeout=LONG_POLL))
    assert await still_waiting(poll, sandbox_client)

    await sandbox_client.send_text(user, "hello")
    done, _ = await asyncio.wait({poll}, timeout=LONG_POLL / 2)

    assert poll in done, "the update did not wake the long poll"
    assert [u["message"]["text"] for u in poll.result()] == ["hello"]


async def test_long_poll_times_out_empty(bot_api: BotApi, sandbox_client: SandboxClient) -> None:
    poll = asyncio.create_task(bot_api.ok("getUpdates", timeout=1))
    assert await still_waiting(poll, sandbox_client)  # it waits, rather than answering at once

    assert await poll == []


async def test_offset_confirms_earlier_updates(bot_api: BotApi, sandbox_client: SandboxClient) -> None:
    user = await sandbox_client.create_user()
    first = await sandbox_client.send_text(user, "one")
    second = await sandbox_client.send_text(user, "two")

    assert [u["update_id"] for u in await bot_api.ok("getUpdates")] == [first, second]
    assert [u["update_id"] for u in await bot_api.ok("getUpdates", offset=second)] == [second]
    assert await bot_api.ok("getUpdates", offset=second + 1) == []


async def test_negative_offset_keeps_the_newest(bot_api: BotApi, sandbox_client: SandboxClient) -> None:
    user = await sandbox_client.create_user()
    for text in ("a", "b", "c"):
        await sandbox_client.send_text(user, text)

    updates = await bot_api.ok("getUpdates", offset=-1)

    assert [u["message"]["text"] for u in updates] == ["c"]
    assert len(await bot_api.ok("getUpdates")) == 1


async def test_limit_bounds_the_batch(bot_api: BotApi, sandbox_client: SandboxClient) -> None:
    user = await sandbox_client.create_user()
    for text in ("a", "b", "c"):
        await sandbox_client.send_text(user, text)

    assert len(await bot_api.ok("getUpdates", limit=2)) == 2


async def test_replay_repeats_an_update_exactly(bot_api: BotApi, sandbox_client: SandboxClient) -> None:
    user = await sandbox_client.create_user()
    update_id = await sandbox_client.send_text(user, "once")
    [original] = await bot_api.ok("getUpdates")
    await bot_api.ok("getUpdates", offset=update_id + 1)

    await sandbox_client.replay(update_id)

    assert await bot_api.ok("getUpdates", offset=update_id + 1) == [original]


async def test_a_newer_poll_ends_the_older_one(bot_api: BotApi) -> None:
    older = asyncio.create_task(bot_api.call("getUpdates", timeout=5))
    await asyncio.sleep(0.1)

    await bot_api.ok("getUpdates")
    status, body = await older

    assert status == 409 and "terminated by other getUpdates request" in body["description"]


async def test_blocking_tells_the_bot(bot_api: BotApi, sandbox_client: SandboxClient) -> None:
    user = await sandbox_client.create_user()
    await sandbox_client.send_text(user, "/start")
    await sandbox_client.block(user)

    updates = await bot_api.ok("getUpdates")

    change = updates[-1]["my_chat_member"]
    assert change["new_chat_member"]["status"] == "kicked"


Receiver = tuple[str, list[tuple[dict[str, Any], str | None]]]


@pytest.fixture
async def webhook_receiver() -> AsyncIterator[Callable[[int], Awaitable[Receiver]]]:
    """Starts local webhook endpoints; each fails its first ``failures`` requests with a 500."""
    runners: list[web.AppRunner] = []

    async def start(failures: int = 0) -> Receiver:
        received: list[tuple[dict[str, Any], str | None]] = []
        remaining = [failures]

        async def hook(request: web.Request) -> web.Response:
            if remaining[0] > 0:
                remaining[0] -= 1
                return web.Response(status=500)
            secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
            received.append((await request.json(), secret))
            return web.json_response({})

        app = web.Application()
        app.router.add_post("/hook", hook)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        runners.append(runner)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{runner.addresses[0][1]}/hook", received

    yield start
    for runner in runners:
        await runner.cleanup()


async def _eventually(condition: Callable[[], bool], within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_webhook_delivery_with_secret(
    bot_api: BotApi,
    sandbox_client: SandboxClient,
    webhook_receiver: Callable[[int], Awaitable[Receiver]],
) -> None:
    url, received = await webhook_receiver(0)
    await bot_api.ok("setWebhook", url=url, secret_token="s3cret_token")
    user = await sandbox_client.create_user()

    update_id = await sandbox_client.send_text(user, "via webhook")

    await _eventually(lambda: len(received) == 1)
    update, secret = received[0]
    assert update["update_id"] == update_id and secret == "s3cret_token"
    info = await bot_api.ok("getWebhookInfo")
    while info["pending_update_count"]:  # acknowledged just after the receiver saw it
        await asyncio.sleep(0.02)
        info = await bot_api.ok("getWebhookInfo")
    assert info["url"] == url


async def test_webhook_retries_until_acknowledged(
    bot_api: BotApi,
    sandbox_client: SandboxClient,
    webhook_receiver: Callable[[int], Awaitable[Receiver]],
) -> None:
    url, received = await webhook_receiver(2)
    await bot_api.ok("setWebhook", url=url)
    user = await sandbox_client.create_user()

    await sandbox_client.send_text(user, "retry me")

    await _eventually(lambda: len(received) == 1)
    info = await bot_api.ok("getWebhookInfo")
    assert info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"


async def test_webhook_round_robin_over_replicas(
    bot_api: BotApi,
    sandbox_client: SandboxClient,
    webhook_receiver: Callable[[int], Awaitable[Receiver]],
) -> None:
    (url_a, got_a), (url_b, got_b) = await webhook_receiver(0), await webhook_receiver(0)
    await bot_api.ok("setWebhook", url=f"{url_a},{url_b}")
    users = [await sandbox_client.create_user() for _ in range(4)]

    for user in users:
        await sandbox_client.send_text(user, "hi")

    await _eventually(lambda: len(got_a) + len(got_b) == 4)
    assert len(got_a) == len(got_b) == 2


async def test_webhook_blocks_get_updates(bot_api: BotApi) -> None:
    await bot_api.ok("setWebhook", url="http://localhost:9/hook")

    status, body = await bot_api.call("getUpdates")

    assert status == 409
    assert body["description"] == (
        "Conflict: can't use getUpdates method while webhook is active;"
        " use deleteWebhook to delete the webhook first"
    )
    await bot_api.ok("deleteWebhook")
    assert await bot_api.ok("getUpdates") == []


async def test_webhook_must_stay_on_this_machine(bot_api: BotApi) -> None:
    status, body = await bot_api.call("setWebhook", url="https://example.org/hook")

    assert status == 400 and body["description"].startswith("Bad Request: bad webhook:")
