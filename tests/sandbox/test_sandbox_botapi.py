"""The Bot API emulator answers requests, good and bad, the way Telegram does."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import aiohttp
import pytest

from sandbox.client import SandboxClient
from sandbox.server import SandboxServer

if TYPE_CHECKING:
    from conftest import BotApi

INLINE = {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}


async def test_get_me_describes_the_bot(bot_api: BotApi, sandbox_client: SandboxClient) -> None:
    me = await bot_api.ok("getMe")

    assert me["id"] == sandbox_client.bot_id
    assert me["is_bot"] is True
    assert me["username"] == "intake_sandbox_bot"


async def test_bad_token_is_unauthorized(http: aiohttp.ClientSession, sandbox_server: SandboxServer) -> None:
    async with http.get(f"{sandbox_server.url}/bot123:short/getMe") as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }


async def test_unknown_method_is_not_found(bot_api: BotApi) -> None:
    status, body = await bot_api.call("sendTelepathy", chat_id=1)

    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_method_names_ignore_case(bot_api: BotApi) -> None:
    status, body = await bot_api.call("GETME")

    assert status == 200 and body["result"]["is_bot"]


async def test_described_but_unimplemented_method_answers_true(bot_api: BotApi) -> None:
    assert await bot_api.ok("setMyDescription", description="Intake") is True


async def test_send_message_without_chat_id(bot_api: BotApi) -> None:
    status, body = await bot_api.call("sendMessage", text="hello")

    assert status == 400
    assert body["description"] == "Bad Request: chat_id is empty"


async def test_send_message_without_text(bot_api: BotApi, user_id: int) -> None:
    status, body = await bot_api.call("sendMessage", chat_id=user_id)

    assert status == 400
    assert body["description"] == "Bad Request: message text is empty"


async def test_blank_text_is_empty(bot_api: BotApi, user_id: int) -> None:
    status, body = await bot_api.call("sendMessage", chat_id=user_id, text="  \n ")

    assert (status, body["description"]) == (400, "Bad Request: message text is empty")


async def test_wrong_type_is_a_bad_request(bot_api: BotApi, user_id: int) -> None:
    status, body = await bot_api.call("sendMessage", chat_id=user_id, text="hi", message_thread_id="x")

    assert status == 400
    assert body["description"] == 'Bad Request: field "message_thread_id" must be of type Integer'


async def test_too_long_message(bot_api: BotApi, user_id: int) -> None:
    status, body = await bot_api.call("sendMessage", chat_id=user_id, text="a" * 5000)

    assert (status, body["description"]) == (400, "Bad Request: message is too long")


async def test_limit_counts_utf16_code_units(bot_api: BotApi, user_id: int) -> None:
    status, _ = await bot_api.call("sendMessage", chat_id=user_id, text="😀" * 2048)
    assert status == 200

    status, body = await bot_api.call("sendMessage", chat_id=user_id, text="😀" * 2049)
    assert (status, body["description"]) == (400, "Bad Request: message is too long")


async def test_caption_too_long(bot_api: BotApi, user_id: int) -> None:
    status, body = await bot_api.call(
        "sendPhoto", chat_id=user_id, photo="https://example.org/a.jpg", caption="c" * 1025
    )

    assert (status, body["description"]) == (400, "Bad Request: message caption is too long")


async def test_unknown_chat_is_not_found(bot_api: BotApi) -> None:
    status, body = await bot_api.call("sendMessage", chat_id=999, text="hi")

    assert (status, body["description"]) == (400, "Bad Request: chat not found")


async def test_bot_may_write_first_to_a_known_user(bot_api: BotApi, sandbox_client: SandboxClient) -> None:
    silent = await sandbox_client.create_user("Omid")

    sent = await bot_api.ok("sendMessage", chat_id=str(silent), text="Reminder")

    assert sent["chat"]["id"] == silent
    assert [m["text"] for m in await sandbox_client.bot_messages(silent)] == ["Reminder"]


async def test_blocked_user_is_forbidden(
    bot_api: BotApi, sandbox_client: SandboxClient, user_id: int
) -> None:
    await sandbox_client.block(user_id)

    status, body = await bot_api.call("sendMessage", chat_id=user_id, text="hi")

    assert status == 403
    assert body == {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
    }


@pytest.mark.parametrize(("data", "status"), [("é" * 32, 200), ("é" * 32 + "x", 400), ("", 400)])
async def test_callback_data_is_1_to_64_bytes(bot_api: BotApi, user_id: int, data: str, status: int) -> None:
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": data}]]}

    got, body = await bot_api.call("sendMessage", chat_id=user_id, text="hi", reply_markup=markup)

    assert got == status
    if status == 400:
        assert body["description"] == "Bad Request: BUTTON_DATA_INVALID"


async def test_inline_button_needs_an_action(bot_api: BotApi, user_id: int) -> None:
    markup = {"inline_keyboard": [[{"text": "Go"}]]}

    status, body = await bot_api.call("sendMessage", chat_id=user_id, text="hi", reply_markup=markup)

    assert status == 400
    assert "Text buttons are unallowed in the inline keyboard" in body["description"]


async def test_keyboard_fields_are_checked(bot_api: BotApi, user_id: int) -> None:
    markup = {"inline_keyboard": [[{"callback_data": "x"}]]}

    status, body = await bot_api.call("sendMessage", chat_id=user_id, text="hi", reply_markup=markup)

    assert status == 400
    assert body["description"] == ('Bad Request: field "reply_markup.inline_keyboard[0][0].text" is required')


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("Name: <Ali>", 'Unsupported start tag "ali" at byte offset 6'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_invalid_html_cannot_be_parsed(bot_api: BotApi, user_id: int, text: str, detail: str) -> None:
    status, body = await bot_api.call("sendMessage", chat_id=user_id, text=text, parse_mode="HTML")

    assert status == 400
    assert body["description"] == f"Bad Request: can't parse entities: {detail}"


async def test_html_is_stored_raw_and_plain(
    bot_api: BotApi, sandbox_client: SandboxClient, user_id: int
) -> None:
    html = '<b>Salam</b> &lt;3 <a href="https://example.org?a=1&amp;b=2">link</a> &amp; more'

    sent = await bot_api.ok("sendMessage", chat_id=user_id, text=html, parse_mode="html")

    assert sent["text"] == "Salam <3 link & more"
    assert sent["entities"] == [
        {"type": "bold", "offset": 0, "length": 5},
        {"type": "text_link", "offset": 9, "length": 4, "url": "https://example.org?a=1&b=2"},
    ]
    message = (await sandbox_client.bot_messages(user_id))[-1]
    assert (message["text"], message["html"]) == ("Salam <3 link & more", html)


async def test_form_encoding_is_coerced(bot_api: BotApi, user_id: int) -> None:
    form = {
        "chat_id": str(user_id),
        "text": "hi",
        "disable_notification": "true",
        "reply_markup": json.dumps(INLINE),
    }

    status, body = await bot_api.form("sendMessage", form)

    assert status == 200
    assert body["result"]["reply_markup"] == INLINE


async def test_query_string_parameters(http: aiohttp.ClientSession, bot_api: BotApi, user_id: int) -> None:
    params = {"chat_id": str(user_id), "text": "via GET"}

    async with http.get(f"{bot_api.base}/sendMessage", params=params) as response:
        body = await response.json()

    assert body["ok"] and body["result"]["text"] == "via GET"


async def test_edit_message_text(bot_api: BotApi, sandbox_client: SandboxClient, user_id: int) -> None:
    sent = await bot_api.ok("sendMessage", chat_id=user_id, text="Choose", reply_markup=INLINE)
    message_id = sent["message_id"]

    status, body = await bot_api.call(
        "editMessageText", chat_id=user_id, message_id=message_id, text="Choose", reply_markup=INLINE
    )
    assert status == 400 and body["description"].startswith("Bad Request: message is not modified")

    edited = await bot_api.ok("editMessageText", chat_id=user_id, message_id=message_id, text="Done")
    assert edited["text"] == "Done" and "edit_date" in edited
    message = (await sandbox_client.bot_messages(user_id))[-1]
    assert message["edited"] and message["text"] == "Done"
    assert message["reply_markup"] is None  # an edit without reply_markup drops the keyboard


async def test_edit_unknown_message(bot_api: BotApi, user_id: int) -> None:
    status, body = await bot_api.call("editMessageReplyMarkup", chat_id=user_id, message_id=999)

    assert (status, body["description"]) == (400, "Bad Request: message to edit not found")


async def test_edit_reply_markup_not_modified(bot_api: BotApi, user_id: int) -> None:
    sent = await bot_api.ok("sendMessage", chat_id=user_id, text="Choose", reply_markup=INLINE)

    status, body = await bot_api.call(
        "editMessageReplyMarkup", chat_id=user_id, message_id=sent["message_id"], reply_markup=INLINE
    )

    assert status == 400 and "message is not modified" in body["description"]


async def test_delete_message(bot_api: BotApi, sandbox_client: SandboxClient, user_id: int) -> None:
    sent = await bot_api.ok("sendMessage", chat_id=user_id, text="oops")

    assert await bot_api.ok("deleteMessage", chat_id=user_id, message_id=sent["message_id"])
    status, body = await bot_api.call("deleteMessage", chat_id=user_id, message_id=sent["message_id"])

    assert (status, body["description"]) == (400, "Bad Request: message to delete not found")
    assert (await sandbox_client.bot_messages(user_id))[-1]["deleted"] is True


async def test_answer_unknown_callback_query(bot_api: BotApi) -> None:
    status, body = await bot_api.call("answerCallbackQuery", callback_query_id="42")

    assert status == 400
    assert body["description"] == (
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )


async def test_reply_keyboard_lasts_until_removed(
    bot_api: BotApi, sandbox_client: SandboxClient, user_id: int
) -> None:
    keyboard = {"keyboard": [[{"text": "Help"}]], "resize_keyboard": True}
    await bot_api.ok("sendMessage", chat_id=user_id, text="Menu", reply_markup=keyboard)
    await bot_api.ok("sendMessage", chat_id=user_id, text="Anything else")
    assert (await sandbox_client.transcript(user_id))["reply_keyboard"] == keyboard

    await bot_api.ok("sendMessage", chat_id=user_id, text="Bye", reply_markup={"remove_keyboard": True})
    assert (await sandbox_client.transcript(user_id))["reply_keyboard"] is None


async def test_send_venue_location_and_contact(bot_api: BotApi, user_id: int) -> None:
    venue = await bot_api.ok(
        "sendVenue", chat_id=user_id, latitude=40.4, longitude=49.8, title="Office", address="Baku"
    )
    location = await bot_api.ok("sendLocation", chat_id=user_id, latitude=40.4, longitude=49.8)
    contact = await bot_api.ok("sendContact", chat_id=user_id, phone_number="+99412", first_name="Desk")

    assert venue["venue"]["title"] == "Office" and venue["location"]["latitude"] == 40.4
    assert location["location"] == {"latitude": 40.4, "longitude": 49.8}
    assert contact["contact"]["phone_number"] == "+99412"


async def test_multipart_document_upload_and_download(
    bot_api: BotApi, http: aiohttp.ClientSession, sandbox_client: SandboxClient, user_id: int
) -> None:
    form = aiohttp.FormData()
    form.add_field("chat_id", str(user_id))
    form.add_field("caption", "Your <b>plan</b>")
    form.add_field("parse_mode", "HTML")
    form.add_field("document", b"%PDF-1.4 plan", filename="plan.pdf", content_type="application/pdf")

    status, body = await bot_api.form("sendDocument", form)

    assert status == 200, body
    assert body["result"]["document"]["file_name"] == "plan.pdf"
    assert body["result"]["caption"] == "Your plan"
    document = (await sandbox_client.bot_messages(user_id))[-1]["document"]
    async with http.get(sandbox_client.base_url + document["url"]) as response:
        assert await response.read() == b"%PDF-1.4 plan"


async def test_send_chat_action(bot_api: BotApi, user_id: int) -> None:
    assert await bot_api.ok("sendChatAction", chat_id=user_id, action="typing") is True
    status, _ = await bot_api.call("sendChatAction", chat_id=user_id, action="dancing")
    assert status == 400


async def test_commands_are_stored_per_language(bot_api: BotApi) -> None:
    commands = [{"command": "start", "description": "Begin"}]
    await bot_api.ok("setMyCommands", commands=commands, language_code="ru")

    assert await bot_api.ok("getMyCommands", language_code="ru") == commands
    assert await bot_api.ok("getMyCommands") == []
    await bot_api.ok("deleteMyCommands", language_code="ru")
    assert await bot_api.ok("getMyCommands", language_code="ru") == []
