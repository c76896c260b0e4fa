"""Staff accounts: what create_user accepts and refuses, and how authenticate locks and rehashes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseworker_console import accounts
from caseworker_console.accounts import AccountError, authenticate, create_user, set_password
from storage import staff
from storage.models import AuditEntry, StaffSession, StaffUser, utcnow

PASSWORD = "correct horse battery staple"

MakeUser = Callable[..., Awaitable[StaffUser]]


async def test_create_user_stores_an_argon2id_hash_and_a_normalised_username(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        user = await create_user(
            session, username="  Casey.W ", password=PASSWORD, role="supervisor", display_name=" Casey  W "
        )
        await session.commit()
    async with sessionmaker() as session:
        stored = (await session.execute(select(StaffUser))).scalar_one()
    assert (stored.id, stored.username, stored.role) == (user.id, "casey.w", "supervisor")
    assert stored.display_name == "Casey W"
    assert stored.language == "en"
    assert stored.active
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"password": "short1!"}, "at least 8 characters"),
        ({"password": "x" * 129}, "at most 128 characters"),
        ({"password": "Password123"}, "most common"),
        ({"password": "QWERTYUIOP"}, "most common"),
        ({"password": "caseworker.one"}, "same as the username"),
        ({"role": "root"}, "role must be one of"),
        ({"language": "de"}, "language must be one of"),
        ({"username": "ab"}, "3 to 64 characters"),
        ({"username": "has space"}, "3 to 64 characters"),
        ({"username": "ünal"}, "3 to 64 characters"),
        ({"username": "x" * 65}, "3 to 64 characters"),
        ({"display_name": "n" * 121}, "at most 120 characters"),
    ],
)
async def test_create_user_refuses_with_a_clear_sentence(
    sessionmaker: async_sessionmaker[AsyncSession], fields: dict[str, str], fragment: str
) -> None:
    arguments = {"username": "caseworker.one", "password": PASSWORD, "role": "caseworker", **fields}
    async with sessionmaker() as session:
        with pytest.raises(AccountError) as refused:
            await create_user(session, **arguments)
    sentence = str(refused.value)
    assert fragment in sentence
    assert sentence.endswith(".")
    assert "{" not in sentence


async def test_passwords_have_no_composition_rules_and_may_be_long_passphrases(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    passphrase = "a quiet river in ganja at dawn, " * 4  # 128 characters, lower case only
    assert len(passphrase) == 128
    async with sessionmaker() as session:
        user = await create_user(session, username="river", password=passphrase, role="outreach")
        await session.commit()
        assert await authenticate(session, username="river", password=passphrase) is not None
    assert user.role == "outreach"


async def test_duplicate_username_is_refused_and_the_transaction_stays_usable(
    sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    await make_user("taken")
    async with sessionmaker() as session:
        with pytest.raises(AccountError, match="taken is already taken"):
            await create_user(session, username="TAKEN", password=PASSWORD, role="caseworker")
        # The caller can carry on in the same transaction after the refusal.
        await session.execute(select(StaffUser.id))
        await session.commit()


async def test_authenticate_accepts_the_right_password_and_resets_the_failure_count(
    sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    user = await make_user("dana")
    async with sessionmaker() as session:
        assert await authenticate(session, username="dana", password="wrong password") is None
        await session.commit()
        signed_in = await authenticate(session, username=" Dana ", password=PASSWORD)
        await session.commit()
    assert signed_in is not None
    assert signed_in.id == user.id
    async with sessionmaker() as session:
        stored = await session.get(StaffUser, user.id)
        actions = (await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars().all()
    assert stored is not None
    assert stored.failed_logins == 0
    assert stored.last_login_at is not None
    assert actions == ["staff.login_failed", "staff.login"]


async def test_six_failures_lock_the_account_even_against_the_right_password(
    sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    user = await make_user("erin")
    async with sessionmaker() as session:
        for _ in range(accounts.MAX_FAILED_LOGINS):
            assert await authenticate(session, username="erin", password="not it at all") is None
            await session.commit()
        assert await authenticate(session, username="erin", password=PASSWORD) is None
        await session.commit()
        stored = await session.get(StaffUser, user.id, populate_existing=True)
        assert stored is not None
        assert stored.locked_until is not None
        remaining = stored.locked_until - utcnow()
        assert dt.timedelta(minutes=29) < remaining <= accounts.LOCKOUT

        # Once the lock has run out, the right password works again.
        stored.locked_until = utcnow() - dt.timedelta(seconds=1)
        await session.commit()
        assert await authenticate(session, username="erin", password=PASSWORD) is not None


async def test_unknown_and_disabled_accounts_are_refused_like_a_wrong_password(
    sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    user = await make_user("frank")
    async with sessionmaker() as session:
        assert await authenticate(session, username="nobody", password=PASSWORD) is None
        assert await authenticate(session, username="../etc", password=PASSWORD) is None
        stored = await session.get(StaffUser, user.id)
        assert stored is not None
        stored.active = False
        await session.commit()
        assert await authenticate(session, username="frank", password=PASSWORD) is None


async def test_an_outdated_hash_is_replaced_at_the_next_sign_in(
    sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    user = await make_user("gail")
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    async with sessionmaker() as session:
        stored = await session.get(StaffUser, user.id)
        assert stored is not None
        stored.password_hash = weak
        await session.commit()
        assert await authenticate(session, username="gail", password=PASSWORD) is not None
        await session.commit()
        stored = await session.get(StaffUser, user.id, populate_existing=True)
    assert stored is not None
    assert stored.password_hash != weak
    assert not accounts._hasher.check_needs_rehash(stored.password_hash)


async def test_set_password_checks_the_new_one_lifts_the_lock_and_ends_sessions(
    sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    user = await make_user("hasan")
    async with sessionmaker() as session:
        await staff.create_session(session, session_id="a" * 64, user_id=user.id, csrf_token="t", at=utcnow())
        stored = await session.get(StaffUser, user.id)
        assert stored is not None
        stored.locked_until = utcnow() + accounts.LOCKOUT
        await session.commit()

        with pytest.raises(AccountError, match="most common"):
            await set_password(session, user=stored, password="iloveyou")
        await set_password(session, user=stored, password="a brand new passphrase")
        await session.commit()

        assert await authenticate(session, username="hasan", password=PASSWORD) is None
        assert await authenticate(session, username="hasan", password="a brand new passphrase") is not None
        assert (await session.execute(select(StaffSession))).scalars().all() == []
