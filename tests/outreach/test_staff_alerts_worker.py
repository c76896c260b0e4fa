"""The worker's staff alerts at chosen clock times: who gets what, quiet hours kept or ignored, an
unopened urgent alert escalated to every supervisor once, a handoff left waiting told once to the
supervisors on duty, overdue feedback told once to those who may read it (a complaint about staff
to the focal points only), and none of it sent twice by a restarted worker."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
import zoneinfo
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from caseworker_console.permissions import feedback_routings
from outreach.staff_alerts import StaffAlerts
from programme import feedback as feedback_rules
from programme.staff_alerts import AlertPolicy, Kind
from storage import feedback as feedback_store
from storage import person_keys, staff, staff_alerts, staff_link
from storage.crypto import Crypto
from storage.engine import create_sessionmaker
from storage.journey import add_case_message, raise_alert
from storage.migrate import upgrade
from storage.models import Beneficiary, Case, OutboxMessage, StaffUser
from storage.models_feedback import Feedback
from storage.models_journey import Alert
from storage.outbox import Lane
from storage.sealing import seal, unseal_json
from tests.conftest import BACKENDS, Clock
from tests.storage.test_city import database_at

BAKU = zoneinfo.ZoneInfo("Asia/Baku")
# 11:00 in Baku, a weekday.
NOON = dt.datetime(2026, 12, 8, 7, 0, tzinfo=dt.UTC)
POLICY = AlertPolicy(escalate_after=dt.timedelta(minutes=15), waiting_after=dt.timedelta(hours=4))


def worker(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, clock: Clock) -> StaffAlerts:
    """The staff alerts as intake.runtime runs them, with a plain renderer: kind, code, language."""
    return StaffAlerts(
        sessionmaker,
        crypto,
        lambda kind, code, language: f"{kind} {code} {language}",
        policy=POLICY,
        zone=BAKU,
        reads=feedback_routings,  # as intake.runtime gives it: the console's rule
        sweep_every=0,
        clock=clock,
    )


async def account(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    username: str,
    role: str,
    *,
    linked: bool = True,
    focal_point: bool = False,
    **choice: object,
) -> StaffUser:
    async with sessionmaker() as session, session.begin():
        user = await staff.add_user(
            session,
            username=username,
            password_hash="x",
            role=role,
            display_name=username,
            language="az",
            at=NOON,
        )
        user.focal_point = focal_point
        if linked:
            code = await staff_link.new_code(session, crypto, staff_user_id=user.id, now=NOON)
            await staff_link.redeem(session, crypto, code=code, chat_id=7_000_000 + user.id, now=NOON)
        if choice:
            fields = {
                "urgent": True,
                "messages": True,
                "waiting": True,
                "feedback": True,
                "quiet_from": None,
                "quiet_until": None,
            }
            await staff_alerts.save_choice(session, staff_user_id=user.id, **{**fields, **choice})
    return user


async def a_case(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    *,
    assigned_to: int | None = None,
    handoff_at: dt.datetime | None = None,
) -> Case:
    async with sessionmaker() as session, session.begin():
        person = Beneficiary(telegram_hash=crypto.blind_index("telegram", "1"))
        person_keys.add_new(session, crypto, person.id)
        seal(crypto, person, "telegram_id_enc", "1")
        seal(crypto, person, "name_enc", "Amina Rahimi")
        case = Case(
            code="IP-2026-000007",
            beneficiary=person,
            assigned_to=assigned_to,
            handoff_at=handoff_at,
            created_at=NOON - dt.timedelta(days=1),
        )
        session.add(case)
    return case


async def alert_on(
    sessionmaker: async_sessionmaker[AsyncSession], case: Case, kind: str, at: dt.datetime
) -> int:
    async with sessionmaker() as session, session.begin():
        stored = await session.get(Case, case.id)
        assert stored is not None
        alert = await raise_alert(session, case=stored, kind=kind)
        alert.created_at = at
        await session.flush()
        return alert.id


async def sent(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> list[tuple[int, str]]:
    """(staff account, text) of every alert in the outbox, oldest first; all on the replies lane."""
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.staff_user_id.is_not(None))
                .order_by(OutboxMessage.created_at, OutboxMessage.staff_user_id)
            )
        ).scalars()
        found = []
        for row in rows:
            assert row.lane == Lane.REPLY
            payload = unseal_json(crypto, row, "payload_enc")
            assert payload["link_preview_options"] == {"is_disabled": True}
            found.append((row.staff_user_id, payload["text"]))
        return found


async def test_an_urgent_alert_goes_to_the_caseworker_at_once_even_in_their_quiet_hours(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    cara = await account(sessionmaker, crypto, "cara", "caseworker", quiet_from="10:00", quiet_until="12:00")
    await account(sessionmaker, crypto, "sam", "supervisor")
    case = await a_case(sessionmaker, crypto, assigned_to=cara.id)
    clock = Clock(NOON)
    await alert_on(sessionmaker, case, "urgent", NOON)

    assert await worker(sessionmaker, crypto, clock).run_once() == 1
    assert await sent(sessionmaker, crypto) == [(cara.id, f"urgent {case.code} az")]
    # The notice is gone with the sending: a restarted worker has nothing more to send.
    assert await worker(sessionmaker, crypto, clock).run_once() == 0


@pytest.mark.parametrize(
    ("choice", "linked"),
    [({"urgent": False}, True), ({}, False)],
    ids=["chose urgent alerts off", "no linked chat"],
)
async def test_an_urgent_alert_its_caseworker_cannot_get_goes_to_the_supervisors(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, choice: dict[str, bool], linked: bool
) -> None:
    cara = await account(sessionmaker, crypto, "cara", "caseworker", linked=linked, **choice)
    sam = await account(sessionmaker, crypto, "sam", "supervisor")
    await account(sessionmaker, crypto, "olga", "outreach")
    case = await a_case(sessionmaker, crypto, assigned_to=cara.id)
    await alert_on(sessionmaker, case, "crisis_words", NOON)
    await worker(sessionmaker, crypto, Clock(NOON)).run_once()
    assert await sent(sessionmaker, crypto) == [(sam.id, f"crisis_words {case.code} az")]


async def test_a_new_message_is_not_sent_in_quiet_hours_and_not_later_either(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    cara = await account(sessionmaker, crypto, "cara", "caseworker", quiet_from="10:00", quiet_until="12:00")
    case = await a_case(sessionmaker, crypto, assigned_to=cara.id)
    async with sessionmaker() as session, session.begin():
        await staff_alerts.note_message(session, case=case)
    clock = Clock(NOON)
    assert await worker(sessionmaker, crypto, clock).run_once() == 0
    clock.now = NOON + dt.timedelta(hours=2)
    assert await worker(sessionmaker, crypto, clock).run_once() == 0
    assert await sent(sessionmaker, crypto) == []


async def test_an_unopened_urgent_alert_goes_to_every_supervisor_once(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    cara = await account(sessionmaker, crypto, "cara", "caseworker")
    sam = await account(sessionmaker, crypto, "sam", "supervisor")
    # Escalations go to every supervisor, whatever they chose and in their quiet hours too.
    tom = await account(
        sessionmaker, crypto, "tom", "supervisor", urgent=False, quiet_from="10:00", quiet_until="12:00"
    )
    await account(sessionmaker, crypto, "una", "supervisor", linked=False)
    case = await a_case(sessionmaker, crypto, assigned_to=cara.id)
    clock = Clock(NOON)
    alert_id = await alert_on(sessionmaker, case, "urgent", NOON)
    alerts = worker(sessionmaker, crypto, clock)
    await alerts.run_once()  # to the caseworker

    clock.now = NOON + dt.timedelta(minutes=14)
    assert await alerts.run_once() == 0
    clock.now = NOON + dt.timedelta(minutes=15)
    assert await alerts.run_once() == 2
    escalated = f"escalated {case.code} az"
    assert (await sent(sessionmaker, crypto))[1:] == [(sam.id, escalated), (tom.id, escalated)]

    clock.now = NOON + dt.timedelta(minutes=40)
    assert await alerts.run_once() == 0
    assert await worker(sessionmaker, crypto, clock).run_once() == 0  # restarted
    async with sessionmaker() as session:
        alert = await session.get(Alert, alert_id)
        assert alert is not None and alert.escalated_at == NOON + dt.timedelta(minutes=15)


@pytest.mark.parametrize("seen", ["opened", "acknowledged"])
async def test_an_urgent_alert_opened_or_acknowledged_in_time_is_not_escalated(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, seen: str
) -> None:
    cara = await account(sessionmaker, crypto, "cara", "caseworker")
    await account(sessionmaker, crypto, "sam", "supervisor")
    case = await a_case(sessionmaker, crypto, assigned_to=cara.id)
    alert_id = await alert_on(sessionmaker, case, "urgent", NOON)
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(Alert).where(Alert.id == alert_id).values({f"{seen}_at": NOON + dt.timedelta(minutes=5)})
        )
    await worker(sessionmaker, crypto, Clock(NOON + dt.timedelta(hours=1))).run_once()
    assert await sent(sessionmaker, crypto) == [(cara.id, f"urgent {case.code} az")]


async def test_a_handoff_left_waiting_is_told_once_to_the_supervisors_on_duty(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    await account(sessionmaker, crypto, "cara", "caseworker")
    sam = await account(sessionmaker, crypto, "sam", "supervisor", quiet_from="10:00", quiet_until="12:00")
    tom = await account(sessionmaker, crypto, "tom", "supervisor", quiet_from="10:00", quiet_until="11:30")
    await account(sessionmaker, crypto, "una", "supervisor", waiting=False)
    case = await a_case(sessionmaker, crypto, handoff_at=NOON - dt.timedelta(hours=3, minutes=59))
    clock = Clock(NOON)
    assert await worker(sessionmaker, crypto, clock).run_once() == 0  # not four hours yet

    # Four hours, every supervisor who would get it in quiet hours: it waits for one on duty.
    clock.now = NOON + dt.timedelta(minutes=5)
    assert await worker(sessionmaker, crypto, clock).run_once() == 0
    clock.now = NOON + dt.timedelta(minutes=30)
    assert await worker(sessionmaker, crypto, clock).run_once() == 1
    assert await sent(sessionmaker, crypto) == [(tom.id, f"waiting {case.code} az")]

    clock.now = NOON + dt.timedelta(hours=2)
    assert await worker(sessionmaker, crypto, clock).run_once() == 0  # restarted, later: once only
    assert sam.id not in {who for who, _ in await sent(sessionmaker, crypto)}


async def test_the_first_unread_message_is_noted_not_those_after_it(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    cara = await account(sessionmaker, crypto, "cara", "caseworker")
    case = await a_case(sessionmaker, crypto, assigned_to=cara.id)
    for text in ("first", "second"):
        async with sessionmaker() as session, session.begin():
            stored = await session.get(Case, case.id)
            assert stored is not None
            await staff_alerts.note_message(session, case=stored)
            await add_case_message(
                session, crypto, case=stored, direction="in", kind="text", body={"text": text}
            )
    await worker(sessionmaker, crypto, Clock(NOON)).run_once()
    assert await sent(sessionmaker, crypto) == [(cara.id, f"{Kind.MESSAGE} {case.code} az")]


async def feedback_given(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    kind: feedback_rules.Kind,
    *,
    due_at: dt.datetime,
    case: Case | None = None,
) -> Feedback:
    """Feedback as the bot keeps it: with the case's person, or anonymously (`case` None)."""
    async with sessionmaker() as session, session.begin():
        person = None if case is None else await session.get(Beneficiary, case.beneficiary_id)
        feedback = await feedback_store.add_feedback(
            session,
            crypto,
            beneficiary=person,
            kind=kind,
            language="fa",
            medium="text",
            body={"text": "Cara shouted at me at the office"},
            urgent=False,
            answer_due=dt.timedelta(days=7),
        )
        feedback.created_at, feedback.due_at = due_at - dt.timedelta(days=7), due_at
    return feedback


