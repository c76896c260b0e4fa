"""The retention purge, rule by rule, both ways: a second inside the period kept, a second past it
purged, a case on legal hold kept; batches that finish a purge larger than one, and a run stopped
half-way that the next run completes."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from programme.retention import RetentionPolicy
from storage import person_keys, retention
from storage.crypto import Crypto
from storage.inbound import MAX_ATTEMPTS
from storage.models import AuditEntry, Beneficiary, Case, ProcessedUpdate
from storage.models_casework import CaseClosure
from storage.models_figures import FullExport
from storage.models_journey import CaseMessage
from storage.models_retention import LegalHold
from storage.models_webhook import InboundUpdate
from storage.sealing import seal_json, unseal_json

NOW = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)
POLICY = RetentionPolicy()
SECOND = dt.timedelta(seconds=1)
Maker = async_sessionmaker[AsyncSession]


class World:
    """People and their cases, written straight to the tables."""

    def __init__(self, sessionmaker: Maker, crypto: Crypto) -> None:
        self.sessionmaker = sessionmaker
        self.crypto = crypto
        self.numbers = iter(range(1, 100_000))

    async def person(
        self,
        *,
        last_active: dt.datetime,
        cases: list[dict[str, Any]] | None = None,
    ) -> uuid.UUID:
        """A person and their cases: each {stage, updated (default: last_active), closed (a closing
        time, with stage_before), held}."""
        async with self.sessionmaker() as session, session.begin():
            person = Beneficiary(
                telegram_hash=secrets.token_hex(32),
                telegram_id_enc=b"x",
                created_at=last_active,
                last_active_at=last_active,
            )
            session.add(person)
            for spec in cases or []:
                case = Case(
                    code=f"IP-2027-{next(self.numbers):06d}",
                    beneficiary=person,
                    stage=spec.get("stage", "screening"),
                    created_at=last_active,
                    updated_at=spec.get("updated", last_active),
                )
                session.add(case)
                await session.flush()
                # The ORM sets updated_at on every flush of a change; the test's time stands.
                await session.execute(
                    Case.__table__.update()
                    .where(Case.__table__.c.id == case.id)
                    .values(updated_at=spec.get("updated", last_active))
                )
                if "closed" in spec:
                    session.add(
                        CaseClosure(
                            case_id=case.id,
                            reason="goals_reached",
                            stage_before=spec.get("stage_before", "monitoring"),
                            closed_at=spec["closed"],
                        )
                    )
                if spec.get("held"):
                    session.add(
                        LegalHold(
                            case_id=case.id,
                            reason_enc=b"sealed",
                            review_on=dt.date(2030, 1, 1),
                            placed_at=NOW,
                        )
                    )
            return person.id

    async def exists(self, beneficiary_id: uuid.UUID) -> bool:
        async with self.sessionmaker() as session:
            return await session.get(Beneficiary, beneficiary_id) is not None

    async def message(
        self, case_spec_person: uuid.UUID, *, kind: str, at: dt.datetime, body: dict[str, Any]
    ) -> uuid.UUID:
        async with self.sessionmaker() as session, session.begin():
            case_id = (
                await session.execute(select(Case.id).where(Case.beneficiary_id == case_spec_person))
            ).scalar_one()
            message = CaseMessage(case_id=case_id, direction="in", kind=kind, created_at=at)
            await person_keys.load_for_case(session, self.crypto, case_id)
            seal_json(self.crypto, message, "body_enc", body)
            session.add(message)
            return message.id


async def run(sessionmaker: Maker, crypto: Crypto, **options: Any) -> retention.PurgeReport:
    return await retention.purge(sessionmaker, crypto, policy=POLICY, now=NOW, **options)


async def test_a_closed_case_is_erased_a_second_past_its_period_and_kept_a_second_inside(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    world = World(sessionmaker, crypto)
    long_ago = NOW - dt.timedelta(days=1000)
    past = await world.person(
        last_active=long_ago, cases=[{"stage": "closed", "closed": NOW - POLICY.closed - SECOND}]
    )
    inside = await world.person(
        last_active=long_ago, cases=[{"stage": "closed", "closed": NOW - POLICY.closed + SECOND}]
    )
    held = await world.person(
        last_active=long_ago,
        cases=[{"stage": "closed", "closed": NOW - POLICY.closed - SECOND, "held": True}],
    )
    # An old closed case and a newer open one: the person is still in the programme.
    still_open = await world.person(
        last_active=long_ago,
        cases=[{"stage": "closed", "closed": NOW - POLICY.closed - SECOND}, {"stage": "implementation"}],
    )
    # The old case's hold keeps the person's other, long-closed case too: erasure is per person.
    other_case_held = await world.person(
        last_active=long_ago,
        cases=[
            {"stage": "closed", "closed": NOW - POLICY.closed - SECOND},
            {"stage": "closed", "closed": NOW - POLICY.closed - SECOND, "held": True},
        ],
    )

    report = await run(sessionmaker, crypto)

    assert report.closed == 1
    assert not await world.exists(past)
    for kept in (inside, held, still_open, other_case_held):
        assert await world.exists(kept)
    async with sessionmaker() as session:
        entries = (await session.execute(select(AuditEntry.action, AuditEntry.details))).all()
    assert ("beneficiary.erased", {"reason": "retention"}) in entries
    purged = [details for action, details in entries if action == "retention.purged"]
    assert purged == [report.counts()]


async def test_a_person_never_enrolled_is_erased_a_second_after_the_period_without_contact(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    world = World(sessionmaker, crypto)
    past_time = NOW - POLICY.unenrolled - SECOND
    inside_time = NOW - POLICY.unenrolled + SECOND
    screened_past = await world.person(last_active=past_time, cases=[{"stage": "screening"}])
    screened_inside = await world.person(last_active=inside_time, cases=[{"stage": "screening"}])
    held = await world.person(last_active=past_time, cases=[{"stage": "screening", "held": True}])
    never_screened = await world.person(last_active=past_time)
    new_case = await world.person(last_active=past_time, cases=[{"stage": "new"}])
    # Closed at screening (not eligible): never enrolled, erased by contact, not by the two years.
    closed_unenrolled = await world.person(
        last_active=past_time,
        cases=[{"stage": "closed", "closed": past_time, "stage_before": "screening"}],
    )
    # Enrolled people follow the closed-case rule only.
    enrolled = await world.person(last_active=past_time, cases=[{"stage": "initial_assessment"}])
    closed_enrolled = await world.person(
        last_active=past_time,
        cases=[{"stage": "closed", "closed": past_time, "stage_before": "implementation"}],
    )
    # A caseworker worked on the case recently: that is contact too.
    worked_on = await world.person(
        last_active=past_time, cases=[{"stage": "screening", "updated": inside_time}]
    )

    report = await run(sessionmaker, crypto)

    assert report.unenrolled == 4
    for gone in (screened_past, never_screened, new_case, closed_unenrolled):
        assert not await world.exists(gone)
    for kept in (screened_inside, held, enrolled, closed_enrolled, worked_on):
        assert await world.exists(kept)


async def test_files_in_the_chat_become_a_sealed_stub_after_their_period_and_the_message_stays(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    world = World(sessionmaker, crypto)
    recent = NOW - dt.timedelta(days=10)
    person = await world.person(last_active=recent, cases=[{"stage": "implementation"}])
    held_person = await world.person(last_active=recent, cases=[{"stage": "implementation", "held": True}])
    photo = {"file_id": "AgACAgIAAxkBAAIB", "caption": "my passport"}
    past = await world.message(person, kind="photo", at=NOW - POLICY.attachments - SECOND, body=photo)
    document = await world.message(
        person,
        kind="document",
        at=NOW - POLICY.attachments - SECOND,
        body={"file_id": "BQACAgIAAxkBAAIC", "file_name": "permit.pdf", "caption": None},
    )
    inside = await world.message(person, kind="voice", at=NOW - POLICY.attachments + SECOND, body=photo)
    text = await world.message(
        person, kind="text", at=NOW - POLICY.attachments - SECOND, body={"text": "hello"}
    )
    held = await world.message(held_person, kind="photo", at=NOW - POLICY.attachments - SECOND, body=photo)

    report = await run(sessionmaker, crypto)
    again = await run(sessionmaker, crypto)

    assert report.attachments == 2
    assert again.attachments == 0
    async with sessionmaker() as session:
        rows = {row.id: row for row in (await session.execute(select(CaseMessage))).scalars()}
    for removed in (past, document):
        assert rows[removed].removed_at == NOW
        assert unseal_json(crypto, rows[removed], "body_enc") == {"removed": "retention"}
    assert rows[past].kind == "photo" and rows[past].created_at == NOW - POLICY.attachments - SECOND
    for kept in (inside, held):
        assert rows[kept].removed_at is None
        assert unseal_json(crypto, rows[kept], "body_enc") == photo
    assert unseal_json(crypto, rows[text], "body_enc") == {"text": "hello"}
    assert json.loads(retention.REMOVED_BODY) == {"removed": "retention"}


async def test_update_marks_given_up_webhook_rows_expired_exports_and_old_audit_go_after_their_period(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    updates_past, updates_inside = NOW - POLICY.updates - SECOND, NOW - POLICY.updates + SECOND
    async with sessionmaker() as session, session.begin():
        session.add_all(
            [
                ProcessedUpdate(bot_id=1, update_id=1, processed_at=updates_past),
                ProcessedUpdate(bot_id=1, update_id=2, processed_at=updates_inside),
            ]
        )

        def inbound(update_id: int, received: dt.datetime, attempts: int, lease: dt.datetime | None) -> Any:
            return InboundUpdate(
                bot_id=1,
                update_id=update_id,
                chat_hash="c",
                payload_enc=b"sealed",
                received_at=received,
                attempts=attempts,
                lease_until=lease,
            )

        session.add_all(
            [
                inbound(10, updates_past, MAX_ATTEMPTS + 1, None),  # given up: goes
                inbound(11, updates_inside, MAX_ATTEMPTS + 1, None),  # given up, too recent
                inbound(12, updates_past, 0, None),  # still waiting, however old: stays
                inbound(13, updates_past, MAX_ATTEMPTS + 1, NOW + dt.timedelta(seconds=20)),  # held now
            ]
        )

        def export(expires: dt.datetime) -> FullExport:
            return FullExport(
                reason_enc=b"sealed", file_name="cases.zip", archive=b"PK", created_at=NOW, expires_at=expires
            )

        expired, current = export(NOW), export(NOW + SECOND)
        session.add_all([expired, current])
        session.add_all(
            [
                AuditEntry(at=NOW - POLICY.audit - SECOND, actor="a", action="old", object_type="case"),
                AuditEntry(at=NOW - POLICY.audit + SECOND, actor="a", action="kept", object_type="case"),
            ]
        )

    report = await run(sessionmaker, crypto)

    assert (report.processed_updates, report.inbound_updates, report.exports, report.audit) == (1, 1, 1, 1)
    async with sessionmaker() as session:
        marks = (await session.execute(select(ProcessedUpdate.update_id))).scalars().all()
        queued = sorted((await session.execute(select(InboundUpdate.update_id))).scalars().all())
        exports = (await session.execute(select(FullExport.id))).scalars().all()
        actions = set((await session.execute(select(AuditEntry.action))).scalars())
    assert marks == [2]
    assert queued == [11, 12, 13]
    assert exports == [current.id]
    assert "old" not in actions and {"kept", "retention.purged"} <= actions


async def test_a_purge_larger_than_a_batch_completes_and_a_stopped_run_is_resumed(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    world = World(sessionmaker, crypto)
    long_ago = NOW - POLICY.closed - dt.timedelta(days=1)
    people = [
        await world.person(last_active=long_ago, cases=[{"stage": "closed", "closed": long_ago}])
        for _ in range(7)
    ]

    # Stopped after two transactions: the first window's read, and the erasing of its three people.
    stopped = await run(sessionmaker, crypto, scan=3, max_batches=2)
    assert stopped.closed == 3 and stopped.batches == 2
    assert sum([await world.exists(person) for person in people]) == 4

    resumed = await run(sessionmaker, crypto, scan=3)
    assert resumed.closed == 4
    # Two windows (3 people, then the last one: a short window ends the rule), each erased in one
    # transaction; then one batch per other rule and step.
    assert resumed.batches == 2 + 2 + 1 + 6
    assert not any([await world.exists(person) for person in people])
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Case)) == 0


async def test_a_rule_walks_past_candidates_it_keeps_to_the_ones_it_erases(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    world = World(sessionmaker, crypto)
    oldest = NOW - POLICY.closed - dt.timedelta(days=30)
    # The longest out of contact are enrolled (kept by this rule) or held: each batch looks at two.
    kept = [
        await world.person(last_active=oldest + dt.timedelta(minutes=n), cases=[{"stage": "implementation"}])
        for n in range(5)
    ]
    kept.append(
        await world.person(
            last_active=oldest + dt.timedelta(minutes=6),
            cases=[{"stage": "closed", "closed": oldest, "held": True}],
        )
    )
    erased = [
        await world.person(
            last_active=oldest + dt.timedelta(hours=1, minutes=n), cases=[{"stage": "screening"}]
        )
        for n in range(3)
    ]

    report = await run(sessionmaker, crypto, scan=2)

    assert report.unenrolled == 3
    assert all([await world.exists(person) for person in kept])
    assert not any([await world.exists(person) for person in erased])


async def test_a_window_is_erased_a_chunk_of_people_a_transaction(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    world = World(sessionmaker, crypto)
    long_ago = NOW - POLICY.closed - dt.timedelta(days=1)
    people = [
        await world.person(last_active=long_ago, cases=[{"stage": "closed", "closed": long_ago}])
        for _ in range(5)
    ]

    # Stopped after the window's read and the first chunk of two: those two are gone, together.
    stopped = await run(sessionmaker, crypto, scan=50, chunk=2, max_batches=2)
    assert stopped.closed == 2
    assert sorted([await world.exists(person) for person in people]) == [False] * 2 + [True] * 3

    report = await run(sessionmaker, crypto, scan=50, chunk=2)
    # The window's read, then chunks of two and one; then one batch per other rule and step.
    assert report.closed == 3 and report.batches == 1 + 2 + 1 + 6
    assert not any([await world.exists(person) for person in people])


async def test_the_list_of_what_is_due_this_month_names_each_case_its_rule_and_its_date(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    world = World(sessionmaker, crypto)
    ten_days = NOW - POLICY.closed + dt.timedelta(days=10)
    await world.person(last_active=ten_days, cases=[{"stage": "closed", "closed": ten_days}])
    forty_days = NOW - POLICY.closed + dt.timedelta(days=40)
    await world.person(last_active=forty_days, cases=[{"stage": "closed", "closed": forty_days}])
    await world.person(last_active=ten_days, cases=[{"stage": "closed", "closed": ten_days, "held": True}])
    quiet = NOW - POLICY.unenrolled + dt.timedelta(days=3)
    await world.person(last_active=quiet, cases=[{"stage": "screening"}])

    async with sessionmaker() as session:
        due = await retention.due_for_erasure(session, policy=POLICY, now=NOW, within=dt.timedelta(days=30))

    assert [(row.code, row.rule, row.due) for row in due] == [
        ("IP-2027-000004", "unenrolled", NOW + dt.timedelta(days=3)),
        ("IP-2027-000001", "closed", NOW + dt.timedelta(days=10)),
    ]
    assert due[0].stage == "screening" and due[0].since == quiet


async def test_a_hold_is_placed_once_lifted_and_both_are_audited_without_the_reason(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    world = World(sessionmaker, crypto)
    person = await world.person(last_active=NOW, cases=[{"stage": "closed", "closed": NOW}])
    async with sessionmaker() as session, session.begin():
        case = (await session.execute(select(Case).where(Case.beneficiary_id == person))).scalar_one()
        await retention.place_hold(
            session,
            crypto,
            case=case,
            reason="Court case 2-123/2027",
            review_on=dt.date(2027, 9, 1),
            staff_id=None,
            actor="staff:1",
            now=NOW,
        )
    async with sessionmaker() as session, session.begin():
        with pytest.raises(retention.HoldExists) as refused:
            await retention.place_hold(
                session,
                crypto,
                case=case,
                reason="again",
                review_on=dt.date(2027, 9, 2),
                staff_id=None,
                actor="staff:1",
                now=NOW,
            )
        assert refused.value.hold.review_on == dt.date(2027, 9, 1)
        assert [held.code for held in await retention.held_cases(session)] == [case.code]
    async with sessionmaker() as session, session.begin():
        assert await retention.lift_hold(session, case=case, actor="staff:1")
        assert not await retention.lift_hold(session, case=case, actor="staff:1")
    async with sessionmaker() as session:
        entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
    assert [(e.action, e.object_id, e.details) for e in entries] == [
        ("hold.placed", case.code, {"review_on": "2027-09-01"}),
        ("hold.lifted", case.code, {}),
    ]
