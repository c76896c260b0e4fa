"""Erasure at every stage, with the real bot on the sandbox: /delete after a caseworker took the case
becomes a request due by the configured date, which a supervisor carries out (the person told in
their language, the bot's recent messages deleted); and a person with a row in every erasable table
leaves no trace of their name, phone, Telegram id, lookup hashes or ciphertexts in the database."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import zoneinfo
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.conversation import BotConfig
from caseworker_console import casework as work
from caseworker_console import erasure as decide
from caseworker_console import exports
from outreach.sender import Sender
from programme.cycle import Stage
from programme.feedback import Kind
from programme.retention import RetentionPolicy
from sandbox.client import SandboxClient
from storage import casework, city, feedback, inbound, plan, retention, staff, staff_link
from storage.appointments import book_appointment, ensure_demo_office, propose
from storage.crypto import Crypto, owner_of
from storage.engine import clear_erased
from storage.erasure import COVERAGE, Cover, find_erasure_request, open_erasure_requests
from storage.journey import add_case_message, add_data_request, raise_alert, record_consent
from storage.models import Beneficiary, Case, FormResponse, OutboxMessage, StaffUser, utcnow
from storage.models_erasure import CaseTombstone
from storage.models_figures import FullExport, Partner, Referral
from storage.models_journey import DataRequest
from storage.models_outreach import Campaign
from storage.outbox import FINAL, Lane, enqueue
from storage.schema import ENCRYPTED_MODELS, Base
from storage.sealing import seal
from tests.bot.conftest import BOT_ID, BotProcess
from tests.bot.test_feedback import give as give_feedback
from tests.bot.test_journey import offer, prompt, screened, tap_and_wait, type_and_wait
from tests.bot.test_screening import Translate, answer_screening, choose_language, database_text
from wording import erasure as messages

pytestmark = pytest.mark.slow

DUE_DAYS = 12
SURE = "Are you sure? Everything you told us will be erased, and this cannot be undone."


@pytest.fixture
def bot_config() -> BotConfig:
    # Whole journeys at machine speed: no flood limit (as in tests/bot/conftest.py).
    return BotConfig(
        data_controller="Bridge Aid Association",
        retention=RetentionPolicy(erasure_due_days=DUE_DAYS),
        flood=None,
    )


async def add_staff(session: AsyncSession, username: str, role: str) -> StaffUser:
    return await staff.add_user(
        session,
        username=username,
        password_hash="x",
        role=role,
        display_name=username,
        language="en",
        at=utcnow(),
    )


async def settle(sender: Sender, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Send until every outbox row is settled (one chat's next message waits a second)."""
    async with asyncio.timeout(30):
        while True:
            await sender.run_once()
            async with sessionmaker() as session:
                statuses = (await session.execute(select(OutboxMessage.status))).scalars().all()
            if all(status in FINAL for status in statuses):
                return
            await asyncio.sleep(0.05)


async def test_delete_after_a_caseworker_took_the_case_is_a_request_a_supervisor_carries_out(
    phone: SandboxClient,
    bot_process: BotProcess,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    user = await screened(phone, t, locale="ru", label="Русский")
    async with sessionmaker() as session, session.begin():
        case = (await session.execute(select(Case))).scalar_one()
        leyla = await add_staff(session, "leyla", "caseworker")
        sofia = await add_staff(session, "sofia", "supervisor")
        await work.take(session, case=case, staff_id=leyla.id, actor=f"staff:{leyla.id}")
        await work.reply(
            session,
            crypto,
            case=case,
            text="Hello from your caseworker",
            canned=None,
            staff_id=leyla.id,
            actor="x",
        )
    assert bot_process.bot is not None
    sender = Sender(bot_process.bot, sessionmaker, crypto, rate=25, idle_interval=0.05)
    await settle(sender, sessionmaker)
    await phone.wait_for_bot_message(user, contains="Hello from your caseworker")

    await type_and_wait(phone, user, "/delete", t("Do you want us to delete all your data?", "ru"))
    await tap_and_wait(phone, user, t("Yes, delete", "ru"), t(SURE, "ru")[:10])
    before = utcnow()
    await phone.press(user, t("Yes, delete everything", "ru"))
    await phone.wait_idle(user)
    async with sessionmaker() as session:
        request = (await session.execute(select(DataRequest))).scalar_one()
        assert (await session.execute(select(func.count()).select_from(Beneficiary))).scalar_one() == 1
    assert request.kind == "deletion" and request.status == "open" and request.due_at is not None
    assert request.due_at - request.created_at == dt.timedelta(days=DUE_DAYS)
    assert before - dt.timedelta(seconds=5) < request.created_at < utcnow()
    told = messages.request_recorded(locale="ru", due=request.due_at, zone=zoneinfo.ZoneInfo("Asia/Baku"))
    await phone.wait_for_bot_message(user, contains=told[:60])
    # Asking again does not make a second request.
    await type_and_wait(phone, user, "/delete", t("Do you want us to delete all your data?", "ru"))
    await tap_and_wait(phone, user, t("Yes, delete", "ru"), t(SURE, "ru")[:10])
    await phone.press(user, t("Yes, delete everything", "ru"))
    await phone.wait_idle(user)
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(DataRequest))).scalar_one() == 1

    async with sessionmaker() as session, session.begin():
        found = await find_erasure_request(session, request_id=str(request.id))
        assert found is not None
        await decide.carry_out(session, crypto, found=found, actor=f"staff:{sofia.id}")
    await settle(sender, sessionmaker)
    await phone.wait_for_bot_message(user, contains=messages.erased(locale="ru")[:40])
    # The bot's own message from the last 48 hours is deleted from the chat.
    [hello] = [
        m for m in await phone.bot_messages(user) if "Hello from your caseworker" in (m.get("text") or "")
    ]
    assert hello["deleted"]
    async with sessionmaker() as session:
        for model in (Beneficiary, Case, DataRequest):
            assert (await session.execute(select(func.count()).select_from(model))).scalar_one() == 0
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
        assert await session.get(CaseTombstone, case.code) is not None
    # Only the two calls to the bare chat remain, sent, and their chat is no longer kept.
    assert sorted(row.method for row in rows) == ["deleteMessages", "sendMessage"]
    assert [(row.status, row.error, row.chat_id_enc, row.beneficiary_id) for row in rows] == [
        ("sent", None, None, None)
    ] * 2


