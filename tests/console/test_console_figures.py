"""The figures dashboard on a seeded data set: every figure equals the count worked out by hand
below, small cells are masked (with secondary suppression), filters narrow the figures, and the
page is for supervisors and outreach officers only."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake.demo_data import Story, add_story, seed_demo
from outreach.campaigns import Segment, count_by_language, known_sources
from programme.figures import DIALOG_STATES, Cell, breakdown, masked, neutralised, share
from storage import figures as store
from storage import person_keys
from storage.crypto import Crypto
from storage.models import AuditEntry, Beneficiary, DialogState, OutboxMessage, StaffUser, utcnow
from storage.models_appointments import Office
from storage.models_channels import Channel
from storage.models_figures import Partner, Referral
from storage.models_plan import PlanActivity
from storage.sealing import seal

SignIn = Callable[..., Awaitable[StaffUser]]

OCT = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)
SEP = dt.datetime(2026, 9, 10, 9, 0, tzinfo=dt.UTC)
NAME = "Zarina Nazarova"


def office_row(name: str) -> Office:
    return Office(name=name, address=f"{name} street 1", latitude=40.4, longitude=49.8, timezone=None)


async def seed_world(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> dict[str, int]:
    """The data set the expectations below are computed from by hand.

    ru/bot, 12 cases (3 opened in September, the rest in October):
      4 new (screened, provisionally eligible), 2 in initial assessment (both assessed),
      3 in intervention planning and 2 in implementation (all assessed, consented, with a plan),
      1 closed from implementation (assessed, consented, plan; goals reached).
    az/flyer-uni, 6 cases: provisionally eligible 2, not eligible 4; 2 of the not eligible closed
      from new (withdrew).
    en/console, 1 case with no screening at all.
    Funnel: screened 18, provisionally eligible 14, confirmed 8, assessed 8, consented 6, plan 6,
    closed 3.
    """
    async with sessionmaker() as session:
        office_a, office_b = office_row("North office"), office_row("South office")
        session.add_all([office_a, office_b])
        await session.flush()
        stories: list[Story] = []
        number = iter(range(1, 100))

        def code() -> str:
            return f"IP-2026-{next(number):06d}"

        created = [SEP, SEP, SEP] + [OCT] * 9
        ru = [
            *({"stage": "new"} for _ in range(4)),
            *({"stage": "initial_assessment", "assessed": True} for _ in range(2)),
            *(
                {"stage": "intervention_planning", "assessed": True, "consent": True, "plan": True}
                for _ in range(3)
            ),
            *({"stage": "implementation", "assessed": True, "consent": True, "plan": True} for _ in range(2)),
            {
                "stage": "implementation",
                "assessed": True,
                "consent": True,
                "plan": True,
                "closed": ("goals_reached", "implementation"),
            },
        ]
        # Handoffs on 10 ru cases: 5 answered in half an hour, 2 in five hours, 1 in two days, 2 not yet.
        replies = (
            [dt.timedelta(minutes=30)] * 5 + [dt.timedelta(hours=5)] * 2 + [dt.timedelta(days=2)] + [None] * 2
        )
        # Appointments at the North office for the 8 confirmed ru cases and 1 new one: 6 attended,
        # 2 no-shows, 1 cancelled; in October.
        statuses = [
            "cancelled",
            None,
            None,
            None,
            "attended",
            "attended",
            "attended",
            "attended",
            "attended",
            "attended",
            "no_show",
            "no_show",
        ]
        for index, spec in enumerate(ru):
            appointment = statuses[index]
            stories.append(
                Story(
                    code=code(),
                    language="ru",
                    source="bot",
                    created_at=created[index],
                    handoff_at=OCT if index < 10 else None,
                    reply_after=replies[index] if index < 10 else None,
                    appointments=[(office_a.id, appointment, OCT + dt.timedelta(days=3))]
                    if appointment
                    else [],
                    name=NAME if index == 0 else None,
                    phone="+994501234567" if index == 0 else None,
                    **spec,
                )
            )
        for index in range(6):
            stories.append(
                Story(
                    code=code(),
                    language="az",
                    source="flyer-uni",
                    created_at=OCT,
                    provisionally_eligible=index < 2,
                    closed=("withdrew", "new") if index in (4, 5) else None,
                )
            )
        stories.append(
            Story(
                code=code(),
                language="en",
                source="console",
                created_at=OCT,
                provisionally_eligible=None,
                screening_form=False,
            )
        )
        cases = []
        for index, story in enumerate(stories):
            cases.append(await add_story(session, crypto, story, telegram_id=5_000_000 + index))

        # Referrals from the plan's activities to one partner: 2 sent, 3 accepted... on the 6 plans.
        partner = Partner(name="Language Centre", service_area="language", languages=["az", "ru"])
        session.add(partner)
        await session.flush()
        activities = (await session.execute(select(PlanActivity).order_by(PlanActivity.id))).scalars().all()
        for activity, status in zip(
            activities, ["sent", "sent", "accepted", "done", "done", "done"], strict=True
        ):
            session.add(
                Referral(
                    case_id=activity.case_id,
                    activity_id=activity.id,
                    partner_id=partner.id,
                    status=status,
                    created_at=OCT,
                )
            )

        # The bot: 6 people stopped at the screening three days ago, 1 at the language; 2 are still
        # answering the screening (an hour ago).
        now = utcnow()
        for index, (step, since) in enumerate(
            [("screening", dt.timedelta(days=3))] * 6
            + [("language", dt.timedelta(days=3))]
            + [("screening", dt.timedelta(hours=1))] * 2
        ):
            person = Beneficiary(
                telegram_hash=crypto.blind_index("telegram", str(7_000_000 + index)),
                language="ru",
                source=None,  # came without a channel's link: the filter calls that channel "bot"
                created_at=OCT,
            )
            person_keys.add_new(session, crypto, person.id)
            seal(crypto, person, "telegram_id_enc", str(7_000_000 + index))
            session.add(person)
            await session.flush()
            # Half saved under the state's name before the bot's dialogs were split: counted the same.
            state = DIALOG_STATES[step][index % 2]
            session.add(DialogState(id=person.id, state=state, updated_at=now - since))
            # A campaign reached them: 6 sent, 1 failed (the last 2 were not in it).
            if index < 7:
                message = OutboxMessage(
                    beneficiary_id=person.id,
                    lane=2,
                    status="sent" if index < 6 else "failed",
                    campaign_id=uuid.UUID(int=index % 2 + 1),
                    language="ru",
                    created_at=OCT,
                )
                seal(crypto, message, "payload_enc", "{}")
                session.add(message)
        await session.commit()
        return {"north": office_a.id, "south": office_b.id, "partner": partner.id}


def counts(page: httpx.Response, selector: str) -> dict[str, str]:
    soup = BeautifulSoup(page.text, "lxml")
    found = {}
    for row in soup.select(selector):
        key = row.get("data-step") or row.get("data-line")
        found[str(key)] = row.select_one("td.count").get_text(strip=True)
    return found


def section(page: httpx.Response, key: str) -> dict[str, str]:
    return counts(page, f"section[data-section={key}] tr[data-line]")


FUNNEL_ALL = {
    "screened": "18",
    "provisionally_eligible": "14",
    "confirmed_eligible": "8",
    "assessed": "8",
    "consented": "6",
    "plan": "6",
    "closed": "<5",
}


@pytest.fixture
async def world(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> dict[str, int]:
    return await seed_world(sessionmaker, crypto)


async def test_the_funnel_equals_the_hand_computed_counts(
    sessionmaker: async_sessionmaker[AsyncSession], world: dict[str, int]
) -> None:
    async with sessionmaker() as session:
        found = await store.funnel(session, where=store.FigureFilter())
        by_language = await store.funnel(session, where=store.FigureFilter(), group="language")
        by_month = await store.funnel(session, where=store.FigureFilter(), group="month")
    assert found[None] == {
        "screened": 18,
        "provisionally_eligible": 14,
        "confirmed_eligible": 8,
        "assessed": 8,
        "consented": 6,
        "plan": 6,
        "closed": 3,
    }
    assert by_language["ru"]["screened"] == 12 and by_language["az"]["screened"] == 6
    assert by_language["en"] == dict.fromkeys(found[None], 0)
    assert by_language["az"]["closed"] == 2 and by_language["ru"]["closed"] == 1
    assert by_month["2026-09"]["screened"] == 3 and by_month["2026-10"]["screened"] == 15


async def test_the_dashboard_shows_every_figure_masked(
    client: httpx.AsyncClient, sign_in_as: SignIn, world: dict[str, int]
) -> None:
    await sign_in_as("sofia", role="supervisor")
    page = await client.get("/figures")
    assert page.status_code == 200
    assert counts(page, "table.funnel tr[data-step]") == FUNNEL_ALL
    soup = BeautifulSoup(page.text, "lxml")
    # The chart: one bar per step, a masked one drawn at the length of five, not its own.
    bars = {group["data-step"]: group for group in soup.select("svg.funnel-chart g.funnel-step")}
    assert list(bars) == list(FUNNEL_ALL)
    assert bars["closed"]["data-count"] == "<5"
    widths = {key: float(bar.select_one("rect")["width"]) for key, bar in bars.items()}
    assert widths["screened"] == 420 and widths["plan"] == round(420 * 6 / 18)
    assert widths["closed"] == round(420 * 5 / 18)
    assert "style=" not in page.text

    # Handoffs: 5 within an hour, 2 within a day, 1 within three days, 2 unanswered; mean
    # (5 × 0.5 + 2 × 5 + 48) / 8 = 7.5625 hours.
    assert section(page, "replies") == {
        "hour": "5",
        "day": "<5",
        "three_days": "<5",
        "later": "<5",
        "none": "<5",
        "total": "10",
    }
    assert "7.6" in soup.select_one("section[data-section=replies] .reply-mean").get_text()
    assert section(page, "attendance") == {
        "attended": "6",
        "no_show": "<5",
        "booked": "<5",
        "proposed": "<5",
        "cancelled": "<5",
        "total": "9",
    }
    # Closing reasons: 1 + 2 = 3 closed: the total is under five, so every cell is hidden.
    assert set(section(page, "closing").values()) == {"<5"}
    # Campaign delivery: 6 sent, 1 failed; the other statuses are 0 and masked as well.
    # Counted as the campaign screens count them (outreach.campaigns.Figures).
    assert list(section(page, "delivery")) == [
        "sent",
        "failed",
        "blocked",
        "opted_out",
        "uncertain",
        "cancelled",
        "remaining",
        "total",
    ]
    assert section(page, "delivery")["sent"] == "6" and section(page, "delivery")["total"] == "7"
    assert "Campaigns: 2" in soup.select_one("section[data-section=delivery]").get_text()
    assert section(page, "dropoff")["screening"] == "6" and section(page, "dropoff")["language"] == "<5"
    assert section(page, "dropoff")["total"] == "7"
    partner_row = soup.select_one("section[data-section=partners] tr[data-partner='Language Centre']")
    assert [cell.get_text() for cell in partner_row.select("td.count")] == ["<5", "<5", "<5", "<5", "6"]
    assert NAME not in page.text


async def test_filters_change_the_figures(
    client: httpx.AsyncClient, sign_in_as: SignIn, world: dict[str, int]
) -> None:
    await sign_in_as("sofia", role="supervisor")
    flyer = await client.get("/figures", params={"channel": "flyer-uni"})
    assert counts(flyer, "table.funnel tr[data-step]") == {
        "screened": "6",
        "provisionally_eligible": "<5",
        "confirmed_eligible": "<5",
        "assessed": "<5",
        "consented": "<5",
        "plan": "<5",
        "closed": "<5",
    }
    # Where people stopped and what campaigns reached, of those who came without a channel's link.
    direct = await client.get("/figures", params={"channel": "bot"})
    assert section(direct, "dropoff")["screening"] == "6" and section(direct, "dropoff")["total"] == "7"
    assert section(direct, "delivery")["sent"] == "6" and section(direct, "delivery")["total"] == "7"
    assert section(flyer, "dropoff")["total"] == "<5" and section(flyer, "delivery")["total"] == "<5"
    october = await client.get(
        "/figures", params={"from": "2026-10-01", "to": "2026-10-31", "language": "ru"}
    )
    assert counts(october, "table.funnel tr[data-step]")["screened"] == "9"
    north = await client.get("/figures", params={"office": str(world["north"])})
    assert counts(north, "table.funnel tr[data-step]") == {
        "screened": "9",
        "provisionally_eligible": "9",
        "confirmed_eligible": "8",
        "assessed": "8",
        "consented": "6",
        "plan": "6",
        "closed": "<5",
    }
    south = await client.get("/figures", params={"office": str(world["south"])})
    assert set(counts(south, "table.funnel tr[data-step]").values()) == {"<5"}
    # Unreadable filters are dropped, not an error.
    odd = await client.get("/figures", params={"from": "yesterday", "office": "x' OR 1=1", "by": "evil"})
    assert odd.status_code == 200 and counts(odd, "table.funnel tr[data-step]") == FUNNEL_ALL


async def test_a_breakdown_hides_a_second_cell_when_one_alone_is_masked(
    client: httpx.AsyncClient, sign_in_as: SignIn, world: dict[str, int]
) -> None:
    await sign_in_as("sofia", role="supervisor")
    page = await client.get("/figures", params={"by": "language"})
    rows = {
        row.select_one("th").get_text(strip=True): [cell.get_text() for cell in row.select("td.count")]
        for row in BeautifulSoup(page.text, "lxml").select("table.funnel-groups tbody tr")
    }
    # Screened: ru 12, az 6, en 0. en alone would be masked and 18 − 12 − 6 would give it away,
    # so az (the smallest shown) is masked too.
    assert rows["Russian"][0] == "12"
    assert rows["Azerbaijani"][0] == "<5"
    assert rows["English"][0] == "<5"


def test_the_small_cell_rule() -> None:
    assert masked(4) == Cell(4, True) and masked(5).text == "5" and masked(0).text == "<5"
    cells, total = breakdown({"a": 10, "b": 7, "c": 2})
    assert [cells[key].text for key in "abc"] == ["10", "<5", "<5"] and total.text == "19"
    cells, total = breakdown({"a": 10, "b": 7, "c": 6})
    assert [cells[key].text for key in "abc"] == ["10", "7", "6"]
    cells, total = breakdown({"a": 1, "b": 2})
    assert total.text == "<5" and {cell.text for cell in cells.values()} == {"<5"}
    assert share(masked(3), masked(20)) is None and share(masked(5), masked(20)) == 25
    for payload in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralised(payload) == "'" + payload
    assert neutralised("IP-2026-000001") == "IP-2026-000001" and neutralised(-3) == -3


@pytest.mark.parametrize(("role", "status"), [("caseworker", 403), ("outreach", 200), ("admin", 403)])
async def test_who_sees_the_figures(
    client: httpx.AsyncClient, sign_in_as: SignIn, role: str, status: int
) -> None:
    await sign_in_as("someone", role=role)
    assert (await client.get("/figures")).status_code == status


async def test_outreach_officers_land_on_the_figures_and_cannot_export_cases(
    client: httpx.AsyncClient, sign_in_as: SignIn, world: dict[str, int]
) -> None:
    await sign_in_as("omar", role="outreach")
    home = await client.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/figures"
    page = await client.get("/figures")
    assert "cases-export" not in page.text
    assert (await client.get("/figures/cases-export", params={"format": "csv"})).status_code == 403


async def test_the_demo_data_set_fills_the_funnel_once(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto
) -> None:
    async with sessionmaker() as session:
        office = office_row("Demo office")
        session.add(office)
        await session.flush()
        assert await seed_demo(session, crypto, office=office, staff_id=None)
        assert not await seed_demo(session, crypto, office=office, staff_id=None)
        await session.commit()
        found = (await store.funnel(session, where=store.FigureFilter()))[None]
        people = (await session.execute(select(Beneficiary))).scalars().all()
    assert found["screened"] > 50 and found["plan"] > 5 and found["closed"] > 5
    assert all(value >= 5 for key, value in found.items())
    assert len(people) == 160
    # Nobody made up was in the bot today: an officer's "active within the last day" is the web phone's.
    async with sessionmaker() as session:
        assert await count_by_language(session, Segment(active_within_days=1), utcnow()) == {}
        # People came through channels the Channels page lists, or without one (as the bot records it).
        codes = (await session.execute(select(Channel.code).order_by(Channel.code))).scalars().all()
        assert (
            await known_sources(session)
            == codes
            == ["community-meeting", "flyer-university", "service-centre"]
        )
        assert await session.scalar(select(func.count()).where(Beneficiary.source.is_(None))) > 10
        assert (
            sum((await count_by_language(session, Segment(active_within_days=200), utcnow())).values()) == 160
        )


async def test_viewing_figures_is_not_audited_but_exports_are(
    client: httpx.AsyncClient,
    sign_in_as: SignIn,
    sessionmaker: async_sessionmaker[AsyncSession],
    world: dict[str, int],
) -> None:
    await sign_in_as("sofia", role="supervisor")
    await client.get("/figures")
    assert (
        await client.get("/figures/export", params={"format": "csv", "language": "ru"})
    ).status_code == 200
    async with sessionmaker() as session:
        entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
    assert [(entry.action, entry.details) for entry in entries] == [
        ("figures.exported", {"format": "csv", "filter_language": "ru"})
    ]
