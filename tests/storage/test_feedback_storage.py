"""Feedback given with a case is sealed under the person's key and erased with them; anonymous
feedback holds no link to anyone, sealed under the master key, and goes only when its retention
period after closing ends. Feedback overdue at the upgrade that brought its phone alert is not told."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from programme.feedback import Kind, Routing, Status, read_reference, shown
from programme.retention import RetentionPolicy
from storage import feedback as store
from storage.crypto import Crypto, owner_of
from storage.engine import create_engine
from storage.erasure import erase_person
from storage.migrate import upgrade
from storage.models import AuditEntry, utcnow
from storage.models_feedback import Feedback, FeedbackNote
from storage.queries import get_or_create_beneficiary
from storage.retention import purge

Maker = async_sessionmaker[AsyncSession]
WEEK = dt.timedelta(days=7)


async def give(sessionmaker: Maker, crypto: Crypto, *, anonymous: bool, kind: Kind = Kind.STAFF) -> str:
    async with sessionmaker() as session, session.begin():
        person = await get_or_create_beneficiary(session, crypto, telegram_id=777)
        feedback = await store.add_feedback(
            session,
            crypto,
            beneficiary=None if anonymous else person,
            kind=kind,
            language="fa",
            medium="text",
            body={"text": "The caseworker shouted at me."},
            urgent=False,
            answer_due=WEEK,
        )
        return feedback.reference


def test_a_reference_is_read_back_from_any_digits_spaces_and_dashes() -> None:
    assert shown("FB-48291736") == "FB-4829-1736"
    assert read_reference("fb 4829-1736") == "FB-48291736"
    assert read_reference("۴۸۲۹۱۷۳۶") == "FB-48291736"  # Persian digits
    assert read_reference("4829") is None
    assert read_reference("FB-4829-17366") is None


async def test_anonymous_feedback_has_no_link_and_is_sealed_under_the_master_key(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    anonymous = await give(sessionmaker, crypto, anonymous=True)
    linked = await give(sessionmaker, crypto, anonymous=False)
    async with sessionmaker() as session:
        rows = {row.reference: row for row in (await session.execute(select(Feedback))).scalars()}
        person = await get_or_create_beneficiary(session, crypto, telegram_id=777)
        assert rows[anonymous].beneficiary_id is None and owner_of(rows[anonymous].body_enc) is None
        assert rows[linked].beneficiary_id == person.id and owner_of(rows[linked].body_enc) == person.id
        assert store.body_of(crypto, rows[anonymous]) == {"text": "The caseworker shouted at me."}
        assert rows[linked].routing == Routing.FOCAL_POINTS and rows[linked].due_at > utcnow() + dt.timedelta(
            days=6
        )
        # The audit names the reference, never a case or the text.
        details = [
            (e.object_type, e.object_id) for e in (await session.execute(select(AuditEntry))).scalars()
        ]
        assert ("feedback", anonymous) in details and all(kind != "case" for kind, _ in details)


async def test_erasing_the_person_erases_their_feedback_and_not_the_anonymous_one(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    anonymous = await give(sessionmaker, crypto, anonymous=True)
    linked = await give(sessionmaker, crypto, anonymous=False)
    async with sessionmaker() as session, session.begin():
        for reference in (anonymous, linked):
            found = await store.find_by_reference(session, reference=reference)
            assert found is not None
            await store.add_note(
                session,
                crypto,
                feedback=found,
                kind=store.ANSWER,
                text="We are sorry.",
                staff_id=None,
                actor="t",
            )
        person = await get_or_create_beneficiary(session, crypto, telegram_id=777)
        await erase_person(session, crypto, beneficiary_id=person.id, reason="request", actor="test")
    async with sessionmaker() as session:
        left = (await session.execute(select(Feedback.reference))).scalars().all()
        assert left == [anonymous]
        assert len((await session.execute(select(FeedbackNote))).scalars().all()) == 1


async def test_closed_feedback_is_purged_after_its_retention_period(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    old = await give(sessionmaker, crypto, anonymous=True, kind=Kind.SERVICE)
    recent = await give(sessionmaker, crypto, anonymous=True, kind=Kind.SERVICE)
    async with sessionmaker() as session, session.begin():
        for reference in (old, recent):
            found = await store.find_by_reference(session, reference=reference)
            assert found is not None
            await store.set_status(session, feedback=found, status=Status.CLOSED, staff_id=None, actor="t")
        found = await store.find_by_reference(session, reference=old)
        assert found is not None
        found.closed_at = utcnow() - dt.timedelta(days=400)
    report = await purge(sessionmaker, crypto, policy=RetentionPolicy(), now=utcnow())
    assert report.feedback == 1
    async with sessionmaker() as session:
        assert (await session.execute(select(Feedback.reference))).scalars().all() == [recent]


async def test_feedback_overdue_at_the_upgrade_is_not_told_on_phones_and_the_rest_will_be(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(engine, "0013_organisation")
        async with engine.begin() as connection:
            for number, (due, answered) in enumerate(
                (
                    ("2020-01-08 09:00:00.000000", None),  # overdue: the console highlights it
                    ("2020-01-08 09:00:00.000000", "2020-01-02 09:00:00.000000"),  # answered in time
                    ("2999-01-08 09:00:00.000000", None),  # not due yet
                )
            ):
                await connection.execute(
                    text(
                        "INSERT INTO feedback (id, reference, kind, routing, channel, medium, body_enc,"
                        " urgent, status, created_at, due_at, first_answered_at) VALUES (:id, :reference,"
                        " 'staff', 'focal_points', 'telegram', 'text', x'00', 0, 'new', '2020-01-01 09:00:00.000000',"
                        " :due, :answered)"
                    ),
                    {
                        "id": f"{number:032x}",
                        "reference": f"FB-0000000{number}",
                        "due": due,
                        "answered": answered,
                    },
                )
        await upgrade(engine, "0014_feedback_overdue")
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT reference, overdue_alerted_at FROM feedback"))
            told = {reference: at for reference, at in rows}
    finally:
        await engine.dispose()
    assert told == {"FB-00000000": "2020-01-08 09:00:00.000000", "FB-00000001": None, "FB-00000002": None}
