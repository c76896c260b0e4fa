"""The control API and its client: playing users, pressing buttons, waiting, faults and the call log."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import aiohttp
import pytest

from sandbox.client import SandboxClient, SandboxError

if TYPE_CHECKING:
    from conftest import BotApi

CHOICES = {
    "inline_keyboard": [
        [{"text": "Yes", "callback_data": "consent:yes"}, {"text": "No", "callback_data": "consent:no"}]
    ]
}


async def test_users_get_increasing_ids(sandbox_client: SandboxClient) -> None:
    first = await sandbox_client.create_user("Ali", language_code="ps")
    second = await sandbox_client.create_user("Mina", language_code="ur", username="mina")

    assert (first, second) == (100_000_001, 100_000_002)


async def test_many_users_in_one_request(
    bot_api: BotApi, http: aiohttp.ClientSession, sandbox_client: SandboxClient
) -> None:
    many = await sandbox_client.create_users(3, first_name="Guest", language_code="ru")
    after = await sandbox_client.create_user()

    assert many == [100_000_001, 100_000_002, 100_000_003]
    assert after == 100_000_004
    await bot_api.ok("sendMessage", chat_id=many[2], text="Salam")
    [message] = await sandbox_client.bot_messages(many[2])
    assert message["text"] == "Salam"
    users = {
        user["id"]: user
        for user in await (await http.get(f"{sandbox_client.base_url}/sandbox/api/users")).json()
    }
    assert users[many[0]]["first_name"] == "Guest 1" and users[many[0]]["language_code"] == "ru"
    for count in (0, -1, 100_001, "3", True, None):
        async with http.post(
            f"{sandbox_client.base_url}/sandbox/api/users/many", json={"count": count}
        ) as response:
            assert response.status == 400
            assert "count must be" in (await response.json())["error"]
    assert await sandbox_client.create_user() == 100_000_005  # nothing was made by the refusals


async def test_user_media_reaches_the_bot(bot_api: BotApi, sandbox_client: SandboxClient) -> None:
    user = await sandbox_client.create_user()
    await sandbox_client.send(user, sticker=True)
    await sandbox_client.send(user, photo=True)
    await sandbox_client.send(user, document={"file_name": "passport.pdf"})
    await sandbox_client.send(user, voice=True)
    await sandbox_client.send(user, location={"latitude": 40.4, "longitude": 49.8})
    await sandbox_client.share_contact(user, "+994501112233")

    messages = [update["message"] for update in await bot_api.ok("getUpdates")]

    kinds = ("sticker", "photo", "document", "voice", "location", "contact")
    assert [next(kind for kind in kinds if kind in message) for message in messages] == list(kinds)
    assert messages[2]["document"]["file_name"] == "passport.pdf"
    assert messages[5]["contact"]["user_id"] == user
    file = await bot_api.ok("getFile", file_id=messages[2]["document"]["file_id"])
    assert file["file_path"]


async def test_slash_command_gets_an_entity(bot_api: BotApi, sandbox_client: SandboxClient) -> None:
    user = await sandbox_client.create_user()
    await sandbox_client.send_text(user, "/start campaign42")

    [update] = await bot_api.ok("getUpdates")

    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]


async def test_press_inline_button_and_answer(
    bot_api: BotApi, sandbox_client: SandboxClient, user_id: int
) -> None:
    await bot_api.ok("sendMessage", chat_id=user_id, text="Consent?", reply_markup=CHOICES)
    await bot_api.ok("getUpdates", offset=-1)

    update_id = await sandbox_client.press(user_id, "No")

    [update] = await bot_api.ok("getUpdates", offset=update_id)
    query = update["callback_query"]
    assert query["data"] == "consent:no" and query["message"]["text"] == "Consent?"
    await bot_api.ok("answerCallbackQuery", callback_query_id=query["id"], text="Noted", show_alert=True)
    answers = (await sandbox_client.transcript(user_id))["callback_answers"]
    assert answers[0]["text"] == "Noted" and answers[0]["show_alert"] is True
    status, _ = await bot_api.call("answerCallbackQuery", callback_query_id=query["id"])
    assert status == 400  # a query is answered once


async def test_forged_callback_data_is_delivered(
    bot_api: BotApi, sandbox_client: SandboxClient, user_id: int
) -> None:
    sent = await bot_api.ok("sendMessage", chat_id=user_id, text="Consent?", reply_markup=CHOICES)

    update_id = await sandbox_client.press_data(user_id, sent["message_id"], "case:IP-2026-000001:close")

    updates = await bot_api.ok("getUpdates", offset=update_id)
    assert updates[0]["callback_query"]["data"] == "case:IP-2026-000001:close"


async def test_reply_keyboard_buttons_send_text_or_contact(
    bot_api: BotApi, sandbox_client: SandboxClient, user_id: int
) -> None:
    keyboard = {
        "keyboard": [[{"text": "Help"}], [{"text": "Share phone", "request_contact": True}]],
        "one_time_keyboard": True,
    }
    await bot_api.ok("sendMessage", chat_id=user_id, text="Menu", reply_markup=keyboard)

    help_update = await sandbox_client.press(user_id, "Help")
    assert (await sandbox_client.transcript(user_id))["reply_keyboard"] is None  # one-time
    await bot_api.ok("sendMessage", chat_id=user_id, text="Menu", reply_markup=keyboard)
    contact_update = await sandbox_client.press(user_id, "Share phone")

    updates = await bot_api.ok("getUpdates", offset=help_update)
    assert updates[0]["message"]["text"] == "Help"
    assert updates[-1]["update_id"] == contact_update
    assert updates[-1]["message"]["contact"]["user_id"] == user_id


async def test_pressing_a_missing_label_lists_the_buttons(
    bot_api: BotApi, sandbox_client: SandboxClient, user_id: int
) -> None:
    await bot_api.ok("sendMessage", chat_id=user_id, text="Consent?", reply_markup=CHOICES)

    with pytest.raises(SandboxError, match="'Yes', 'No'"):
        await sandbox_client.press(user_id, "Maybe")


async def test_wait_for_bot_message_steps_through_replies(
    bot_api: BotApi, sandbox_client: SandboxClient, user_id: int
) -> None:
    async def bot_replies() -> None:
        await asyncio.sleep(0.1)
        await bot_api.ok("sendMessage", chat_id=user_id, text="Welcome")
        await bot_api.ok("sendMessage", chat_id=user_id, text="Choose a language")

    replying = asyncio.create_task(bot_replies())
    first = await sandbox_client.wait_for_bot_message(user_id)
    second = await sandbox_client.wait_for_bot_message(user_id, contains="language")
    await replying

    assert (first["text"], second["text"]) == ("Welcome", "Choose a language")
    assert (await sandbox_client.wait_for_bot_message(user_id, count=1))["text"] == "Welcome"


async def test_wait_for_bot_message_times_out_with_the_transcript(
    sandbox_client: SandboxClient, user_id: int
) -> None:
    with pytest.raises(AssertionError, match="/start"):
        await sandbox_client.wait_for_bot_message(user_id, timeout=0.3)


async def test_wait_idle(bot_api: BotApi, sandbox_client: SandboxClient, user_id: int) -> None:
    await sandbox_client.wait_idle(user_id, quiet=0.2)  # a silent chat: it returns

    async def chatter() -> None:
        for index in range(3):
            await asyncio.sleep(0.1)
            await bot_api.ok("sendMessage", chat_id=user_id, text=f"part {index}")

    chatting = asyncio.create_task(chatter())
    await sandbox_client.wait_idle(user_id, quiet=0.2)
    # It returned only once the chat was quiet: after the chatter's last message, not between two.
    assert chatting.done()
    assert len(await sandbox_client.bot_messages(user_id)) == 3


async def test_429_fault_has_retry_after(
    bot_api: BotApi, sandbox_client: SandboxClient, user_id: int
) -> None:
    await sandbox_client.inject_fault("429", count=2, method="sendMessage", retry_after=3)

    answers = [await bot_api.call("sendMessage", chat_id=user_id, text="hi") for _ in range(3)]

    assert answers[0] == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 3",
            "parameters": {"retry_after": 3},
        },
    )
    assert [status for status, _ in answers] == [429, 429, 200]


async def test_server_error_faults(bot_api: BotApi, sandbox_client: SandboxClient, user_id: int) -> None:
    await sandbox_client.inject_fault("500")
    await sandbox_client.inject_fault("403")

    first = await bot_api.call("sendMessage", chat_id=user_id, text="hi")
    second = await bot_api.call("sendMessage", chat_id=user_id, text="hi")

    assert first == (500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
    assert second[0] == 403


async def test_untargeted_faults_spare_the_long_poll(bot_api: BotApi, sandbox_client: SandboxClient) -> None:
    await sandbox_client.inject_fault("500")

    assert await bot_api.ok("getUpdates") == []
    assert (await bot_api.call("getMe"))[0] == 500


async def test_timeout_fault_still_delivers(
    bot_api: BotApi, http: aiohttp.ClientSession, sandbox_client: SandboxClient, user_id: int
) -> None:
    await sandbox_client.inject_fault("timeout", delay=0.5)

    with pytest.raises(TimeoutError):
        async with http.post(
            f"{bot_api.base}/sendMessage",
            json={"chat_id": user_id, "text": "did it arrive?"},
            timeout=aiohttp.ClientTimeout(total=0.1),
        ):
            pass

    message = await sandbox_client.wait_for_bot_message(user_id, timeout=3)
    assert message["text"] == "did it arrive?"


async def test_call_log_records_every_call(
    bot_api: BotApi, sandbox_client: SandboxClient, user_id: int
) -> None:
    await sandbox_client.clear_call_log()
    await bot_api.call("sendMessage", chat_id=user_id, text="hi")
    await bot_api.call("sendMessage", chat_id=user_id)

    log = await sandbox_client.call_log()

    assert [(e["method"], e["chat_id"], e["ok"], e["error_code"]) for e in log] == [
        ("sendMessage", user_id, True, None),
        ("sendMessage", user_id, False, 400),
    ]
    assert log[0]["t"] <= log[1]["t"]


async def test_reset_forgets_everything(bot_api: BotApi, sandbox_client: SandboxClient, user_id: int) -> None:
    await sandbox_client.reset()

    assert await bot_api.ok("getUpdates") == []
    assert await sandbox_client.create_user() == 100_000_001


async def test_events_long_poll_wakes_on_change(
    bot_api: BotApi, http: aiohttp.ClientSession, sandbox_client: SandboxClient, user_id: int
) -> None:
    seq = (await sandbox_client.transcript(user_id))["seq"]
    url = f"{sandbox_client.base_url}/sandbox/api/bots/{sandbox_client.bot_id}/events"

    async def poll() -> dict[str, object]:
        async with http.get(url, params={"after": str(seq)}) as response:
            return await response.json()

    waiting = asyncio.create_task(poll())
    await sandbox_client.transcript(user_id)  # answered after the poll was made: it is open
    assert not waiting.done()
    await bot_api.ok("sendMessage", chat_id=user_id, text="news")
    changes = await waiting

    assert changes["user_ids"] == [user_id]
    assert changes["seq"] > seq


async def test_bots_are_listed_after_their_first_call(
    bot_api: BotApi, http: aiohttp.ClientSession, sandbox_client: SandboxClient
) -> None:
    await bot_api.ok("getMe")

    async with http.get(f"{sandbox_client.base_url}/sandbox/api/bots") as response:
        bots = await response.json()

    assert [bot["id"] for bot in bots] == [sandbox_client.bot_id]
    assert "token" not in bots[0]