async def interview(phone: SandboxClient, t: Translate, user: int, number: str, town: str) -> None:
    await tap_and_wait(phone, user, t("Start"), prompt(t, "phone"))
    await phone.share_contact(user, number)
    await phone.wait_for_bot_message(user, contains=prompt(t, "interpreter"))
    await tap_and_wait(phone, user, t("No"), prompt(t, "city"))
    await type_and_wait(phone, user, town, prompt(t, "country"))
    await type_and_wait(phone, user, "Afghanistan", prompt(t, "status"))
    await tap_and_wait(phone, user, t("Refugee"), prompt(t, "adults"))
    await type_and_wait(phone, user, "2", prompt(t, "children"))
    await type_and_wait(phone, user, "1", prompt(t, "unaccompanied_child"))
    await tap_and_wait(phone, user, t("No"), prompt(t, "heard_from"))
    await tap_and_wait(phone, user, t("A flyer or poster"), prompt(t, "urgent_need"))
    await tap_and_wait(phone, user, t("Housing"), prompt(t, "contact_times"))
    await phone.press(user, "▫️ " + t("Evenings"))
    await phone.wait_idle(user)
    await tap_and_wait(phone, user, t("Done"), prompt(t, "safe_contact"))
    await tap_and_wait(phone, user, t("Messages only"), "Afghanistan")
    await tap_and_wait(phone, user, "✅ " + t("Send"), t("Are you 18 years old or older?"))