async def test_overdue_feedback_about_the_service_is_told_once_to_its_readers_on_duty(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    cara = await account(sessionmaker, crypto, "cara", "caseworker")
    sam = await account(sessionmaker, crypto, "sam", "supervisor")
    fay = await account(sessionmaker, crypto, "fay", "supervisor", focal_point=True)
    await account(sessionmaker, crypto, "una", "supervisor", feedback=False)  # chose it off
    await account(sessionmaker, crypto, "quinn", "supervisor", quiet_from="10:00", quiet_until="12:00")
    await account(sessionmaker, crypto, "ada", "admin")
    await account(sessionmaker, crypto, "olga", "outreach")
    case = await a_case(sessionmaker, crypto, assigned_to=cara.id)
    given = await feedback_given(
        sessionmaker, crypto, feedback_rules.Kind.SERVICE, due_at=NOON + dt.timedelta(minutes=1), case=case
    )
    clock = Clock(NOON)
    assert await worker(sessionmaker, crypto, clock).run_once() == 0  # not due yet

    clock.now = NOON + dt.timedelta(minutes=2)
    alerts = worker(sessionmaker, crypto, clock)
    assert await alerts.run_once() == 2
    told = f"{Kind.FEEDBACK_OVERDUE}  az"  # no case code: feedback is never told by its case
    assert await sent(sessionmaker, crypto) == [(sam.id, told), (fay.id, told)]

    clock.now = NOON + dt.timedelta(hours=3)  # quinn's quiet hours are over: told once is once
    assert await alerts.run_once() == 0
    assert await worker(sessionmaker, crypto, clock).run_once() == 0  # restarted
    async with sessionmaker() as session:
        stored = await session.get(Feedback, given.id)
        assert stored is not None and stored.overdue_alerted_at == NOON + dt.timedelta(minutes=2)


@pytest.mark.parametrize("kind", [feedback_rules.Kind.STAFF, feedback_rules.Kind.AFRAID])
@pytest.mark.parametrize("anonymous", [False, True])
async def test_an_overdue_complaint_about_staff_goes_to_the_focal_points_only(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    kind: feedback_rules.Kind,
    anonymous: bool,
) -> None:
    cara = await account(sessionmaker, crypto, "cara", "caseworker")
    await account(sessionmaker, crypto, "sam", "supervisor")
    fay = await account(sessionmaker, crypto, "fay", "supervisor", focal_point=True)
    # One focal point in quiet hours, the other away: the complaint waits for one on duty.
    await account(
        sessionmaker, crypto, "finn", "supervisor", focal_point=True, quiet_from="10:00", quiet_until="12:00"
    )
    case = await a_case(sessionmaker, crypto, assigned_to=cara.id)
    await feedback_given(
        sessionmaker, crypto, kind, due_at=NOON - dt.timedelta(hours=1), case=None if anonymous else case
    )
    clock = Clock(NOON)
    async with sessionmaker() as session, session.begin():
        await session.execute(update(StaffUser).where(StaffUser.id == fay.id).values(active=False))
    assert await worker(sessionmaker, crypto, clock).run_once() == 0  # no focal point on duty
    async with sessionmaker() as session, session.begin():
        await session.execute(update(StaffUser).where(StaffUser.id == fay.id).values(active=True))

    assert await worker(sessionmaker, crypto, clock).run_once() == 1
    assert await sent(sessionmaker, crypto) == [(fay.id, f"{Kind.FEEDBACK_OVERDUE}  az")]
    clock.now = NOON + dt.timedelta(days=1)
    assert await worker(sessionmaker, crypto, clock).run_once() == 0


async def test_feedback_answered_closed_or_not_yet_due_is_not_told(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    await account(sessionmaker, crypto, "fay", "supervisor", focal_point=True)
    answered = await feedback_given(
        sessionmaker, crypto, feedback_rules.Kind.SERVICE, due_at=NOON - dt.timedelta(days=1)
    )
    closed = await feedback_given(sessionmaker, crypto, feedback_rules.Kind.STAFF, due_at=NOON)
    await feedback_given(sessionmaker, crypto, feedback_rules.Kind.STAFF, due_at=NOON + dt.timedelta(hours=1))
    async with sessionmaker() as session, session.begin():
        stored = await session.get(Feedback, answered.id)
        assert stored is not None
        await feedback_store.add_note(
            session,
            crypto,
            feedback=stored,
            kind=feedback_store.ANSWER,
            text="Thank you.",
            staff_id=None,
            actor="t",
        )
        # Answered, then taken up again: its first answer was given in time all the same.
        stored.status = feedback_rules.Status.IN_PROGRESS
        closing = await session.get(Feedback, closed.id)
        assert closing is not None
        await feedback_store.set_status(
            session, feedback=closing, status=feedback_rules.Status.CLOSED, staff_id=None, actor="t"
        )
    assert await worker(sessionmaker, crypto, Clock(NOON + dt.timedelta(minutes=59))).run_once() == 0
    assert await sent(sessionmaker, crypto) == []


async def old_case(
    engine: AsyncEngine, code: str, *, handoff_at: dt.datetime, alert_at: dt.datetime
) -> uuid.UUID:
    """An unassigned handoff with an unopened urgent alert, written as rows of the older schema."""
    person, case_id = uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            insert(Beneficiary.__table__).values(
                id=person,
                telegram_hash=secrets.token_hex(32),
                telegram_id_enc=b"x",
                created_at=handoff_at,
                last_active_at=handoff_at,
            )
        )
        await connection.execute(
            insert(Case.__table__).values(
                id=case_id,
                code=code,
                beneficiary_id=person,
                stage="new",
                source="bot",
                handoff_at=handoff_at,
                urgent=True,
                created_at=handoff_at,
                updated_at=handoff_at,
                version=1,
            )
        )
        await connection.execute(
            insert(Alert.__table__).values(case_id=case_id, kind="urgent", created_at=alert_at)
        )
    return case_id


@pytest.mark.parametrize("backend", BACKENDS)
async def test_alerts_and_handoffs_from_before_the_upgrade_reach_no_phone(
    backend: str, tmp_path: Path, data_key: bytes
) -> None:
    """A database at the revision before phone alerts, with an urgent alert nobody opened and a
    handoff long unassigned, upgraded: neither is escalated nor told as waiting; the same made
    after the upgrade are."""
    crypto = Crypto([data_key])
    long_ago = NOON - dt.timedelta(hours=6)
    async with database_at(backend, tmp_path, "0013_ops") as engine:
        await old_case(engine, "IP-2026-000001", handoff_at=long_ago, alert_at=long_ago)
        await upgrade(engine)
        sessionmaker = create_sessionmaker(engine)
        sam = await account(sessionmaker, crypto, "sam", "supervisor")
        clock = Clock(NOON)
        assert await worker(sessionmaker, crypto, clock).run_once() == 0
        assert await sent(sessionmaker, crypto) == []

        # The same after the upgrade: escalated and told as waiting.
        case = await a_case(sessionmaker, crypto, handoff_at=long_ago)
        await alert_on(sessionmaker, case, "urgent", long_ago)
        clock.now = NOON + dt.timedelta(minutes=1)
        await worker(sessionmaker, crypto, clock).run_once()
        told = {text for _, text in await sent(sessionmaker, crypto)}
        assert told >= {f"{Kind.ESCALATED} {case.code} az", f"{Kind.WAITING} {case.code} az"}
        assert not any("IP-2026-000001" in text for text in told)
        assert {who for who, _ in await sent(sessionmaker, crypto)} == {sam.id}
