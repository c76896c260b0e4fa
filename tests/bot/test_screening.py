"""Self-screening end to end: the real aiogram bot long-polls the sandbox over HTTP."""

from __future__ import annotations

import asyncio
import string
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot, create_dispatcher
from programme.forms import SCREENING
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage.crypto import Crypto
from storage.models import Beneficiary, Case, DialogState, FormResponse
from storage.schema import Base
from storage.sealing import unseal, unseal_json
from tests.bot.conftest import BOT_ID, TOKEN, BotProcess

pytestmark = pytest.mark.slow

Translate = Callable[..., str]


async def choose_language(phone: SandboxClient, user: int, label: str) -> None:
    await phone.send_text(user, "/start")
    await phone.wait_for_bot_message(user, contains="🌐")
    await phone.press(user, label)
    await phone.wait_for_bot_message(user, contains="•")  # the privacy notice


async def answer_screening(phone: SandboxClient, t: Translate, user: int, locale: str, name: str) -> None:
    await phone.press(user, t("Continue", locale))
    await phone.wait_for_bot_message(
        user, contains=t("What name should we use for you? Write it below, or tap Skip.", locale)
    )
    await phone.send_text(user, name)
    q1, q2, q3 = (question.prompt for question in SCREENING.bot_questions())
    await phone.wait_for_bot_message(user, contains=t(q1, locale))
    await phone.press(user, t("Yes", locale))
    await phone.wait_for_bot_message(user, contains=t(q2, locale))
    await phone.press(user, t("Yes", locale))
    await phone.wait_for_bot_message(user, contains=t(q3, locale))
    await phone.press(user, "▫️ " + t("Learning the Azerbaijani language", locale))
    await phone.wait_idle(user)
    await phone.press(user, "▫️ " + t("Work and education", locale))
    await phone.wait_idle(user)
    await phone.press(user, t("Done", locale))


async def at_the_first_question(phone: SandboxClient, t: Translate) -> int:
    """A new English-speaking person who skipped the name and sees the first question, all answered."""
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "English")
    await phone.press(user, t("Continue"))
    await phone.wait_for_bot_message(user, contains=t("Skip"))
    await phone.press(user, t("Skip"))
    await phone.wait_for_bot_message(user, contains=t(SCREENING.bot_questions()[0].prompt))
    await phone.wait_idle(user)
    return user


async def database_text(session: AsyncSession) -> str:
    """Every value of every table, as text, to search for plaintext."""
    chunks = []
    for table in Base.metadata.sorted_tables:
        for row in (await session.execute(select(table))).all():
            chunks.extend(value.hex() if isinstance(value, bytes) else str(value) for value in row)
            chunks.extend(value.decode("latin-1") for value in row if isinstance(value, bytes))
    return "\n".join(chunks)


@pytest.mark.parametrize(
    ("locale", "label", "name"),
    [("en", "English", "Amina Rahimi"), ("fa", "فارسی / دری", "زهرا عبدالله\u200cزاده")],
)
async def test_a_person_completes_screening_and_a_new_case_appears_without_plaintext_personal_data(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    locale: str,
    label: str,
    name: str,
) -> None:
    user = await phone.create_user(first_name="Test", language_code=locale)
    await choose_language(phone, user, label)
    await answer_screening(phone, t, user, locale, name)
    result = await phone.wait_for_bot_message(user, contains="IP-")

    async with sessionmaker() as session:
        case = (await session.execute(select(Case))).scalar_one()
        beneficiary = await session.get(Beneficiary, case.beneficiary_id)
        response = (await session.execute(select(FormResponse))).scalar_one()
        assert case.stage == "new"
        assert case.code in result["text"]
        assert case.provisionally_eligible is True
        assert case.language == locale
        assert unseal(crypto, beneficiary, "name_enc") == name
        assert unseal_json(crypto, response, "answers_enc") == {
            "resides_for_reason": "yes",
            "has_permit": "yes",
            "directions": ["employment_education", "language"],
        }
        everything = await database_text(session)
    assert name not in everything
    assert name.encode().hex() not in everything
    assert str(user) not in everything
    expected_start = t(
        "Thank you! From your answers, the programme can probably help you.\n\n"
        "A caseworker will read your answers and write to you here to arrange a first meeting. "
        "Your case number is {code}.",
        locale,
        code=case.code,
    ).split("\n")[0]
    assert result["text"].startswith(expected_start)


