"""A modest, made-up data set for `intake demo`, so a supervisor's figures dashboard is not empty.

Nobody in it is real: names come from a short list of invented ones, phones are in a range no
operator gives out (+994 00 …), Telegram ids are far above any real user's. Seeding runs only in
demo mode and only once: it does nothing when the demo partners are already there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from programme.channels import RESERVED_CODES
from programme.figures import DIALOG_STATES
from storage import person_keys, phone
from storage.city import city_hash
from storage.crypto import Crypto
from storage.models import Beneficiary, Case, DialogState, FormResponse, OutboxMessage, utcnow
from storage.models_appointments import Appointment, Office
from storage.models_casework import CaseClosure
from storage.models_channels import Channel
from storage.models_figures import Partner, Referral
from storage.models_journey import CaseMessage, Consent
from storage.models_plan import PlanActivity, PlanGoal, PlanNeed
from storage.queries import TELEGRAM_PURPOSE
from storage.sealing import seal, seal_json


@dataclasses.dataclass
class Story:
    """One made-up case and how far it went; the figures count these facts."""

    code: str
    language: str = "ru"
    source: str = "bot"
    stage: str = "new"
    created_at: dt.datetime = dataclasses.field(default_factory=utcnow)
    provisionally_eligible: bool | None = True
    screening_form: bool = True
    assessed: bool = False
    consent: bool | None = None  # None: no consent recorded; else its case-work choice
    plan: bool = False
    # Closed: (reason, the stage it closed from).
    closed: tuple[str, str] | None = None
    handoff_at: dt.datetime | None = None
    reply_after: dt.timedelta | None = None
    # (office id, status, start) per appointment.
    appointments: list[tuple[int, str, dt.datetime]] = dataclasses.field(default_factory=list)
    assigned_to: int | None = None
    name: str | None = None
    phone: str | None = None
    # The interview's city as typed (None: no interview); the city index follows it.
    city: str | None = None


def person_source(channel: str) -> str | None:
    """A person's source as the bot records it: a channel's code, or none for those who came
    without one (their case's source says "bot")."""
    return None if channel in RESERVED_CODES else channel


async def add_story(session: AsyncSession, crypto: Crypto, story: Story, *, telegram_id: int) -> Case:
    beneficiary = Beneficiary(
        telegram_hash=crypto.blind_index(TELEGRAM_PURPOSE, str(telegram_id)),
        language=story.language,
        source=person_source(story.source),
        created_at=story.created_at,
        # Made-up people were last in the bot when their story began, not when the demo started:
        # a campaign to people active today finds only those who use the web phone.
        last_active_at=story.created_at,
    )
    person_keys.add_new(session, crypto, beneficiary.id)
    seal(crypto, beneficiary, "telegram_id_enc", str(telegram_id))
    seal(crypto, beneficiary, "name_enc", story.name)
    phone.set_phone(crypto, beneficiary, story.phone)
    stage = "closed" if story.closed else story.stage
    case = Case(
        code=story.code,
        beneficiary=beneficiary,
        stage=stage,
        source=story.source,
        language=story.language,
        provisionally_eligible=story.provisionally_eligible,
        handoff_at=story.handoff_at,
        # Made-up handoffs count as told: a phone linked in the demo gets no flood of old ones.
        waiting_alerted_at=story.handoff_at,
        assigned_to=story.assigned_to,
        created_at=story.created_at,
        updated_at=story.created_at,
    )
    session.add(case)
    await session.flush()
    person_keys.note_cases([case])
    later = story.created_at + dt.timedelta(days=1)
    if story.screening_form:
        response = FormResponse(
            case_id=case.id, form_id="screening", form_version=1, source="bot", created_at=story.created_at
        )
        seal_json(crypto, response, "answers_enc", {"resides_for_reason": "yes", "has_permit": "yes"})
        session.add(response)
    if story.city is not None:
        response = FormResponse(
            case_id=case.id, form_id="interview", form_version=1, source="bot", created_at=story.created_at
        )
        seal_json(crypto, response, "answers_enc", {"city": story.city})
        session.add(response)
        beneficiary.city_hash = city_hash(crypto, story.city)
    if story.assessed:
        response = FormResponse(
            case_id=case.id, form_id="initial_assessment", form_version=1, source="console", created_at=later
        )
        seal_json(crypto, response, "answers_enc", {"summary": "Made-up demo assessment"})
        session.add(response)
    if story.consent is not None:
        session.add(
            Consent(
                case_id=case.id,
                text_version="demo",
                text_hash="0" * 64,
                language=story.language,
                casework=story.consent,
                publicity="none",
                third_party=False,
                recorded_at=later,
            )
        )
    if story.plan:
        need = PlanNeed(case_id=case.id, rank=1, agreed=True, changed_at=later, created_at=later)
        seal(crypto, need, "text_enc", "Made-up need: a language course")
        session.add(need)
        await session.flush()
        goal = PlanGoal(case_id=case.id, need_id=need.id, term="short", agreed=True, changed_at=later)
        seal(crypto, goal, "text_enc", "Made-up goal: enrol in a course")
        session.add(goal)
        await session.flush()
        activity = PlanActivity(
            case_id=case.id, goal_id=goal.id, service_area="language", agreed=True, changed_at=later
        )
        seal(crypto, activity, "text_enc", "Made-up activity: visit the language centre together")
        seal(crypto, activity, "who_enc", None)
        session.add(activity)
    if story.closed:
        reason, before = story.closed
        closure = CaseClosure(case_id=case.id, reason=reason, stage_before=before, closed_at=later)
        seal(crypto, closure, "details_enc", None)
        session.add(closure)
    if story.handoff_at is not None and story.reply_after is not None:
        message = CaseMessage(
            case_id=case.id,
            direction="out",
            kind="text",
            staff_id=story.assigned_to,
            created_at=story.handoff_at + story.reply_after,
        )
        seal_json(crypto, message, "body_enc", {"text": "Made-up reply"})
        session.add(message)
    for office_id, status, starts_at in story.appointments:
        session.add(
            Appointment(
                case_id=case.id, office_id=office_id, type="first", starts_at=starts_at, status=status
            )
        )
    await session.flush()
    return case


DEMO_PARTNERS = (
    (
        "Baku Language Centre (demo)",
        "language",
        "1 Example Street, Baku",
        ["az", "ru", "en"],
        "+994 00 000 0001",
    ),
    (
        "City Health Desk (demo)",
        "health_social",
        "2 Example Avenue, Baku",
        ["az", "ru"],
        "health@example.org",
    ),
    (
        "Jobs and Skills Hub (demo)",
        "employment_education",
        "3 Example Square, Baku",
        ["az", "en", "tr"],
        "jobs@example.org",
    ),
    (
        "Neighbours Together (demo)",
        "social_cultural",
        "4 Example Lane, Baku",
        ["az", "fa", "ru"],
        "https://example.org",
    ),
    (
        "Welcome Desk (demo)",
        "orientation",
        "5 Example Road, Baku",
        ["az", "ru", "ur", "ps"],
        "+994 00 000 0005",
    ),
)
DEMO_NAMES = ("Demo Person A", "Demo Person B", "Demo Person C", "Demo Person D", "Demo Person E")
DEMO_CHANNELS = ("bot", "flyer-university", "service-centre", "community-meeting")
# The channels behind those codes, as an outreach officer would have made them: (code, name, kind,
# flyer languages).
DEMO_CHANNEL_ROWS = (
    ("flyer-university", "Baku State University, main hall (demo)", "university", ["az", "ru", "en"]),
    ("service-centre", "Public service centre No. 1 (demo)", "public_service_centre", ["az", "ru", "tr"]),
    (
        "community-meeting",
        "Community meeting, Khatai district (demo)",
        "community_meeting",
        ["ru", "fa", "ur"],
    ),
)
DEMO_LANGUAGES = ("ru", "az", "fa", "en", "tr", "ur", "ps")
DEMO_CASES = 120
DEMO_CITIES = ("Bakı", "Baki", "BAKU", "Sumqayıt", "Sumqayit", "Gəncə", "Xırdalan", "Mingəçevir", "Баку")
# Demo Telegram ids start here, far above any real account's.
DEMO_TELEGRAM_BASE = 9_100_000_000_000


def outcome(drawn: str, *, starts_at: dt.datetime, now: dt.datetime, closed: bool) -> str:
    """An appointment's status as it can be today: one still ahead is booked (cancelled when its
    case is closed), never already attended or missed."""
    if starts_at <= now:
        return drawn
    return "cancelled" if closed else "booked"


def replied(after: dt.timedelta, *, handoff: dt.datetime | None, now: dt.datetime) -> dt.timedelta | None:
    """A caseworker's reply only if its time has come: none yet for a handoff too recent."""
    return after if handoff is not None and handoff + after <= now else None


async def holds_demo_data(session: AsyncSession) -> bool:
    """The demo's made-up data is in this database (its first partner is its sign)."""
    first = DEMO_PARTNERS[0][0]
    return (await session.execute(select(Partner.id).where(Partner.name == first))).first() is not None


async def seed_demo(session: AsyncSession, crypto: Crypto, *, office: Office, staff_id: int | None) -> bool:
    """Seed the demo data set once; False when it is already there."""
    if await holds_demo_data(session):
        return False
    partners = [
        Partner(name=name, service_area=area, address=address, languages=languages, contact=contact)
        for name, area, address, languages, contact in DEMO_PARTNERS
    ]
    session.add_all(partners)
    session.add_all(
        Channel(code=code, name=name, kind=kind, languages=languages, created_by=staff_id)
        for code, name, kind, languages in DEMO_CHANNEL_ROWS
    )
    await session.flush()
    # A fixed seed: every demo shows the same figures.
    pick = random.Random(7)  # noqa: S311 - made-up data, not a secret
    # Their own stream, so the cities change none of the figures above.
    towns = random.Random(11)  # noqa: S311 - made-up data, not a secret
    now = utcnow()
    stages = (
        "new",
        "screening",
        "initial_assessment",
        "intervention_planning",
        "implementation",
        "monitoring",
    )
    reasons = ("withdrew", "goals_reached", "no_longer_eligible", "other_institution", "non_compliance")
    for number in range(1, DEMO_CASES + 1):
        created = now - dt.timedelta(days=pick.randint(1, 150), hours=pick.randint(0, 23))
        eligible = pick.random() < 0.8
        depth = pick.choice(stages) if eligible else "new"
        rank = stages.index(depth)
        closed = None
        if pick.random() < 0.2:
            closed = (pick.choice(reasons), depth)
        handoff = created + dt.timedelta(hours=1) if pick.random() < 0.6 else None
        story = Story(
            code=f"IP-{created.year}-9{number:05d}",
            language=pick.choice(DEMO_LANGUAGES),
            source=pick.choice(DEMO_CHANNELS),
            stage=depth,
            created_at=created,
            provisionally_eligible=eligible,
            assessed=rank >= 2 and pick.random() < 0.9,
            consent=True if rank >= 3 else None,
            plan=rank >= 3,
            closed=closed,
            handoff_at=handoff,
            reply_after=replied(dt.timedelta(hours=pick.choice((0.5, 2, 20, 50))), handoff=handoff, now=now)
            if handoff and pick.random() < 0.85
            else None,
            appointments=[
                (
                    office.id,
                    outcome(
                        pick.choice(("attended", "attended", "no_show", "cancelled")),
                        starts_at=created + dt.timedelta(days=3),
                        now=now,
                        closed=closed is not None,
                    ),
                    created + dt.timedelta(days=3),
                )
            ]
            if rank >= 2
            else [],
            assigned_to=staff_id if rank >= 2 else None,
            name=pick.choice(DEMO_NAMES),
            phone=f"+99400{number:07d}",
            # Typed as people type them: the campaign composer's city field finds each spelling.
            city=towns.choice(DEMO_CITIES) if towns.random() < 0.75 else None,
        )
        case = await add_story(session, crypto, story, telegram_id=DEMO_TELEGRAM_BASE + number)
        if story.plan:
            activity = (
                await session.execute(select(PlanActivity).where(PlanActivity.case_id == case.id))
            ).scalar_one()
            status = pick.choice(("sent", "accepted", "done", "done", "declined"))
            session.add(
                Referral(
                    case_id=case.id,
                    activity_id=activity.id,
                    partner_id=partners[0].id,
                    status=status,
                    created_by=staff_id,
                    changed_by=staff_id,
                    created_at=min(created + dt.timedelta(days=2), now),
                    changed_at=min(created + dt.timedelta(days=4), now),
                )
            )
    # People who stopped in the bot before screening ended, and a campaign's delivery.
    for number in range(1, 41):
        person = Beneficiary(
            telegram_hash=crypto.blind_index(TELEGRAM_PURPOSE, str(DEMO_TELEGRAM_BASE + 10_000 + number)),
            language=pick.choice(DEMO_LANGUAGES),
            source=person_source(pick.choice(DEMO_CHANNELS)),
            created_at=(began := now - dt.timedelta(days=pick.randint(3, 90))),
            last_active_at=began,
        )
        person_keys.add_new(session, crypto, person.id)
        seal(crypto, person, "telegram_id_enc", str(DEMO_TELEGRAM_BASE + 10_000 + number))
        session.add(person)
        await session.flush()
        step = pick.choice(("language", "privacy", "name", "screening", "screening", "consent_text"))
        state = DIALOG_STATES[step][0]
        session.add(DialogState(id=person.id, state=state, updated_at=now - dt.timedelta(days=3)))
        message = OutboxMessage(
            beneficiary_id=person.id,
            lane=2,
            status=pick.choice(("sent", "sent", "sent", "failed")),
            campaign_id=uuid.UUID(int=7),
            language=person.language,
            created_at=now - dt.timedelta(days=2),
        )
        seal(crypto, message, "payload_enc", "{}")
        session.add(message)
    await session.flush()
    return True
