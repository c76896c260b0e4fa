"""A console account's holder links their own chat through the real bot and the sandbox: the account
page's deep link (`/start staff-<code>`) or `/link <code>`; wrong, expired, used and forged codes
link nothing; guesses are limited; none of it makes a beneficiary, a case or a dialog."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.staff_link import HOW_TO, LINKED, NOT_VALID, TOO_MANY
from sandbox.client import SandboxClient
from storage import staff, staff_link
from storage.crypto import Crypto
from storage.models import AuditEntry, Beneficiary, Case, DialogState, StaffUser, utcnow
from storage.models_staff_link import StaffLinkCode, StaffLinkFailure, StaffTelegramLink
from storage.sealing import unseal
from tests.bot.conftest import TOKEN
from tests.bot.test_screening import choose_language

pytestmark = pytest.mark.slow

Translate = Callable[..., str]


async def officer(sessionmaker: async_sessionmaker[AsyncSession], username: str = "olga") -> StaffUser:
    async with sessionmaker() as session:
        user = await staff.add_user(
            session,
            username=username,
            password_hash="x",
            role="outreach",
            display_name=f"{username.title()} Outreach",
            language="en",
            at=utcnow(),
        )
        await session.commit()
        return user


async def code_for(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, user: StaffUser) -> str:
    """What the account page's "Link my Telegram" makes (caseworker_console.routes.own_account)."""
    async with sessionmaker() as session:
        code = await staff_link.new_code(session, crypto, staff_user_id=user.id, now=utcnow())
        await session.commit()
        return code


async def linked_chat(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, user: StaffUser
) -> int | None:
    async with sessionmaker() as session:
        link = await staff_link.link_of(session, staff_user_id=user.id)
        return None if link is None else int(unseal(crypto, link, "chat_id_enc") or 0)