async def test_the_sqlite_file_holds_no_plaintext_name(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session:
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("a file check for SQLite")
        database_file = Path(session.get_bind().url.database or "")
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "English")
    await answer_screening(phone, t, user, "en", "Zulfiya Plaintextova")
    await phone.wait_for_bot_message(user, contains="IP-")
    files = [database_file, *database_file.parent.glob(database_file.name + "-*")]
    assert all(b"Zulfiya" not in path.read_bytes() for path in files)


async def test_a_negative_screening_is_never_a_bare_refusal(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "English")
    await phone.press(user, t("Continue"))
    await phone.wait_for_bot_message(user, contains=t("Skip"))
    await phone.press(user, t("Skip"))
    await phone.wait_for_bot_message(user, contains=t(SCREENING.bot_questions()[0].prompt))
    await phone.press(user, t("No"))
    await phone.wait_for_bot_message(user, contains=t(SCREENING.bot_questions()[1].prompt))
    await phone.press(user, t("No"))
    await phone.wait_for_bot_message(user, contains=t(SCREENING.bot_questions()[2].prompt))
    answer = await phone.press_for_answer(user, label=t("Done"))
    assert answer["text"] == t("Choose at least one, then tap Done.")
    await phone.press(user, "▫️ " + t("Health and social services"))
    await phone.wait_idle(user)
    await phone.press(user, t("Done"))
    result = await phone.wait_for_bot_message(user, contains="IP-")
    assert "where else you can get help" in result["text"]
    async with sessionmaker() as session:
        case = (await session.execute(select(Case))).scalar_one()
    assert case.provisionally_eligible is False


async def test_start_after_screening_repeats_the_case_number_for_whoever_missed_it(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "English")
    await answer_screening(phone, t, user, "en", "Karim")
    await phone.wait_for_bot_message(user, contains="IP-")
    async with sessionmaker() as session:
        code = (await session.execute(select(Case.code))).scalar_one()

    await phone.send_text(user, "/start")
    welcome = (
        t("Your case number is {code}.", code=code)
        + "\n"
        + t("Welcome back! Let's continue where you stopped.")
    )
    await phone.wait_for_bot_message(user, contains=welcome)


async def test_a_restart_mid_dialog_resumes_at_the_same_step(
    phone: SandboxClient,
    t: Translate,
    bot_process: BotProcess,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    q1, q2, _ = (question.prompt for question in SCREENING.bot_questions())
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "English")
    await phone.press(user, t("Continue"))
    await phone.wait_for_bot_message(user, contains=t("Skip"))
    await phone.send_text(user, "Karim")
    await phone.wait_for_bot_message(user, contains=t(q1))
    await phone.press(user, t("Yes"))
    await phone.wait_for_bot_message(user, contains=t(q2))

    await bot_process.restart()

    # The button sent before the restart still works, and the dialog goes on from there.
    await phone.press(user, t("Yes"))
    await phone.wait_for_bot_message(user, contains=t(SCREENING.bot_questions()[2].prompt))
    # /start mid-dialog re-asks the same step instead of starting over.
    await phone.send_text(user, "/start")
    await phone.wait_for_bot_message(user, contains=t(SCREENING.bot_questions()[2].prompt))
    async with sessionmaker() as session:
        assert (await session.execute(select(DialogState.state))).scalar_one() == "Screening:questions"


async def test_a_replayed_update_changes_nothing(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "English")
    await phone.press(user, t("Continue"))
    await phone.wait_for_bot_message(user, contains=t("Skip"))
    update_id = await phone.send_text(user, "Leyla")
    await phone.wait_for_bot_message(user, contains=t(SCREENING.bot_questions()[0].prompt))
    await phone.wait_idle(user)
    before = await phone.bot_messages(user)

    await phone.replay(update_id)
    await phone.wait_idle(user, quiet=1.0)

    assert await phone.bot_messages(user) == before
    async with sessionmaker() as session:
        processed = await session.execute(
            text("SELECT count(*) FROM processed_updates WHERE update_id = :u"), {"u": update_id}
        )
        assert processed.scalar_one() == 1
        assert (await session.execute(select(DialogState.state))).scalar_one() == "Screening:questions"


