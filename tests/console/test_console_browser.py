"""In a real browser (Debian's Chromium, headless): sign in, take, confirm screening, Annex 1,
consent on paper, a plan (need, goal, activity), a reply to the beneficiary, close, and then a
supervisor reading that whole trail on the audit page; the same work by keyboard alone (every
control it passes shows a focus ring); and the appointments calendar, marking a no-show and
proposing a time.

The console runs under uvicorn on 127.0.0.1, as a task on the test's own event loop, against the
test database; screenshots of each step go to test-artifacts/console/ (ignored by git). What the
browser tests share is in tests/console/browser.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caseworker_console.app import create_app
from storage.crypto import Crypto
from storage.models import Case, OutboxMessage, StaffUser, utcnow
from storage.models_appointments import Appointment, AppointmentProposal
from storage.models_plan import PlanActivity
from tests.conftest import Database
from tests.console.browser import (
    ARTIFACTS,
    BROWSER_TEST,
    chromium,
    open_page,
    playwright_api,
    serving,
    sign_in,
)
from tests.console.conftest import PASSWORD
from tests.console.test_console_appointments import at, baku_day, book, office_with

CODE = "IP-2026-000500"

MakeUser = Callable[..., Awaitable[StaffUser]]
SeedPerson = Callable[..., Awaitable[Case]]

pytestmark = BROWSER_TEST


# The audit table's cells, as the supervisor reads them.
AUDIT_ROWS = """rows => rows.map(row => ({
  actor: row.querySelector(".audit-actor").textContent.trim(),
  action: row.querySelector(".audit-action .audit-label").textContent.trim(),
  code: row.querySelector(".audit-action code")?.textContent.trim() ?? null,
  object: row.querySelector(".audit-object").textContent.trim(),
  details: row.querySelector(".audit-details").textContent.trim(),
}))"""


# What has the keyboard focus, and whether a sighted keyboard user can see where it is.
FOCUSED = r"""() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  // A ring of at least two pixels (WCAG 2.4.13: the browser's own thin ring is not enough) in a
  // colour that stands out 3:1 against the white page (WCAG 1.4.11).
  const luminance = ([r, g, b]) => {
    const linear = c => (c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  const contrasts = colour => {
    const channels = colour.match(/rgba?\(([^)]*)\)/);
    if (!channels) return false;
    const [r, g, b, a = 1] = channels[1].split(",").map(Number);
    return a > 0 && 1.05 / (luminance([r, g, b]) + 0.05) >= 3;
  };
  const outline =
    style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2 && contrasts(style.outlineColor);
  const shadow = (style.boxShadow.match(/rgba?\([^)]*\)[^,]*/g) || []).some(
    part => contrasts(part) && /\s[2-9]\d*px|\s\d{2,}px/.test(part)
  );
  return {
    element: element.outerHTML.slice(0, 160),
    ring: outline || shadow,
    shown: box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < window.innerHeight,
  };
}"""
TAB_LIMIT = 80
# The page's controls a keyboard must reach (a radio group is one stop; a control taken out of the
# tab order with a negative tabindex still counts), and which of them has the focus: its index, or
# -1 when the focus has left the page's controls.
CONTROLS = r"""active => {
  const controls = [
    ...document.querySelectorAll(
      "a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex^='-'])"
    ),
  ].filter(element => !element.disabled && element.type !== "hidden" && element.checkVisibility());
  const stop = element =>
    element.type === "radio"
      ? controls.find(other => other.type === "radio" && other.name === element.name && other.form === element.form)
      : element;
  const stops = [...new Set(controls.map(stop))];
  if (active) return stops.indexOf(stop(document.activeElement));
  return stops.map(element => element.outerHTML.slice(0, 120));
}"""


class Keyboard:
    """Moves through a page with the keyboard only, and notes each stop without a visible focus."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.unseen: list[str] = []

    async def focused(self) -> dict[str, Any] | None:
        stop: dict[str, Any] | None = await self.page.evaluate(FOCUSED)
        if stop is not None and not (stop["ring"] and stop["shown"]):
            self.unseen.append(
                f"{self.page.url}: {stop['element']} ring={stop['ring']} shown={stop['shown']}"
            )
        return stop

    async def tab_to(self, target: Any, *, key: str = "Tab") -> None:
        """Press Tab (or Shift+Tab) until the target has the focus; a trap or a control the
        keyboard never reaches fails the test."""
        visited: list[str] = []
        for _ in range(TAB_LIMIT):
            await self.page.keyboard.press(key)
            stop = await self.focused()
            if await target.evaluate("element => element === document.activeElement"):
                return
            visited.append(stop["element"] if stop else "(nothing)")
        raise AssertionError(f"{key} never reached {target}; it went through {visited}")

    async def sweep(self) -> None:
        """Tab through the whole page from its start: every control is reached, once, in reading
        order, and the focus then leaves the page or comes round to its start (no trap)."""
        controls: list[str] = await self.page.evaluate(CONTROLS, False)
        reached: list[int] = []
        for _ in range(4 * len(controls) + 2):
            await self.page.keyboard.press("Tab")
            await self.focused()
            index: int = await self.page.evaluate(CONTROLS, True)
            if index < 0 or (reached and index == reached[0]):
                break  # out of the page, or round to its start again
            if reached and index == reached[-1]:
                continue  # the day, month and year of a date field are a stop each
            assert index not in reached, f"Tab came back to {controls[index]} on {self.page.url}"
            reached.append(index)
        else:
            raise AssertionError(f"Tab never left the page {self.page.url}")
        missed = [control for index, control in enumerate(controls) if index not in reached]
        assert missed == [], f"Tab never reaches these controls on {self.page.url}: {missed}"
        assert reached == sorted(reached), f"the tab order is not the reading order on {self.page.url}"

    async def arrow_to(self, radio: Any) -> None:
        """From the focused radio button, arrow keys move to (and choose) another of its group."""
        for _ in range(TAB_LIMIT):
            if await radio.evaluate("element => element === document.activeElement"):
                assert await radio.is_checked()
                return
            await self.page.keyboard.press("ArrowDown")
            await self.focused()
        raise AssertionError(f"the arrow keys never reached {radio}")