async def console_work(
    session: AsyncSession, crypto: Crypto, *, case: Case, user: int, name: str, number: str
) -> None:
    """Everything staff do about a person, so that each erasable table holds a row of theirs."""
    now = utcnow()
    worker = await add_staff(session, "leyla", "caseworker")
    actor = f"staff:{worker.id}"
    await work.take(session, case=case, staff_id=worker.id, actor=actor)
    await work.reply(
        session, crypto, case=case, text="We will call you", canned=None, staff_id=worker.id, actor=actor
    )
    await add_case_message(session, crypto, case=case, direction="in", kind="text", body={"text": "Thanks"})
    await record_consent(
        session,
        case=case,
        casework=True,
        publicity="none",
        third_party=True,
        language="en",
        text_version="1",
        text_hash="0" * 64,
        channel="paper",
        staff_id=worker.id,
    )
    await raise_alert(session, case=case, kind="urgent")
    # A legal hold keeps the purge away; a supervisor's erasure still takes it with the case.
    await retention.place_hold(
        session,
        crypto,
        case=case,
        reason=f"Court case about {name}",
        review_on=now.date() + dt.timedelta(days=90),
        staff_id=worker.id,
        actor=f"staff:{worker.id}",
        now=now,
    )
    need = await plan.add_need(
        session, crypto, case=case, text=f"Housing for {name}", staff_id=worker.id, at=now, via="phone"
    )
    goal = await plan.add_goal(
        session,
        crypto,
        case=case,
        need=need,
        term="short",
        text="A flat",
        staff_id=worker.id,
        at=now,
        via="phone",
    )
    activity = await plan.add_activity(
        session,
        crypto,
        case=case,
        goal=goal,
        text="Visit the housing office",
        service_area="housing",
        due_on=None,
        who=name,
        status="planned",
        staff_id=worker.id,
        at=now,
        via="phone",
    )
    await plan.add_review(
        session,
        crypto,
        case=case,
        reviewed_on=now.date(),
        note="Going well",
        staff_id=worker.id,
        at=now,
        via="phone",
    )
    partner = Partner(name="Housing Partner", service_area="housing")
    session.add(partner)
    await session.flush()
    session.add(
        Referral(case_id=case.id, activity_id=activity.id, partner_id=partner.id, created_by=worker.id)
    )
    office = await ensure_demo_office(session)
    monday = dt.date.today() + dt.timedelta(days=14 - dt.date.today().weekday())  # reminders to come
    booked = await book_appointment(
        session,
        case=case,
        office=office,
        appointment_type="first",
        starts_at=dt.datetime.combine(monday, dt.time(6), tzinfo=dt.UTC),
    )
    assert booked is not None
    proposed = await propose(
        session,
        case=case,
        office=office,
        appointment_type="first",
        starts_at=dt.datetime.combine(monday, dt.time(7), tzinfo=dt.UTC),
        replaces=None,
        staff_id=worker.id,
        token=secrets.token_hex(8),
        now=now,
    )
    assert proposed is not None
    campaign = Campaign(name="Language classes", texts={"en": "Classes start Monday"}, status="running")
    session.add(campaign)
    await session.flush()
    await enqueue(
        session,
        crypto,
        beneficiary_id=case.beneficiary_id,
        text="Classes start Monday",
        lane=Lane.BROADCAST,
        campaign_id=campaign.id,
    )
    await casework.add_closure(
        session,
        crypto,
        case=case,
        reason="goals_achieved",
        details=f"{name} moved",
        staff_id=worker.id,
        at=now,
    )
    case.stage = "closed"
    # A named export made while they are on file: its archive holds their name and phone.
    export = FullExport(
        requested_by=worker.id,
        file_name="cases-full.zip",
        archive=exports.encrypted_archive(
            {"cases.csv": exports.to_csv([[case.code, name, number]])}, passphrase=exports.new_passphrase()
        ),
        rows=1,
        created_at=utcnow(),
        expires_at=utcnow() + dt.timedelta(hours=24),
    )
    seal(crypto, export, "reason_enc", "Audit by the donor")
    session.add(export)
    # Webhook mode's queue holds an update of their chat; they typed a wrong staff link code once.
    await inbound.store_update(
        session, crypto, bot_id=BOT_ID, update_id=77, chat_key=user, payload='{"message": {"text": "hi"}}'
    )
    await staff_link.record_failure(session, crypto, chat_id=user, now=now)
    await session.flush()


def blob_pieces(blob: bytes) -> list[bytes]:
    """Pieces of a ciphertext to look for: its tag, and a slice of every kilobyte (a long value is
    spread over several database pages)."""
    pieces = [blob[-16:]]
    pieces += [blob[start : start + 24] for start in range(16, max(17, len(blob) - 24), 1024)]
    return [piece for piece in pieces if len(piece) >= 16]


@pytest.mark.parametrize("how", ["assigned", "past_screening"])
async def test_delete_once_casework_began_records_a_request_and_erases_nothing(
    phone: SandboxClient, t: Translate, sessionmaker: async_sessionmaker[AsyncSession], how: str
) -> None:
    """The branch that must not erase: a case a supervisor assigned before anyone took it (still
    new), or one past screening whose caseworker is gone (their account removed: `assigned_to` set
    to null) — /delete confirmed twice records a request, and everything stays until it is decided."""
    user = await screened(phone, t)
    async with sessionmaker() as session, session.begin():
        case = (await session.execute(select(Case))).scalar_one()
        if how == "assigned":
            leyla = await add_staff(session, "leyla", "caseworker")
            sofia = await add_staff(session, "sofia", "supervisor")
            await work.assign(session, case=case, staff_id=leyla.id, actor=f"staff:{sofia.id}")
        else:
            case.stage = Stage.INITIAL_ASSESSMENT
    await type_and_wait(phone, user, "/delete", t("Do you want us to delete all your data?"))
    await tap_and_wait(phone, user, t("Yes, delete"), t(SURE)[:10])
    await tap_and_wait(phone, user, t("Yes, delete everything"), t("A caseworker already has your case")[:30])
    await phone.wait_idle(user)
    async with sessionmaker() as session:
        requests = (await session.execute(select(DataRequest))).scalars().all()
        for model in (Beneficiary, Case, FormResponse):
            assert (await session.execute(select(func.count()).select_from(model))).scalar_one() == 1
    assert [(request.kind, request.status) for request in requests] == [("deletion", "open")]
    deleted = t("Your data is deleted. If you write to us again, we will start from the beginning.")
    assert not any(deleted in message["text"] for message in await phone.bot_messages(user))


