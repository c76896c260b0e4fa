"""Stored updates reach the dialog: once each, one chat's in order, and after a crash or a restart."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from programme.forms import SCREENING
from sandbox.client import SandboxClient
from storage.crypto import Crypto
from storage.inbound import claim_updates, finish_updates, store_update
from storage.models import Beneficiary, Case, DialogState
from storage.models_webhook import InboundUpdate
from storage.sealing import unseal
from tests.bot.test_screening import Translate, answer_screening, choose_language
from tests.webhook.conftest import BOT_ID, Post, Replica, text_update

pytestmark = pytest.mark.slow
Q1 = SCREENING.bot_questions()[0].prompt


async def queue_size(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(InboundUpdate))).scalar_one()


async def wait_for_empty_queue(sessionmaker: async_sessionmaker[AsyncSession], seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while await queue_size(sessionmaker):  # noqa: ASYNC110 - polling another process's work
            await asyncio.sleep(0.05)


async def test_a_person_completes_screening_through_the_webhook(
    replica: Replica,
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await replica.start()
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "English")
    await answer_screening(phone, t, user, "en", "Amina Rahimi")
    result = await phone.wait_for_bot_message(user, contains="IP-")

    await wait_for_empty_queue(sessionmaker)
    async with sessionmaker() as session:
        case = (await session.execute(select(Case))).scalar_one()
        beneficiary = await session.get(Beneficiary, case.beneficiary_id)
    assert case.code in result["text"]
    assert unseal(crypto, beneficiary, "name_enc") == "Amina Rahimi"


async def test_the_same_update_delivered_ten_times_at_once_is_handled_once(
    replica: Replica,
    phone: SandboxClient,
    post: Post,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    await replica.start()
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "English")
    await phone.press(user, t("Continue"))
    await phone.wait_for_bot_message(user, contains=t("Skip"))
    await phone.wait_idle(user)
    before = len(await phone.bot_messages(user))

    # Telegram retrying while a load balancer fans the retries out: ten copies, all at once.
    name = text_update(900_001, user, "Samir Aliyev", message_id=99)
    statuses = await asyncio.gather(*(post(replica.url, name) for _ in range(10)))
    assert statuses == [200] * 10
    await phone.wait_for_bot_message(user, contains=t(Q1))
    await wait_for_empty_queue(sessionmaker)
    await phone.wait_idle(user, quiet=1.0)

    added = [message["text"] for message in (await phone.bot_messages(user))[before:]]
    assert added == [t("Thank you, {name}.", name="Samir Aliyev"), added[1]]
    assert t(Q1) in added[1]
    async with sessionmaker() as session:
        processed = await session.execute(
            text("SELECT count(*) FROM processed_updates WHERE update_id = 900001")
        )
        assert processed.scalar_one() == 1
        assert (await session.execute(select(DialogState.state))).scalar_one() == "Screening:questions"


@pytest.mark.parametrize("taken", [False, True], ids=["queued", "taken"])
async def test_an_update_stored_before_a_crash_is_handled_after_the_restart(
    replica: Replica,
    phone: SandboxClient,
    post: Post,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    taken: bool,
) -> None:
    user = await phone.create_user(language_code="en")
    # The process answered 200 and died: before its consumer took the update (only the row is
    # left), or having taken it in the store's own transaction (leased for 3 s).
    async with sessionmaker() as session, session.begin():
        stored = await store_update(
            session,
            crypto,
            bot_id=BOT_ID,
            update_id=5,
            chat_key=user,
            payload=json.dumps(text_update(5, user, "/start")),
            take_for=dt.timedelta(seconds=3) if taken else None,
        )
    assert stored is not None and stored.taken == taken

    await replica.start()
    if taken:
        await asyncio.sleep(1.0)
        assert await phone.bot_messages(user) == []  # still the dead replica's

    await phone.wait_for_bot_message(user, contains="🌐", timeout=15)
    await wait_for_empty_queue(sessionmaker)
    async with sessionmaker() as session:
        assert (await session.execute(select(DialogState.state))).scalar_one() == "Language:choose"


async def test_an_update_whose_replica_died_mid_handling_is_taken_over_once_its_lease_ends(
    replica: Replica,
    phone: SandboxClient,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    user = await phone.create_user(language_code="en")
    async with sessionmaker() as session, session.begin():
        await store_update(
            session,
            crypto,
            bot_id=BOT_ID,
            update_id=5,
            chat_key=user,
            payload=json.dumps(text_update(5, user, "/start")),
        )
        await store_update(
            session,
            crypto,
            bot_id=BOT_ID,
            update_id=6,
            chat_key=user,
            payload=json.dumps(text_update(6, user, "/help")),
        )
    # A replica claimed the first and died; its lease has not run out yet.
    async with sessionmaker() as session, session.begin():
        (claimed,) = await claim_updates(session, bot_id=BOT_ID, limit=10, lease=dt.timedelta(seconds=2))
    assert claimed.update_id == 5

    await replica.start()
    await asyncio.sleep(0.5)
    # Nobody may take the second while the first is leased: the chat's order comes first.
    assert await phone.bot_messages(user) == []

    welcome = await phone.wait_for_bot_message(user, contains="🌐", timeout=10)
    helped = await phone.wait_for_bot_message(user, contains="/language", timeout=10)
    assert welcome["message_id"] < helped["message_id"]
    await wait_for_empty_queue(sessionmaker)


# ── the claim query ─────────────────────────────────────────────────────────────────────────────


async def store_all(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, updates: list[tuple[int, int | None]]
) -> None:
    async with sessionmaker() as session, session.begin():
        for update_id, chat in updates:
            await store_update(
                session, crypto, bot_id=BOT_ID, update_id=update_id, chat_key=chat, payload="{}"
            )


async def claim(sessionmaker: async_sessionmaker[AsyncSession], limit: int = 10) -> list[int]:
    async with sessionmaker() as session, session.begin():
        rows = await claim_updates(session, bot_id=BOT_ID, limit=limit, lease=dt.timedelta(minutes=1))
    return [row.update_id for row in rows]


async def finish(sessionmaker: async_sessionmaker[AsyncSession], update_ids: list[int]) -> None:
    async with sessionmaker() as session, session.begin():
        ids = (
            await session.scalars(select(InboundUpdate.id).where(InboundUpdate.update_id.in_(update_ids)))
        ).all()
        await finish_updates(session, ids=ids)


async def test_only_the_oldest_update_of_each_chat_can_be_claimed(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    await store_all(sessionmaker, crypto, [(13, 1), (11, 1), (12, 2), (14, 2), (15, None), (16, None)])
    assert await claim(sessionmaker) == [11, 12, 15, 16]
    # Leased ones are nobody else's, and they still hold back their chats.
    assert await claim(sessionmaker) == []
    await finish(sessionmaker, [11])
    assert await claim(sessionmaker) == [13]
    await finish(sessionmaker, [12, 13])
    assert await claim(sessionmaker) == [14]


async def test_a_claim_takes_at_most_its_limit_oldest_first(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    await store_all(sessionmaker, crypto, [(update_id, update_id) for update_id in range(30, 20, -1)])
    assert await claim(sessionmaker, limit=3) == [21, 22, 23]
    assert await claim(sessionmaker, limit=3) == [24, 25, 26]


async def test_two_replicas_claiming_at_once_never_take_the_same_update(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    async with sessionmaker() as probe:
        if probe.get_bind().dialect.name != "postgresql":
            pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite has a single writer")
    await store_all(sessionmaker, crypto, [(update_id, update_id) for update_id in range(1, 21)])
    async with sessionmaker() as first, sessionmaker() as second, first.begin():
        taken_first = await claim_updates(first, bot_id=BOT_ID, limit=5, lease=dt.timedelta(minutes=1))
        # The first claim is not committed yet: its rows are locked, and skipped, not waited for.
        async with second.begin():
            taken_second = await asyncio.wait_for(
                claim_updates(second, bot_id=BOT_ID, limit=5, lease=dt.timedelta(minutes=1)), 5
            )
    assert [row.update_id for row in taken_first] == [1, 2, 3, 4, 5]
    assert [row.update_id for row in taken_second] == [6, 7, 8, 9, 10]