async def test_forged_and_stale_buttons_change_nothing(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    q1 = t(SCREENING.bot_questions()[0].prompt)
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "English")
    privacy = (await phone.bot_messages(user))[-1]
    await phone.press(user, t("Continue"))
    await phone.wait_for_bot_message(user, contains=t("Skip"))
    await phone.press(user, t("Skip"))
    question = await phone.wait_for_bot_message(user, contains=q1)
    live = question["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    token = live.split(":")[1]
    # Six random bytes (48 bits), as eight URL-safe characters: not to be guessed by a forger.
    assert len(token) >= 8 and set(token) <= set(string.ascii_letters + string.digits + "-_")

    async def answers_after(callback_data: str, message_id: int) -> str:
        answer = await phone.press_for_answer(user, message_id=message_id, callback_data=callback_data)
        return answer["text"]

    stale = t("This button is no longer active. Please use the newest message.")
    assert await answers_after("t:forged1:yes", question["message_id"]) == stale
    assert await answers_after("garbage", question["message_id"]) == stale
    assert await answers_after(f"t:{token}:maybe", question["message_id"]) == t(
        "Please choose one of the options."
    )
    assert await answers_after(f"t:{token}:continue", privacy["message_id"]) == t(
        "Please choose one of the options."
    )
    async with sessionmaker() as session:
        row = (await session.execute(select(DialogState))).scalar_one()
        assert row.state == "Screening:questions"
        data = unseal_json(crypto, row, "data_enc")
        assert data["q"] == "resides_for_reason"
        assert data["answers"] == {}


def button_data(message: dict, label: str) -> str:
    return next(
        button["callback_data"]
        for row in message["reply_markup"]["inline_keyboard"]
        for button in row
        if button["text"] == label
    )


async def test_an_earlier_questions_genuine_buttons_and_a_double_tap_answer_once(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    """Each keyboard has a token of its own: the first question's real buttons, pressed once the
    second is asked, are stale (the same values would answer it), and a double tap answers once."""
    q1, q2, q3 = (t(question.prompt) for question in SCREENING.bot_questions())
    stale = t("This button is no longer active. Please use the newest message.")
    user = await at_the_first_question(phone, t)
    first = (await phone.bot_messages(user))[-1]
    assert q1 in first["text"]
    await phone.press(user, t("Yes"))
    second = await phone.wait_for_bot_message(user, contains=q2)
    assert button_data(second, t("No")) != button_data(first, t("No"))

    for label in (t("No"), t("Yes")):  # a late tap of the first question's buttons
        pressed = button_data(first, label)
        answer = await phone.press_for_answer(user, message_id=first["message_id"], callback_data=pressed)
        assert answer["text"] == stale
    async with sessionmaker() as session:
        data = unseal_json(crypto, (await session.execute(select(DialogState))).scalar_one(), "data_enc")
    assert data["q"] == "has_permit" and data["answers"] == {"resides_for_reason": "yes"}

    # The second question's No, tapped twice at once: one answer, and the second tap is stale.
    pressed = button_data(second, t("No"))
    answers = await asyncio.gather(
        *(
            phone.press_for_answer(user, message_id=second["message_id"], callback_data=pressed)
            for _ in range(2)
        )
    )
    assert sorted(answer.get("text") or "" for answer in answers) == ["", stale]
    await phone.wait_for_bot_message(user, contains=q3)
    await phone.wait_idle(user)
    async with sessionmaker() as session:
        data = unseal_json(crypto, (await session.execute(select(DialogState))).scalar_one(), "data_enc")
    assert data["q"] == "directions" and data["answers"] == {"resides_for_reason": "yes", "has_permit": "no"}
    assert sum(q3 in message["text"] for message in await phone.bot_messages(user)) == 1


async def test_unexpected_input_gets_a_short_re_ask_and_loses_nothing(
    phone: SandboxClient, t: Translate
) -> None:
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "English")
    await phone.press(user, t("Continue"))
    await phone.wait_for_bot_message(user, contains=t("Skip"))
    await phone.send(user, sticker=True)
    await phone.wait_for_bot_message(user, contains=t("Please send your answer as text."))
    await phone.send_text(user, "x" * 4000)
    await phone.wait_for_bot_message(
        user,
        contains=t(
            "That is too long. Please write at most {limit} character.",
            plural="That is too long. Please write at most {limit} characters.",
            n=100,
            limit=100,
        ),
    )
    await phone.send_text(user, "<b>Nadia</b> & \u202eco")
    thanks = await phone.wait_for_bot_message(user, contains=t("Thank you, {name}.", name="")[:8])
    assert "<b>Nadia</b> & co" in thanks["text"]
    q1 = t(SCREENING.bot_questions()[0].prompt)
    await phone.wait_for_bot_message(user, contains=q1)
    await phone.send_text(user, "yes")
    await phone.wait_for_bot_message(user, contains=t("Please tap one of the buttons."))
    await phone.wait_for_bot_message(user, contains=q1)
    await phone.send(user, photo=True)
    await phone.wait_for_bot_message(user, contains=q1)


async def test_language_can_be_changed_mid_dialog_and_the_step_is_asked_again(
    phone: SandboxClient, t: Translate
) -> None:
    q1 = SCREENING.bot_questions()[0].prompt
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "English")
    await phone.press(user, t("Continue"))
    await phone.wait_for_bot_message(user, contains=t("Skip"))
    await phone.press(user, t("Skip"))
    await phone.wait_for_bot_message(user, contains=t(q1))
    await phone.send_text(user, "/language")
    await phone.wait_for_bot_message(user, contains="🌐")
    await phone.press(user, "Русский")
    await phone.wait_for_bot_message(user, contains=t(q1, "ru"))
    await phone.send_text(user, "/help")
    await phone.wait_for_bot_message(user, contains="/language")
    await phone.wait_for_bot_message(user, contains=t(q1, "ru"))


