"""The demo's made-up data is consistent with today: nothing still ahead is already attended or
missed, no reply or referral is dated in the future, and a closed case keeps no booking."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake.demo_data import outcome, replied, seed_demo
from storage.appointments import ensure_demo_office
from storage.crypto import Crypto
from storage.models import Case, utcnow
from storage.models_appointments import Appointment
from storage.models_figures import Referral
from storage.models_journey import CaseMessage

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def test_an_appointment_still_ahead_is_booked_never_attended() -> None:
    ahead, past = NOW + dt.timedelta(days=2), NOW - dt.timedelta(days=2)
    assert outcome("attended", starts_at=ahead, now=NOW, closed=False) == "booked"
    assert outcome("no_show", starts_at=ahead, now=NOW, closed=False) == "booked"
    assert outcome("attended", starts_at=ahead, now=NOW, closed=True) == "cancelled"
    assert outcome("no_show", starts_at=past, now=NOW, closed=False) == "no_show"


def test_a_reply_is_made_up_only_once_its_time_has_come() -> None:
    handoff = NOW - dt.timedelta(hours=10)
    assert replied(dt.timedelta(hours=2), handoff=handoff, now=NOW) == dt.timedelta(hours=2)
    assert replied(dt.timedelta(hours=50), handoff=handoff, now=NOW) is None


async def test_the_seeded_demo_holds_nothing_dated_after_today(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    async with sessionmaker() as session, session.begin():
        office = await ensure_demo_office(session)
        assert await seed_demo(session, crypto, office=office, staff_id=None)
    now = utcnow()
    async with sessionmaker() as session:
        appointments = (
            await session.execute(select(Appointment.starts_at, Appointment.status, Case.stage).join(Case))
        ).all()
        messages = (await session.execute(select(CaseMessage.created_at))).scalars().all()
        referrals = (await session.execute(select(Referral.created_at, Referral.changed_at))).all()
    assert len(appointments) > 30 and messages and referrals
    wrong = [
        (starts_at, status, stage)
        for starts_at, status, stage in appointments
        if starts_at > now and (status != "booked" if stage != "closed" else status != "cancelled")
    ]
    assert wrong == []
    assert all(created <= now for created in messages)
    assert all(created <= now and changed <= now for created, changed in referrals)