async def test_erasure_leaves_nothing_of_a_person_who_is_in_every_table(
    phone: SandboxClient,
    t: Translate,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    token = secrets.token_hex(4)
    name = f"Zahra Karimi {token}"
    number = f"+99455{secrets.randbelow(10**7):07d}"
    town = f"Ganja{token}"
    user = await phone.create_user(language_code="en")
    await choose_language(phone, user, "English")
    await answer_screening(phone, t, user, "en", name)
    await phone.wait_for_bot_message(user, contains="IP-")
    await phone.wait_for_bot_message(user, contains=offer(t))
    await interview(phone, t, user, number, town)
    await type_and_wait(phone, user, "/correct", t("What is wrong, and what should it be? Write it below."))
    await type_and_wait(
        phone, user, f"My name is {name}", t("Thank you. A caseworker will correct it and tell you.")
    )
    await give_feedback(phone, t, user, Kind.SERVICE, "With my case")
    await type_and_wait(phone, user, f"I am {name} and nobody called me back.", "FB-")
    async with sessionmaker() as session, session.begin():
        case = (await session.execute(select(Case))).scalar_one()
        await console_work(session, crypto, case=case, user=user, name=name, number=number)

    async with sessionmaker() as session, session.begin():
        beneficiary = (await session.execute(select(Beneficiary))).scalar_one()
        await add_data_request(
            session,
            crypto,
            beneficiary=beneficiary,
            case=case,
            kind="deletion",
            details=None,
            due_after=dt.timedelta(days=30),
        )
        assert await feedback.ask_satisfaction(session, case=case) is not None
        [given] = await feedback.feedback_of(session, beneficiary_id=beneficiary.id)
        await feedback.add_note(
            session,
            crypto,
            feedback=given,
            kind=feedback.ANSWER,
            text=f"Dear {name}, sorry.",
            staff_id=None,
            actor="t",
        )

    erased_tables = [name for name, coverage in COVERAGE.items() if coverage.cover is Cover.ERASED]
    secrets_of: list[bytes] = [
        name.encode(),
        number.encode(),
        number.removeprefix("+").encode(),
        str(user).encode(),
    ]
    async with sessionmaker() as session:
        for table in erased_tables:
            count = (
                await session.execute(select(func.count()).select_from(Base.metadata.tables[table]))
            ).scalar_one()
            assert count > 0, f"the test put nothing of theirs in {table}"
        person = (await session.execute(select(Beneficiary))).scalar_one()
        assert person.city_hash and person.city_hash == city.city_hash(crypto, town)
        secrets_of += [person.telegram_hash.encode(), person.city_hash.encode()]
        # Everything of theirs is sealed under their own key, which the erasure destroys first.
        for model in ENCRYPTED_MODELS:
            if model.__owner__ is None:
                continue
            for row in (await session.execute(select(model.__table__))).mappings():
                if model.__owner__ == "beneficiary_id" and row["beneficiary_id"] is None:
                    continue
                for column in model.__encrypted__:
                    if row[column] is not None:
                        assert owner_of(row[column]) == person.id, f"{model.__tablename__}.{column}"
        blobs = [
            value
            for table in Base.metadata.sorted_tables
            for row in (await session.execute(select(table))).all()
            for value in row
            if isinstance(value, bytes)
        ]
    assert len(blobs) >= 15

    # Carried out as a supervisor does it: the last message to their chat is queued, then all goes.
    async with sessionmaker() as session, session.begin():
        [pending] = await open_erasure_requests(session)
        codes = await decide.carry_out(session, crypto, found=pending, actor="staff:1")
    assert codes == [case.code]

    async with sessionmaker() as session:
        for table in erased_tables:
            rows = select(func.count()).select_from(Base.metadata.tables[table])
            if table == "outbox":  # the message that tells them, to their chat alone (sealed)
                rows = rows.where(OutboxMessage.beneficiary_id.is_not(None))
            assert (await session.execute(rows)).scalar_one() == 0, table
        [last] = (await session.execute(select(OutboxMessage))).scalars().all()
        assert last.chat_id_enc is not None and last.beneficiary_id is None
        tombstone = await session.get(CaseTombstone, case.code)
        assert tombstone is not None and tombstone.closed_at is not None
        text = await database_text(session)
    for secret in secrets_of:
        assert secret.decode() not in text
    for blob in blobs:
        for piece in blob_pieces(blob):
            assert piece.hex() not in text
    if engine.dialect.name == "sqlite":
        await clear_erased(engine)
        database = Path(str(engine.url.database))
        raw = b"".join(path.read_bytes() for path in (database, Path(f"{database}-wal")) if path.exists())
        for secret in secrets_of:
            assert secret not in raw, secret
        for blob in blobs:
            for piece in blob_pieces(blob):
                assert piece not in raw