@pytest.fixture
async def console_url(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> AsyncIterator[str]:
    async with serving(create_app(sessionmaker=sessionmaker, crypto=crypto)) as url:
        yield url


@pytest.fixture
async def console_at_now(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, now: dt.datetime
) -> AsyncIterator[str]:
    """The console with its clock standing at the test's moment (`now`), for pages whose "today" or
    "minutes ago" the test checks: the same whatever the hour, and however long the browser takes.
    Its sessions begin and end by that clock too (a sign-in through its form is made at `now`)."""
    async with serving(create_app(sessionmaker=sessionmaker, crypto=crypto, clock=lambda: now)) as url:
        yield url


async def test_a_caseworker_takes_confirms_assesses_and_closes_a_case_in_the_browser(
    console_url: str,
    database: Database,
    make_user: MakeUser,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_user("leyla", display_name="Leyla Caseworker")
    await make_user("sara", role="supervisor", display_name="Sara Supervisor")
    await make_user("rustam", role="supervisor", display_name="Rustam Supervisor", language="ru")
    await seed_person(
        code=CODE,
        name="Olga Petrova",
        handoff_at=utcnow(),
        screening={
            "resides_for_reason": "yes",
            "has_permit": "yes",
            "directions": ["language", "employment_education"],
        },
    )
    shots = ARTIFACTS / database.backend
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    async with chromium() as browser:
        page = await open_page(browser, problems, patience=10)
        expect = playwright_api.expect

        await sign_in(page, console_url, "leyla")
        await expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()

        await page.get_by_role("link", name="Queue").click()
        row = page.locator(f"tr[data-case='{CODE}']")
        await expect(row).to_be_visible()
        # The badge script ran (no inline script: CSP) and shows the waiting handoff.
        await expect(page.locator(".queue-badge")).to_have_text("1 new, 0 urgent")
        await page.screenshot(path=str(shots / "1-queue.png"), full_page=True)
        await row.get_by_role("button", name=f"Take case {CODE}").click()
        await expect(page.get_by_role("heading", name=f"Case {CODE}")).to_be_visible()
        await expect(page.locator(".case-assignee")).to_have_text("Leyla Caseworker")
        await expect(page.get_by_text("Olga Petrova")).to_have_count(0)

        await page.get_by_role("button", name="Show identity").click()
        await expect(page.locator(".identity-name")).to_have_text("Olga Petrova")
        await page.screenshot(path=str(shots / "2-case-identity.png"), full_page=True)

        await page.get_by_role("link", name="Screening").last.click()
        form = page.locator("form.case-form")
        # Q4, which the bot never asks, and the caseworker's own decision.
        await form.locator("[data-question=impairment]").get_by_label("No").check()
        await (
            form.get_by_role("group", name="Your decision: is the applicant eligible for the programme?")
            .get_by_label("Yes")
            .check()
        )
        await form.get_by_label("At the office").check()
        await page.screenshot(path=str(shots / "3-screening.png"), full_page=True)
        await form.get_by_role("button", name="Save the screening confirmation").click()
        await expect(page.locator(".success")).to_have_text("The screening confirmation is saved.")
        await expect(page.locator(".case-stage")).to_have_text("Initial needs assessment")

        await page.get_by_role("link", name="Initial assessment").click()
        form = page.locator("form.case-form")
        await expect(form.get_by_label("Learning the Azerbaijani language")).to_be_checked()
        await form.get_by_role("group", name="Gender").get_by_label("Woman").check()
        await form.get_by_label("Urgent need").fill("A school place for her daughter")
        await form.get_by_label("Skills").fill("Accountant; speaks Russian and some English")
        await page.screenshot(path=str(shots / "4-assessment.png"), full_page=True)
        await form.get_by_role("button", name="Save the initial assessment").click()
        await expect(page.locator(".success")).to_have_text("The initial assessment is saved.")
        await expect(page.get_by_label("Urgent need")).to_have_value("A school place for her daughter")

        await page.get_by_role("link", name="Consent").click()
        form = page.locator("form.paper-consent-form")
        await form.get_by_label("Language of the signed text").select_option("ru")
        await (
            form.get_by_role("group", name="May their data be shared for case work")
            .get_by_label("Yes")
            .check()
        )
        await form.get_by_label("No, do not use my story").check()
        await form.get_by_role("group", name="May a third party be present").get_by_label("No").check()
        await form.get_by_role("button", name="Record the paper consent").click()
        await expect(page.locator(".success")).to_have_text("The paper consent is recorded.")
        await page.screenshot(path=str(shots / "5-consent.png"), full_page=True)

        await page.get_by_role("link", name="Overview").click()
        await page.get_by_role("button", name="Move on to: Intervention planning").click()
        await expect(page.locator(".case-stage")).to_have_text("Intervention planning")
        await page.get_by_role("link", name="Integration plan").click()
        form = page.locator("form.plan-need-form")
        await form.get_by_label("Need").fill("A school place for her daughter")
        await form.get_by_label("Agreed with the beneficiary").check()
        await form.get_by_role("button", name="Add the need").click()
        await expect(page.locator(".plan-need-text")).to_have_text("A school place for her daughter")
        form = page.locator("form.plan-goal-form")
        await form.get_by_label("Short-term goal").check()
        await form.locator("#q-goal-text").fill("Enrol her daughter this term")
        await form.get_by_label("Agreed with the beneficiary").check()
        await form.get_by_role("button", name="Add the goal").click()
        await expect(page.locator(".plan-goal-text")).to_have_text("Enrol her daughter this term")
        form = page.locator("form.plan-activity-form")
        await form.get_by_label("Activity, done together with the beneficiary").fill(
            "Visit the school together"
        )
        await form.get_by_label("Work and education").check()
        await form.get_by_label("Due date (optional)").fill("2026-12-01")
        await form.get_by_label("Who takes part").fill("Leyla and Olga")
        await form.get_by_label("Agreed with the beneficiary").check()
        await form.get_by_role("button", name="Add the activity").click()
        activity = page.locator("tr.plan-activity")
        await expect(activity.locator(".plan-activity-text")).to_contain_text("Visit the school together")
        await expect(activity.locator(".plan-activity-area")).to_have_text("Work and education")
        # Changed later, agreed by phone: the entry shows how the agreement was given.
        edit = activity.locator("details.plan-edit-activity")
        await edit.locator("summary").click()
        await edit.get_by_label("In progress").check()
        await (
            edit.locator("form.plan-edit-form")
            .get_by_label("How the beneficiary agreed")
            .select_option("phone")
        )
        await edit.locator("form.plan-edit-form").get_by_label("Agreed with the beneficiary").check()
        await edit.get_by_role("button", name="Save the change").click()
        await expect(page.locator(".success")).to_have_text("The change to the plan is recorded.")
        await expect(activity.locator(".plan-activity-status")).to_contain_text("In progress")
        await expect(activity.locator(".plan-agreement")).to_contain_text("(By phone)")
        await page.screenshot(path=str(shots / "6-plan.png"), full_page=True)
        async with page.expect_download() as download_info:
            await page.get_by_role("link", name="Download the plan as PDF").click()
        download = await download_info.value
        assert download.suggested_filename == f"{CODE}-plan.pdf"
        pdf = await asyncio.to_thread(Path(await download.path()).read_bytes)
        assert pdf.startswith(b"%PDF-")
        # The printed plan keeps the plan and drops every form.
        await page.emulate_media(media="print")
        await expect(page.locator("form.plan-need-form")).to_be_hidden()
        await expect(page.locator(".plan-signatures")).to_be_visible()
        await page.emulate_media(media="screen")

        await page.get_by_role("link", name="Conversation").click()
        await page.get_by_label("Your reply (the beneficiary reads it in Telegram)").fill(
            "We found a school, see you on Monday"
        )
        await page.get_by_role("button", name="Send the reply", exact=True).click()
        await expect(page.get_by_text("We found a school, see you on Monday")).to_be_visible()
        await page.screenshot(path=str(shots / "7-conversation.png"), full_page=True)

        await page.get_by_role("link", name="Overview").click()
        await page.get_by_label(
            "Another institution is responsible, given their legal status or needs"
        ).check()
        await page.get_by_label("Details (optional)").fill("Referred to the migration service")
        await page.get_by_role("button", name="Close the case").click()
        await expect(page.locator(".case-stage")).to_have_text("Closed")
        await expect(page.get_by_role("button", name="Reopen the case")).to_be_visible()
        await page.screenshot(path=str(shots / "8-closed.png"), full_page=True)

        # A supervisor, in a browser of their own, reads the whole trail of the case.
        supervisor = await open_page(browser, problems, patience=10)
        await sign_in(supervisor, console_url, "sara")
        await expect(supervisor.get_by_role("heading", name="Cases", exact=True)).to_be_visible()
        await (
            supervisor.get_by_role("navigation", name="Main menu")
            .get_by_role("link", name="Audit log")
            .click()
        )
        await expect(supervisor.get_by_role("heading", name="Audit log")).to_be_visible()
        await supervisor.get_by_label("Case code").fill(CODE.lower())
        await supervisor.get_by_role("button", name="Filter").click()
        await expect(supervisor).to_have_url(re.compile(rf"/audit\?.*\bcase={CODE.lower()}\b"))
        await expect(supervisor.get_by_label("Case code")).to_have_value(CODE.lower())
        entries = supervisor.locator("tr.audit-entry")
        await expect(entries.filter(has_text="Case closed")).to_have_count(1)
        await supervisor.screenshot(path=str(shots / "9-audit.png"), full_page=True)
        trail = await entries.evaluate_all(AUDIT_ROWS)
        # The filters and the long table (a scrolling region) are all reachable by keyboard too.
        auditor = Keyboard(supervisor)
        await auditor.sweep()

        # A supervisor who reads the console in Russian reads the same trail in Russian.
        russian = await open_page(browser, problems, patience=10)
        await sign_in(russian, console_url, "rustam")
        await expect(russian.get_by_role("heading", name="Дела", exact=True)).to_be_visible()
        await russian.goto(f"{console_url}/audit?case={CODE}")
        closed = russian.locator("tr.audit-entry").filter(has_text="case.closed")
        await expect(closed.locator(".audit-label")).to_have_text("Дело закрыто")

    assert problems == []
    assert auditor.unseen == [], "controls without a visible focus: " + "\n".join(auditor.unseen)
    async with sessionmaker() as session:
        case = (await session.execute(select(Case).where(Case.code == CODE))).scalar_one()
        plan = (await session.execute(select(PlanActivity))).scalar_one()
        # The caseworker's reply, and the one question asked after a case closes.
        sent = (await session.execute(select(OutboxMessage))).scalars().all()
    assert case.stage == "closed"
    assert (plan.agreed, plan.service_area, plan.status) == (True, "employment_education", "in_progress")
    assert plan.agreed_via == "phone"
    assert len(sent) == 2 and {message.beneficiary_id for message in sent} == {case.beneficiary_id}

    # Every entry of the case is Leyla's work on it, newest first; each step of the walk is there,
    # in the order it was done.
    assert trail, "the audit page shows no entry for the case"
    assert {(row["actor"], row["object"]) for row in trail} == {("Leyla Caseworker", f"Case {CODE}")}
    # Every action shows a label, with its code next to it.
    assert [row for row in trail if not row["code"] or row["code"] == row["action"]] == []
    done = [(row["action"], row["details"]) for row in reversed(trail)]
    steps = [
        ("Case taken", ""),
        ("Form saved", "form: screening_confirmation"),
        ("Stage changed", "from: Screening, to: Initial needs assessment"),
        ("Form saved", "form: initial_assessment"),
        ("Consent recorded", "casework: True"),
        ("Stage changed", "from: Initial needs assessment, to: Intervention planning"),
        ("Plan: need added", "agreed: True"),
        ("Plan: goal added", "term: short"),
        ("Plan: activity added", "service_area: employment_education"),
        ("Plan: activity changed", "agreed_via: phone"),
        ("Reply sent", "message:"),
        ("Case closed", "reason: Another institution is responsible, given their legal status or needs"),
    ]
    remaining = iter(done)
    for action, detail in steps:
        assert any(seen == action and detail in details for seen, details in remaining), (
            f"{action} ({detail}) is missing from the audit trail, or out of order: {done}"
        )
    # Nothing the beneficiary said or wrote is shown on the audit page.
    assert not any("school" in row["details"].casefold() for row in trail)


async def test_a_caseworker_takes_a_case_confirms_screening_and_replies_by_keyboard_alone(
    console_url: str,
    database: Database,
    make_user: MakeUser,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_user("leyla", display_name="Leyla Caseworker")
    await seed_person(
        code=CODE,
        name="Olga Petrova",
        handoff_at=utcnow(),
        screening={"resides_for_reason": "yes", "has_permit": "yes", "directions": ["language"]},
    )
    shots = ARTIFACTS / database.backend
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    async with chromium() as browser:
        page = await open_page(browser, problems, patience=10)
        expect = playwright_api.expect
        keys = Keyboard(page)
        typing = page.keyboard

        await page.goto(f"{console_url}/login")
        await keys.tab_to(page.get_by_label("Username"))
        await typing.type("leyla")
        await keys.tab_to(page.get_by_label("Password"))
        await typing.type(PASSWORD)
        # Back and forth: Shift+Tab returns to the name, which kept what was typed.
        await keys.tab_to(page.get_by_label("Username"), key="Shift+Tab")
        await expect(page.get_by_label("Username")).to_have_value("leyla")
        await keys.tab_to(page.get_by_role("button", name="Sign in"))
        await typing.press("Enter")
        await expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()

        # The first Tab of a page shows the skip link; it takes the focus past the menus.
        skip = page.get_by_role("link", name="Skip to main content")
        await keys.tab_to(skip)
        await expect(skip).to_be_in_viewport()
        await page.screenshot(path=str(shots / "keyboard-1-skip-link.png"))
        await typing.press("Enter")
        await expect(page.locator("main#main")).to_be_focused()
        await typing.press("Tab")
        assert await page.evaluate("document.querySelector('main').contains(document.activeElement)")
        await keys.focused()

        await keys.tab_to(
            page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Queue"),
            key="Shift+Tab",
        )
        await typing.press("Enter")
        await expect(page.get_by_role("heading", name="Queue", exact=True)).to_be_visible()
        await keys.sweep()
        await keys.tab_to(page.get_by_role("button", name=f"Take case {CODE}"))
        await page.screenshot(path=str(shots / "keyboard-2-queue.png"))
        await typing.press("Enter")
        await expect(page.get_by_role("heading", name=f"Case {CODE}")).to_be_visible()
        await expect(page.locator(".case-assignee")).to_have_text("Leyla Caseworker")
        await keys.sweep()

        tabs = page.get_by_role("navigation", name="Parts of the case file")
        await keys.tab_to(tabs.get_by_role("link", name="Screening"))
        await typing.press("Enter")
        await expect(page.get_by_role("heading", name="Screening confirmation (Annex 2)")).to_be_visible()
        await keys.sweep()
        form = page.locator("form.case-form")
        impairment = form.locator("[data-question=impairment]")
        await keys.tab_to(impairment.get_by_role("radio").first)
        await typing.press("Space")
        await keys.arrow_to(impairment.get_by_label("No"))
        decision = form.get_by_role(
            "group", name="Your decision: is the applicant eligible for the programme?"
        )
        await keys.tab_to(decision.get_by_role("radio").first)
        await typing.press("Space")
        await keys.arrow_to(decision.get_by_label("Yes"))
        office = form.get_by_label("At the office")
        await keys.tab_to(
            form.locator(f"input[type=radio][name='{await office.get_attribute('name')}']").first
        )
        await typing.press("Space")
        await keys.arrow_to(office)
        await page.screenshot(path=str(shots / "keyboard-3-screening.png"), full_page=True)
        await keys.tab_to(form.get_by_role("button", name="Save the screening confirmation"))
        await typing.press("Enter")
        await expect(page.locator(".success")).to_have_text("The screening confirmation is saved.")
        await expect(page.locator(".case-stage")).to_have_text("Initial needs assessment")

        tabs = page.get_by_role("navigation", name="Parts of the case file")
        await keys.tab_to(tabs.get_by_role("link", name="Conversation"))
        await typing.press("Enter")
        await expect(tabs.get_by_role("link", name="Conversation")).to_have_attribute("aria-current", "page")
        await keys.sweep()
        reply = page.get_by_label("Your reply (the beneficiary reads it in Telegram)")
        await keys.tab_to(reply)
        await typing.type("We found a school, see you on Monday")
        await keys.tab_to(page.get_by_role("button", name="Send the reply", exact=True))
        await typing.press("Enter")
        await expect(page.get_by_text("We found a school, see you on Monday")).to_be_visible()
        await page.screenshot(path=str(shots / "keyboard-4-conversation.png"), full_page=True)

    assert problems == []
    assert keys.unseen == [], "controls without a visible focus: " + "\n".join(keys.unseen)
    async with sessionmaker() as session:
        case = (await session.execute(select(Case).where(Case.code == CODE))).scalar_one()
        reply_sent = (await session.execute(select(OutboxMessage))).scalar_one()
    assert case.stage == "initial_assessment"
    assert reply_sent.beneficiary_id == case.beneficiary_id


async def test_a_caseworker_reads_the_calendar_marks_a_no_show_and_proposes_a_time_in_the_browser(
    console_at_now: str,
    database: Database,
    make_user: MakeUser,
    seed_person: SeedPerson,
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
) -> None:
    # The console's today is the test's: the calendar's week and what may be marked follow from it.
    console_url = console_at_now
    leyla = await make_user("leyla", display_name="Leyla Caseworker")
    case = await seed_person(code=CODE, name="Olga Petrova", stage="screening", assigned_to=leyla.id)
    office = await office_with(sessionmaker)
    today, later = baku_day(0, now), baku_day(2, now)
    missed = await book(sessionmaker, case, office, at(today, 9))
    shots = ARTIFACTS / database.backend
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    async with chromium() as browser:
        page = await open_page(browser, problems, patience=10)
        expect = playwright_api.expect

        await sign_in(page, console_url, "leyla")
        await page.get_by_role("link", name="Appointments").click()
        await expect(page.get_by_role("heading", name="Appointments", exact=True)).to_be_visible()
        day = page.locator(f"section[data-day='{today.isoformat()}']")
        await expect(day.locator(f"li[data-case='{CODE}']")).to_contain_text("Booked")
        await expect(page.get_by_text("Olga Petrova")).to_have_count(0)
        await page.screenshot(path=str(shots / "calendar-1-week.png"), full_page=True)
        await page.get_by_role("link", name="Next week").click()
        await expect(page.locator(f"li[data-case='{CODE}']")).to_have_count(0)
        await page.get_by_role("link", name="Today").click()
        await page.locator(f"section[data-day='{today.isoformat()}']").get_by_role("link", name=CODE).click()

        await expect(page.get_by_role("heading", name=f"Case {CODE}")).to_be_visible()
        row = page.locator(f"tr[data-appointment='{missed.id}']")
        await row.get_by_role("button", name="Did not come").click()
        await expect(page.locator(".success")).to_have_text("Saved.")
        await expect(page.locator(f"tr[data-appointment='{missed.id}'] .appointment-status")).to_contain_text(
            "Did not come"
        )

        form = page.locator("form.look-form")
        await form.get_by_label("Type").select_option("review")
        await form.get_by_label("Day").fill(later.isoformat())
        await form.get_by_role("button", name="Show free times").click()
        propose = page.locator("form.propose-form")
        await propose.locator("input[name=slot]").first.check()
        await page.screenshot(path=str(shots / "calendar-2-propose.png"), full_page=True)
        await propose.get_by_role("button", name="Propose this time").click()
        await expect(page.locator(".proposal-pending")).to_contain_text(
            "Waiting for the beneficiary's answer"
        )
        await page.screenshot(path=str(shots / "calendar-3-proposed.png"), full_page=True)

        await (
            page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Appointments").click()
        )
        await page.locator("#calendar-date").fill(later.isoformat())
        await page.get_by_role("button", name="Show").click()
        await expect(
            page.locator(f"section[data-day='{later.isoformat()}'] li[data-case='{CODE}']")
        ).to_contain_text("Proposed, waiting for an answer")

    assert problems == []
    async with sessionmaker() as session:
        marked = await session.get(Appointment, missed.id)
        proposal = (await session.execute(select(AppointmentProposal))).scalar_one()
        message = (await session.execute(select(OutboxMessage))).scalar_one()
    assert marked is not None and (marked.status, marked.marked_by) == ("no_show", leyla.id)
    assert proposal.status == "pending" and message.beneficiary_id == case.beneficiary_id
