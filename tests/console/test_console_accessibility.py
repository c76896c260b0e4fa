"""axe-core, in the real browser, over the console's main pages: no serious or critical violation.

axe-core comes from the npm registry through tests/console/axe (package.json and its lock file);
`make test` installs it. The pages are the ones people work in every day, filled with data: sign-in,
the queue, the case list, every tab of a case file (with a plan and its referrals), the audit log,
the programme figures, the partner directory, the calendar feed, one's own account page (with a
Telegram link code shown), retention and a case's legal hold, campaigns (a draft and one sending)
and the accounts.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseworker_console.accounts import create_user
from storage import plan as plan_store
from storage.appointments import book_appointment
from storage.crypto import Crypto
from storage.journey import record_consent
from storage.models import Beneficiary, Case, OutboxMessage, StaffUser, utcnow
from storage.models_appointments import Office
from storage.models_outreach import Campaign
from storage.outbox import Status
from tests.bot.test_appointments import add_office
from tests.console.browser import BROWSER_TEST, REQUIRED, chromium
from tests.console.conftest import PASSWORD
from tests.console.test_console_appointments import at as at_baku
from tests.console.test_console_appointments import baku_day
from tests.console.test_console_browser import console_url

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = {"serious", "critical"}

MakeUser = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

__all__ = ["console_url"]  # the browser test's running console, used as a fixture here

pytestmark = [
    *BROWSER_TEST,
    pytest.mark.skipif(
        not AXE.exists() and not REQUIRED, reason="axe-core is not installed (make test installs it)"
    ),
]

CODE = "IP-2026-000700"
QUEUED = "IP-2026-000701"
CASE_TABS = (
    "",
    "/screening",
    "/interview",
    "/assessment",
    "/conversation",
    "/requests",
    "/appointments",
    "/consent",
)
PLAN_TABS = ("/plan", "/adverse")


async def seed(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, seed_person: SeedPerson, supervisor: int
) -> None:
    """A case in intervention planning with consent and a plan, and one waiting in the queue."""
    case = await seed_person(
        code=CODE,
        assigned_to=supervisor,
        stage="intervention_planning",
        screening={"resides_for_reason": "yes", "has_permit": "yes", "directions": ["language"]},
    )
    await seed_person(code=QUEUED, name="Another Person", handoff_at=utcnow(), urgent=True, screening={})
    async with sessionmaker() as session:
        stored = await session.get(Case, case.id)
        assert stored is not None
        await record_consent(
            session,
            case=stored,
            casework=True,
            publicity="none",
            third_party=False,
            language="ru",
            text_version="2026-11",
            text_hash="0" * 64,
        )
        at = utcnow()
        need = await plan_store.add_need(
            session, crypto, case=stored, text="A school place", staff_id=supervisor, at=at, via="phone"
        )
        goal = await plan_store.add_goal(
            session,
            crypto,
            case=stored,
            need=need,
            term="short",
            text="Enrol",
            staff_id=supervisor,
            at=at,
            via="bot",
        )
        await plan_store.add_activity(
            session,
            crypto,
            case=stored,
            goal=goal,
            text="Visit the school",
            service_area="orientation",
            due_on=None,
            who=None,
            status="planned",
            staff_id=supervisor,
            at=at,
            via="in_person",
        )
        office = await add_office(session)
        await book_appointment(
            session, case=stored, office=office, appointment_type="first", starts_at=at_baku(baku_day(0), 9)
        )
        await session.commit()


async def seed_campaigns(sessionmaker: async_sessionmaker[AsyncSession], author: int) -> tuple[str, str]:
    """A draft (its preview and form) and a campaign on its way (its progress and results)."""
    texts = {"en": "The office is open on Saturday.", "fa": "دفتر شنبه باز است."}
    button = {"kind": "url", "target": "https://example.org", "labels": {"en": "Details"}}
    draft = Campaign(name="Saturday", texts=texts, button=button, status="draft", created_by=author)
    sending = Campaign(
        name="Sent",
        texts=texts,
        status="running",
        created_by=author,
        starts_at=utcnow(),
        expanded_at=utcnow(),
    )
    async with sessionmaker() as session, session.begin():
        session.add_all([draft, sending])
        await session.flush()
        for status in (Status.SENT, Status.PENDING):
            person = Beneficiary(
                telegram_hash=secrets.token_hex(32), telegram_id_enc=b"x" * 40, language="fa"
            )
            session.add(person)
            await session.flush()
            session.add(
                OutboxMessage(
                    beneficiary_id=person.id,
                    payload_enc=b"x",
                    status=status,
                    lane=2,
                    campaign_id=sending.id,
                    language="fa",
                )
            )
    return str(draft.id), str(sending.id)


async def violations(page: Any) -> list[dict[str, Any]]:
    await page.add_script_tag(path=str(AXE))
    results = await page.evaluate("async () => await axe.run(document)")
    # axe did look: the page's language and its landmarks were among the rules that passed.
    passed = {rule["id"] for rule in results["passes"]}
    assert {"html-has-lang", "landmark-one-main", "color-contrast"} <= passed, sorted(passed)
    return [
        {
            "rule": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "where": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in results["violations"]
        if violation["impact"] in SERIOUS
    ]


async def test_the_main_pages_have_no_serious_accessibility_violations(
    console_url: str,
    make_user: MakeUser,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    supervisor = await make_user("sabina", role="supervisor", display_name="Sabina Supervisor")
    await make_user("admin1", role="admin", display_name="Administrator")
    await make_user("rashad", role="caseworker", display_name="Rashad Caseworker")
    async with sessionmaker() as session:
        # An account an administrator made, waiting on the supervisors' "Access to cases" page.
        await create_user(
            session, username="new.worker", password=PASSWORD, role="caseworker", needs_approval=True
        )
        await session.commit()
    await seed(sessionmaker, crypto, seed_person, supervisor.id)
    draft, sending = await seed_campaigns(sessionmaker, supervisor.id)
    async with sessionmaker() as session:
        office_id = (await session.execute(select(Office.id))).scalars().first()
    found: dict[str, list[dict[str, Any]]] = {}
    checked: list[str] = []
    async with chromium() as browser:
        for username, paths in (
            ("sabina", ["/queue", "/cases", *[f"/cases/{CODE}{tab}" for tab in CASE_TABS + PLAN_TABS]]),
            (
                "sabina",
                [
                    "/audit",
                    "/appointments",
                    "/figures",
                    "/partners",
                    "/calendar-feed",
                    "/account",
                    f"/cases/{CODE}/referrals",
                    "/retention",
                    f"/retention/hold?case={CODE}",
                ],
            ),
            (
                "sabina",
                ["/campaigns", "/campaigns/new", f"/campaigns/{draft}", f"/campaigns/{sending}", "/grants"],
            ),
            ("sabina", ["/ready-replies", "/ready-replies/edit"]),
            # A queued case as a caseworker not on it sees it: pseudonymised, with the note to take it.
            ("rashad", [f"/cases/{QUEUED}/interview", f"/cases/{QUEUED}/conversation"]),
            (
                "admin1",
                [
                    "/accounts",
                    "/offices",
                    "/offices/edit",
                    f"/offices/edit?office={office_id}",
                    f"/offices/closure?office={office_id}",
                    "/organisation",
                    "/operations",
                ],
            ),
        ):
            # The page's CSP forbids inline scripts; axe is injected by the test, not the console.
            context = await browser.new_context(bypass_csp=True, locale="en-GB")
            page = await context.new_page()
            page.set_default_timeout(10_000)
            await page.goto(f"{console_url}/login")
            if not checked:
                found["/login"] = await violations(page)
                checked.append("/login")
            await page.get_by_label("Username").fill(username)
            await page.get_by_label("Password").fill(PASSWORD)
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(lambda url: "/login" not in url)
            for path in paths:
                response = await page.goto(f"{console_url}{path}")
                assert response is not None and response.status == 200, path
                found[path] = await violations(page)
                checked.append(path)
            # The appointments tab with a day's free times offered for a proposal.
            if "/appointments" in paths:
                await page.goto(f"{console_url}/cases/{CODE}/appointments")
                office = await page.locator("#propose-office option").first.get_attribute("value")
                day = baku_day(2).isoformat()
                await page.goto(
                    f"{console_url}/cases/{CODE}/appointments?office={office}&type=review&day={day}"
                )
                assert await page.locator("form.propose-form input[name=slot]").count() > 0
                found["/appointments (proposing a time)"] = await violations(page)
            # The account page showing a Telegram link code.
            if "/account" in paths:
                await page.goto(f"{console_url}/account")
                await page.get_by_role("button", name="Link my Telegram").click()
                await page.locator("#telegram-command").wait_for()
                found["/account (a Telegram link code shown)"] = await violations(page)
            # An open "change this entry" panel of the plan is checked too.
            if f"/cases/{CODE}/plan" in paths:
                await page.goto(f"{console_url}/cases/{CODE}/plan")
                await page.locator("details.plan-edit-need > summary").click()
                found["/plan (editing a need)"] = await violations(page)
            await context.close()
    # Every page walked, and the three states opened on the way (a proposal, a link code, an edit).
    assert len(checked) == 38 and len(found) == len(checked) + 3
    serious = {path: problems for path, problems in found.items() if problems}
    assert serious == {}, json.dumps(serious, indent=1)