async def journey_rows(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    async with sessionmaker() as session:
        return tuple(  # type: ignore[return-value]
            [
                (await session.execute(select(func.count()).select_from(model))).scalar_one()
                for model in (Beneficiary, Case, DialogState)
            ]
        )


async def test_the_account_pages_deep_link_links_the_chat_and_starts_no_beneficiary_dialog(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    olga = await officer(sessionmaker)
    code = await code_for(sessionmaker, crypto, olga)
    assert len(code) >= 8 and code.isalnum() and code.isupper()
    user = await phone.create_user(language_code="en")
    await phone.send_text(user, f"/start staff-{code}")
    answer = await phone.wait_for_bot_message(user)
    assert answer["text"] == t(LINKED, "en", account="Olga Outreach")
    await phone.wait_idle(user)
    assert await linked_chat(sessionmaker, crypto, olga) == user
    assert await journey_rows(sessionmaker) == (0, 0, 0)
    assert len(await phone.bot_messages(user)) == 1  # no language prompt, no welcome
    async with sessionmaker() as session:
        link = (await session.execute(select(StaffTelegramLink))).scalar_one()
        audit = (await session.execute(select(AuditEntry))).scalars().all()
        codes = (await session.execute(select(func.count()).select_from(StaffLinkCode))).scalar_one()
    # Sealed: the stored bytes and hash are not the chat id in the clear.
    assert str(user).encode() not in link.chat_id_enc and str(user) not in link.chat_hash
    assert [(entry.actor, entry.action, entry.object_id) for entry in audit] == [
        (f"staff:{olga.id}", "staff.telegram_linked", str(olga.id))
    ]
    assert codes == 0  # used up


async def test_link_command_takes_the_code_typed_in_any_case_and_answers_in_the_chats_language(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    olga = await officer(sessionmaker)
    code = await code_for(sessionmaker, crypto, olga)
    user = await phone.create_user(language_code="ru")
    await phone.send_text(user, f"/link   {code.lower()} ")
    answer = await phone.wait_for_bot_message(user)
    assert answer["text"] == t(LINKED, "ru", account="Olga Outreach")
    assert await linked_chat(sessionmaker, crypto, olga) == user
    assert await journey_rows(sessionmaker) == (0, 0, 0)


async def test_a_beneficiary_linking_their_chat_keeps_their_dialog_and_language(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    olga = await officer(sessionmaker)
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "Türkçe")
    async with sessionmaker() as session:
        before = (await session.execute(select(DialogState.state))).scalar_one()
    code = await code_for(sessionmaker, crypto, olga)
    await phone.send_text(user, f"/link {code}")
    answer = await phone.wait_for_bot_message(user, contains=t(LINKED, "tr", account="Olga Outreach"))
    assert answer is not None
    assert await linked_chat(sessionmaker, crypto, olga) == user
    async with sessionmaker() as session:
        after = (await session.execute(select(DialogState.state))).scalar_one()
        people = (await session.execute(select(func.count()).select_from(Beneficiary))).scalar_one()
    assert (after, people) == (before, 1)


async def test_link_without_a_code_says_how(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = await phone.create_user(language_code="az")
    await phone.send_text(user, "/link")
    answer = await phone.wait_for_bot_message(user)
    assert answer["text"] == t(HOW_TO, "az")
    assert await journey_rows(sessionmaker) == (0, 0, 0)


@pytest.mark.parametrize(
    "sent",
    [
        "/start staff-{wrong}",  # well-formed, never issued
        "/link {wrong}",
        "/start staff-{code}X",  # too long
        "/start staff-" + "A" * 64,
        "/link {code} {code}",
        "/link ../{code}",  # odd characters
        "/start staff-",
        "/link 0O1IL0O1IL",  # letters the alphabet leaves out
    ],
)
async def test_a_wrong_or_forged_code_links_nothing_and_says_so(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    sent: str,
) -> None:
    olga = await officer(sessionmaker)
    code = await code_for(sessionmaker, crypto, olga)
    wrong = "".join(reversed(code)) if code != code[::-1] else "ABCDEFGHJK"
    user = await phone.create_user(language_code="en")
    await phone.send_text(user, sent.format(code=code, wrong=wrong))
    answer = await phone.wait_for_bot_message(user)
    assert answer["text"] == t(NOT_VALID, "en")
    assert await linked_chat(sessionmaker, crypto, olga) is None
    assert await journey_rows(sessionmaker) == (0, 0, 0)


async def test_an_expired_code_links_nothing(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    olga = await officer(sessionmaker)
    code = await code_for(sessionmaker, crypto, olga)
    async with sessionmaker() as session, session.begin():
        # Made 15 minutes and a second ago.
        await session.execute(update(StaffLinkCode).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    user = await phone.create_user(language_code="en")
    await phone.send_text(user, f"/link {code}")
    assert (await phone.wait_for_bot_message(user))["text"] == t(NOT_VALID, "en")
    assert await linked_chat(sessionmaker, crypto, olga) is None
    assert await journey_rows(sessionmaker) == (0, 0, 0)


async def test_a_code_works_once_and_a_new_one_replaces_the_old(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    olga = await officer(sessionmaker)
    first = await code_for(sessionmaker, crypto, olga)
    second = await code_for(sessionmaker, crypto, olga)
    user, other = await phone.create_user(), await phone.create_user()
    await phone.send_text(user, f"/link {first}")
    assert (await phone.wait_for_bot_message(user))["text"] == t(NOT_VALID, "en")
    await phone.send_text(user, f"/link {second}")
    assert (await phone.wait_for_bot_message(user))["text"] == t(LINKED, "en", account="Olga Outreach")
    await phone.send_text(other, f"/start staff-{second}")
    assert (await phone.wait_for_bot_message(other))["text"] == t(NOT_VALID, "en")
    assert await linked_chat(sessionmaker, crypto, olga) == user


async def test_a_disabled_accounts_code_links_nothing(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    olga = await officer(sessionmaker)
    code = await code_for(sessionmaker, crypto, olga)
    async with sessionmaker() as session, session.begin():
        await staff.set_user_active(session, user_id=olga.id, active=False)
    user = await phone.create_user()
    await phone.send_text(user, f"/link {code}")
    assert (await phone.wait_for_bot_message(user))["text"] == t(NOT_VALID, "en")
    assert await linked_chat(sessionmaker, crypto, olga) is None


async def test_after_five_wrong_codes_in_an_hour_even_the_right_one_is_refused(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    olga = await officer(sessionmaker)
    code = await code_for(sessionmaker, crypto, olga)
    user, other = await phone.create_user(), await phone.create_user()
    for n in range(staff_link.MAX_FAILURES):
        await phone.send_text(user, f"/link WRONG{n}")
        assert (await phone.wait_for_bot_message(user))["text"] == t(NOT_VALID, "en")
    await phone.send_text(user, f"/link {code}")
    assert (await phone.wait_for_bot_message(user))["text"] == t(TOO_MANY, "en")
    assert await linked_chat(sessionmaker, crypto, olga) is None
    # The limit is the guessing chat's: the code still works from another one.
    await phone.send_text(other, f"/link {code}")
    assert (await phone.wait_for_bot_message(other))["text"] == t(LINKED, "en", account="Olga Outreach")
    assert await linked_chat(sessionmaker, crypto, olga) == other


async def test_linking_logs_neither_the_chat_id_nor_the_code(
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    olga = await officer(sessionmaker)
    code = await code_for(sessionmaker, crypto, olga)
    user = await phone.create_user()
    await phone.send_text(user, "/link WRONGCODE2")
    await phone.wait_for_bot_message(user)
    await phone.send_text(user, f"/start staff-{code}")
    await phone.wait_for_bot_message(user, contains=t(LINKED, "en", account="Olga Outreach"))
    ours = [r for r in caplog.records if not r.name.startswith(("sandbox", "aiohttp.access"))]
    assert ours, "expected the application to log something"
    text = "\n".join(record.getMessage() for record in ours)
    assert str(user) not in text
    assert code not in text and "WRONGCODE2" not in text
    assert TOKEN.split(":")[1] not in text


async def test_wrong_codes_older_than_an_hour_no_longer_count(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    olga = await officer(sessionmaker)
    code = await code_for(sessionmaker, crypto, olga)
    user = await phone.create_user()
    long_ago = utcnow() - staff_link.FAILURE_WINDOW - dt.timedelta(seconds=1)
    async with sessionmaker() as session, session.begin():
        for _ in range(staff_link.MAX_FAILURES):
            await staff_link.record_failure(session, crypto, chat_id=user, now=long_ago)
    await phone.send_text(user, "/link WRONG")
    assert (await phone.wait_for_bot_message(user))["text"] == t(NOT_VALID, "en")
    async with sessionmaker() as session:
        # The old tries were dropped when the new one was recorded.
        assert (await session.execute(select(func.count()).select_from(StaffLinkFailure))).scalar_one() == 1
    await phone.send_text(user, f"/link {code}")
    assert (await phone.wait_for_bot_message(user))["text"] == t(LINKED, "en", account="Olga Outreach")