async def test_the_command_list_is_set_in_every_language(
    phone: SandboxClient, bot_process: BotProcess, t: Translate
) -> None:
    assert bot_process.bot is not None
    async with asyncio.timeout(10):
        while not (commands := await bot_process.bot.get_my_commands(language_code="fa")):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    described = {command.command: command.description for command in commands}
    assert described["urgent"] == t("🆘 Urgent help", "fa")
    assert described["start"] == t("Start or continue", "fa")
    assert set(described) == {
        "start",
        "urgent",
        "appointments",
        "caseworker",
        "mydata",
        "feedback",
        "language",
        "help",
    }


async def test_group_chats_are_ignored(
    sandbox: SandboxServer, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    bot = create_bot(TOKEN, sandbox.url)
    dispatcher = create_dispatcher(sessionmaker=sessionmaker, crypto=crypto)
    group_message = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": -100123, "type": "supergroup", "title": "Community"},
            "from": {"id": 555000111, "is_bot": False, "first_name": "Someone"},
            "text": "/start",
        },
    }
    try:
        await dispatcher.feed_raw_update(bot, group_message)
    finally:
        await bot.session.close()
    async with sessionmaker() as session:
        for model in (Beneficiary, DialogState):
            assert (await session.execute(select(func.count()).select_from(model))).scalar_one() == 0
    async with SandboxClient(sandbox.url, BOT_ID) as phone:
        assert [entry for entry in await phone.call_log() if entry["method"] == "sendMessage"] == []


async def test_a_tap_reads_the_person_and_their_dialog_in_one_select_and_writes_it_once(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q2 = SCREENING.bot_questions()[1].prompt
    user = await at_the_first_question(phone, t)
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(" ".join(statement.split()).lower())

    engine = sessionmaker.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        await phone.press(user, t("Yes"))
        await phone.wait_for_bot_message(user, contains=t(q2))
        await phone.wait_idle(user)
    finally:
        event.remove(engine, "before_cursor_execute", record)

    selects = [s for s in statements if s.startswith("select")]
    assert len([s for s in selects if "from beneficiaries" in s]) == 1
    assert all("dialog_states" in s for s in selects if "from beneficiaries" in s)
    assert not [s for s in selects if s.startswith("select") and "from dialog_states" in s]
    # The answer, the next question and its buttons changed the dialog three times: one write.
    assert len([s for s in statements if s.startswith("update dialog_states")]) == 1


async def test_the_next_question_does_not_wait_for_the_edit_of_the_answered_one(
    phone: SandboxClient, t: Translate
) -> None:
    q1, q2 = (question.prompt for question in SCREENING.bot_questions()[:2])
    user = await at_the_first_question(phone, t)
    # A slow connection holds up the edit of the answered question for three seconds.
    await phone.inject_fault("delay", method="editMessageText", delay=3.0)

    await phone.press(user, t("Yes"))
    await phone.wait_for_bot_message(user, contains=t(q2), timeout=2.5)
    answered = next(m for m in await phone.bot_messages(user) if t(q1) in m["text"])
    assert "➡️" not in answered["text"]  # the edit is still on its way; the question came first

    async def edited() -> bool:
        answered = next(m for m in await phone.bot_messages(user) if t(q1) in m["text"])
        return answered["text"].endswith(f"➡️ {t('Yes')}")

    for _ in range(50):  # and the edit arrives after all
        if await edited():
            break
        await asyncio.sleep(0.2)
    assert await edited()
