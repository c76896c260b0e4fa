"""The person's own copy (/mydata) through the real bot: a warning and a choice first, a double tap
sends one file, and the file holds the plan, the referral's partner, a past appointment and the stage
in plain words, but not the staff's own notes (Annex 3, the assessment, the call) or a staff name."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialogs.mycopy import STAGE_PLAIN
from programme import consent
from programme.assessment import ADVERSE_EVENT, INITIAL_ASSESSMENT, SCREENING_CONFIRMATION
from programme.cycle import STAGE_LABELS, Stage
from programme.forms import INTERVIEW
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage import plan as plans
from storage import staff
from storage.appointments import ensure_demo_office
from storage.casework import add_form_response, latest_answers
from storage.crypto import Crypto
from storage.journey import record_consent
from storage.models import Case
from storage.models_appointments import Appointment
from storage.models_figures import Partner, Referral
from tests.bot.test_journey import complete_interview, fetch_document, screened, tap_and_wait, type_and_wait
from tests.bot.test_screening import Translate

pytestmark = pytest.mark.slow

WARNING = "It stays in this chat and on this phone until you delete it."
SENT = "Here is a copy of everything we hold about you."
STAFF_NAME = "Aysel Quliyeva"
SECRETS = (
    "Calmed him down in the waiting room",  # Annex 3: how the event was managed
    "Seems anxious about the landlord",  # the initial assessment's notes
    "Call went well, prefers mornings",  # the call's notes
    "Overrode the screening: documents seen",  # the screening decision's reason
    STAFF_NAME,
)


async def casework(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, now: dt.datetime) -> None:
    """What a caseworker did on the case at `now` (where the bot's clock stands), written through the
    storage functions the console uses."""
    async with sessionmaker() as session, session.begin():
        case = (await session.execute(select(Case))).scalar_one()
        worker = await staff.add_user(
            session,
            username="aysel",
            password_hash="-",
            role="caseworker",
            display_name=STAFF_NAME,
            language="en",
            at=now,
        )
        case.assigned_to = worker.id
        case.stage = Stage.IMPLEMENTATION
        await record_consent(
            session,
            case=case,
            casework=True,
            publicity="none",
            third_party=False,
            language="en",
            text_version=consent.TEXT_VERSION,
            text_hash="0" * 64,
            channel="paper",
            staff_id=worker.id,
        )
        signed = {"_caseworker_id": worker.id, "_caseworker_name": STAFF_NAME, "_at": now.isoformat()}
        for form, answers in (
            (SCREENING_CONFIRMATION, {"eligible": "yes", "decision_reason": SECRETS[3]}),
            (INITIAL_ASSESSMENT, {"notes": SECRETS[1]}),
            (ADVERSE_EVENT, {"event_date": "yesterday", "how_managed": SECRETS[0], "follow_up_call": "no"}),
        ):
            await add_form_response(
                session,
                crypto,
                case=case,
                form_id=form.id,
                form_version=form.version,
                answers={**answers, **signed},
                at=now,
            )
        # The call corrects the bot's interview and adds the caseworker's own notes to it.
        bot = await latest_answers(session, crypto, case_id=case.id, form_ids=[INTERVIEW.id])
        interview = {**bot[INTERVIEW.id][1], "call_outcome": "completed", "call_notes": SECRETS[2]}
        await add_form_response(
            session,
            crypto,
            case=case,
            form_id=INTERVIEW.id,
            form_version=INTERVIEW.version,
            answers={**interview, **signed},
            at=now,
        )
        need = await plans.add_need(
            session, crypto, case=case, text="A place to live", staff_id=worker.id, at=now, via="meeting"
        )
        goal = await plans.add_goal(
            session,
            crypto,
            case=case,
            need=need,
            term="short",
            text="Rent a flat in Baku",
            staff_id=worker.id,
            at=now,
            via="meeting",
        )
        activity = await plans.add_activity(
            session,
            crypto,
            case=case,
            goal=goal,
            text="Visit the housing office together",
            service_area="orientation",
            due_on=now.date() + dt.timedelta(days=10),
            who=STAFF_NAME,
            status="in_progress",
            staff_id=worker.id,
            at=now,
            via="meeting",
        )
        partner = Partner(name="Baku Legal Clinic", service_area="orientation", languages=["az"])
        session.add(partner)
        await session.flush()
        session.add(
            Referral(
                case_id=case.id,
                activity_id=activity.id,
                partner_id=partner.id,
                status="accepted",
                created_by=worker.id,
                changed_by=worker.id,
            )
        )
        office = await ensure_demo_office(session)
        session.add(
            Appointment(
                case_id=case.id,
                office_id=office.id,
                type="first",
                starts_at=now - dt.timedelta(days=3),
                status="attended",
            )
        )


async def test_mydata_warns_then_sends_one_file_with_the_plan_and_without_staff_notes(
    phone: SandboxClient,
    t: Translate,
    sandbox: SandboxServer,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    now: dt.datetime,
) -> None:
    user = await screened(phone, t)
    await complete_interview(phone, t, user)
    await tap_and_wait(phone, user, t("No"), "guardian")
    await casework(sessionmaker, crypto, now)

    # "No, not now" sends nothing.
    await type_and_wait(phone, user, "/mydata", t(WARNING)[:40])
    await tap_and_wait(phone, user, t("No, not now"), t("Nothing was sent."))
    assert not [m for m in await phone.bot_messages(user) if m["kind"] == "document"]

    warning = await type_and_wait(phone, user, "/mydata", t(WARNING)[:40])
    send = next(
        button["callback_data"]
        for row in warning["reply_markup"]["inline_keyboard"]
        for button in row
        if button["text"] == t("Yes, send the file")
    )
    # A forged button (another token) sends nothing.
    await phone.press_for_answer(user, message_id=warning["message_id"], callback_data="t:forged1:copy.send")
    await phone.wait_idle(user)
    assert not [m for m in await phone.bot_messages(user) if m["kind"] == "document"]
    await tap_and_wait(phone, user, t("Yes, send the file"), t(SENT))
    # The same button again (a late double tap): no second file.
    await phone.press_for_answer(user, message_id=warning["message_id"], callback_data=send)
    await phone.wait_idle(user)
    documents = [m for m in await phone.bot_messages(user) if m["kind"] == "document"]
    assert len(documents) == 1
    assert documents[0]["document"]["file_name"] == "my-data.txt"

    text = await fetch_document(sandbox.url, documents[0])
    for expected in [
        "Amina Rahimi",
        "+994501234567",
        t(STAGE_PLAIN[Stage.IMPLEMENTATION]),
        t("Eligibility: a caseworker confirmed that you can take part in the programme."),
        "Rent a flat in Baku",
        "Visit the housing office together",
        "Baku Legal Clinic",
        t("Accepted by the partner"),
        t("Past appointments"),
        t("You came"),
        t("Your consent, newest first"),
        t("Housing"),
    ]:
        assert expected in text, expected
    assert t(STAGE_LABELS[Stage.IMPLEMENTATION]) not in text
    for secret in SECRETS:
        assert secret not in text, secret
    assert "_caseworker" not in text and "call_" not in text


def test_the_copy_names_every_activity_status_the_plan_has_with_the_same_words() -> None:
    from bot.dialogs import mycopy
    from programme import plan

    assert {option.value: option.label for option in plan.ACTIVITY_STATUSES} == mycopy.ACTIVITY_STATUSES
