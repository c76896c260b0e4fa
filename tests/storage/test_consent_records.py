"""Consent records, case by case: a new one supersedes only its own case's current one, which is
what the checks read (case work allowed), and each is audited as given or withdrawn, by whom."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import staff
from storage.casework import has_casework_consent
from storage.crypto import Crypto
from storage.journey import current_consent, ensure_case, record_consent
from storage.models import AuditEntry, Beneficiary, Case, utcnow
from storage.models_journey import Consent
from storage.queries import get_or_create_beneficiary

Maker = async_sessionmaker[AsyncSession]


async def record(session: AsyncSession, case: Case, *, casework: bool, **more: object) -> Consent:
    return await record_consent(
        session,
        case=case,
        casework=casework,
        publicity="none",
        third_party=False,
        language="en",
        text_version="2026-12",
        text_hash="0" * 64,
        **more,  # type: ignore[arg-type]
    )


async def test_a_consent_supersedes_only_its_own_cases_and_the_checks_read_each_cases_own(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    async with sessionmaker() as session, session.begin():
        cases = []
        for telegram_id in (700_101, 700_102, 700_103):
            beneficiary = await get_or_create_beneficiary(session, crypto, telegram_id=telegram_id)
            cases.append(await ensure_case(session, beneficiary=beneficiary))
        # By id: the case allowing case work has one on each side, whose last choices refuse it.
        low, middle, high = cases = sorted(cases, key=lambda case: case.id)
        for case, casework in ((low, True), (middle, True), (high, True), (low, False), (high, False)):
            await record(session, case, casework=casework)

    async with sessionmaker() as session:
        current = {case.id: await current_consent(session, case_id=case.id) for case in cases}
        assert {case_id: (row.casework if row else None) for case_id, row in current.items()} == {
            low.id: False,
            middle.id: True,
            high.id: False,
        }
        assert [await has_casework_consent(session, case_id=case.id) for case in cases] == [
            False,
            True,
            False,
        ]
        superseded = (
            (await session.execute(select(Consent.case_id).where(Consent.superseded_at.is_not(None))))
            .scalars()
            .all()
        )
    assert sorted(superseded) == [low.id, high.id]


async def test_each_consent_is_audited_as_given_or_withdrawn_and_by_whom(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    async with sessionmaker() as session, session.begin():
        user = await staff.add_user(
            session,
            username="aysel",
            password_hash="x",
            role="caseworker",
            display_name="",
            language="en",
            at=utcnow(),
        )
        beneficiary = await get_or_create_beneficiary(session, crypto, telegram_id=700_104)
        case = await ensure_case(session, beneficiary=beneficiary)
        await record(session, case, casework=True)  # in the bot
        await record(session, case, casework=True, channel="paper", staff_id=user.id)
        await record(session, case, casework=False, withdrawal=True)
    async with sessionmaker() as session:
        entries = (
            await session.execute(
                select(AuditEntry.actor, AuditEntry.action)
                .where(AuditEntry.action.like("consent.%"))
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [tuple(entry) for entry in entries] == [
        ("bot", "consent.recorded"),
        (f"staff:{user.id}", "consent.recorded"),
        ("bot", "consent.withdrawn"),
    ]


async def test_consent_given_anew_ends_only_that_persons_withdrawal(
    sessionmaker: Maker, crypto: Crypto
) -> None:
    """A withdrawal recorded as such ends none."""
    async with sessionmaker() as session, session.begin():
        people = [
            await get_or_create_beneficiary(session, crypto, telegram_id=telegram_id)
            for telegram_id in (700_111, 700_112, 700_113)
        ]
        people.sort(key=lambda person: person.id)
        cases = [await ensure_case(session, beneficiary=person) for person in people]
        for person in people:
            person.withdrawn_at = utcnow()
    async with sessionmaker() as session, session.begin():
        _, middle, high = [await session.get(Case, case.id) for case in cases]
        await record(session, high, casework=False, withdrawal=True)
        await record(session, middle, casework=True)
    async with sessionmaker() as session:
        withdrawn = {
            person.id: (await session.get(Beneficiary, person.id)).withdrawn_at is not None  # type: ignore[union-attr]
            for person in people
        }
    assert list(withdrawn.values()) == [True, False, True]
