"""Issue 5's "done when", walked in the real `intake demo`: an outreach officer made with the CLI
sends a campaign in three languages to people who came through a channel's link on the web phone,
watches it, pauses and resumes it in Chromium; and a person who booked through the bot gets the
appointment's reminder and confirms it with its button, which the console then shows.

Nothing inside the demo is made to run fast: the reminder is honest because the demo is started
with `INTAKE_REMINDER_OFFSETS` counted back from the demo office's next free time, so its reminder
falls due one to two minutes after the demo starts, once the person has booked that time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import signal
import sys
import uuid
import zoneinfo
from pathlib import Path

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from bot import calendar
from programme.appointments import day_slots
from sandbox.client import SandboxClient
from storage.appointments import demo_office, office_schedule
from storage.engine import create_engine, create_sessionmaker
from storage.models import AuditEntry, OutboxMessage, utcnow
from storage.models_reminders import Reminder
from storage.outbox import Lane, Status
from tests.bot.test_appointments import open_month, to_booking
from tests.bot.test_journey import tap_and_wait
from tests.bot.test_screening import Translate
from tests.console.browser import ARTIFACTS, BROWSER_TEST, chromium, open_page, playwright_api, sign_in
from tests.intake.test_demo import ROOT, banner_urls, console_login, read_banner, sandbox_bots
from wording import dates
from wording.broadcast import opt_out_line

pytestmark = BROWSER_TEST

OFFICE_ZONE = "Asia/Baku"  # the demo's default INTAKE_TIMEZONE, its office's time zone
# The reminder falls due this long after the demo starts: time enough to book, and not much more.
REMINDER_AFTER = (dt.timedelta(seconds=60), dt.timedelta(seconds=120))
CHANNEL, CHANNEL_NAME = "walk-sumgait", "Community meeting, Sumgait"
OFFICER, OFFICER_PASSWORD = "olga", "walk-the-demo-2026"
# (locale, the language button, the composer's label, the notice in that language)
PEOPLE = [
    ("ru", "Русский", "Russian", "Курсы языка начинаются в понедельник."),
    ("fa", "فارسی / دری", "Persian", "کلاس‌های زبان از دوشنبه شروع می‌شود."),
    ("en", "English", "English", "Language classes begin on Monday."),
]


# Per line of a message box, whether its first character (a letter) is drawn left of its last (the
# full stop) or right of it: the line's direction as a reader sees it.
LINE_DIRECTIONS = """box => box.textContent.split("\\n").filter(line => line.trim()).map(line => {
  const text = box.firstChild, first = text.data.indexOf(line), last = first + line.trimEnd().length - 1;
  const range = document.createRange();
  const left = at => { range.setStart(text, at); range.setEnd(text, at + 1); return range.getBoundingClientRect().left; };
  return left(first) < left(last) ? "ltr" : "rtl";
})"""


def reminder_plan(now: dt.datetime) -> tuple[dt.datetime, int]:
    """The demo office's first free time far enough ahead, and the offset in whole minutes that
    makes its reminder due within REMINDER_AFTER of `now`."""
    schedule = office_schedule(demo_office(), default_timezone=OFFICE_ZONE)
    today = now.astimezone(schedule.zone).date()
    earliest, latest = REMINDER_AFTER
    for day in (today + dt.timedelta(days=ahead) for ahead in range(8)):
        for start in day_slots(schedule, day):
            if start - now >= latest + dt.timedelta(minutes=1):
                minutes = int((start - now - earliest).total_seconds() // 60)
                due = start - dt.timedelta(minutes=minutes)
                assert now + earliest <= due < now + latest
                return start, minutes
    raise AssertionError("the demo office has no opening in the coming week")


async def create_officer(directory: Path, environment: dict[str, str]) -> None:
    """`intake create-user` as the README's walk says, beside the running demo (no keys needed)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "intake",
        "create-user",
        OFFICER,
        "--role",
        "outreach",
        "--display-name",
        "Olga Outreach",
        "--password-stdin",
        "--demo",
        cwd=directory,
        env=environment,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(f"{OFFICER_PASSWORD}\n".encode()), 60)
    assert process.returncode == 0, output.decode()
    assert "Created outreach account 'olga'" in output.decode()


async def book_the_time(phone: SandboxClient, t: Translate, start: dt.datetime) -> tuple[int, str]:
    """A person screens, then books `start` through the bot's calendar; their id and case code."""
    user = await to_booking(phone, t)
    code = re.search(
        r"IP-\d{4}-\d{6}", (await phone.wait_for_bot_message(user, count=1, contains="IP-"))["text"]
    )
    assert code is not None
    zone = zoneinfo.ZoneInfo(OFFICE_ZONE)
    day = start.astimezone(zone).date()
    await tap_and_wait(phone, user, t("First meeting"), t("Choose a day. Days marked · have no free time."))
    await open_month(phone, t, user, day)
    await tap_and_wait(phone, user, calendar.day_label(day, "en"), t("Choose a time."))
    await phone.press(user, dates.time_label(start, zone, "en"))
    await phone.wait_for_bot_message(user, contains="Please check your appointment")
    await tap_and_wait(phone, user, "✅ " + t("Confirm"), t("Your appointment is booked."))
    return user, code.group()


async def come_through_the_channel(phone: SandboxClient, language_button: str) -> int:
    """Someone opens the channel's link (Telegram sends `/start <code>`) and picks a language."""
    user = await phone.create_user()
    await phone.send_text(user, f"/start {CHANNEL}")
    await phone.wait_for_bot_message(user, contains="🌐")
    await phone.press(user, language_button)
    await phone.wait_for_bot_message(user, contains="•")  # the privacy notice, in their language
    return user


def campaign_messages(messages: list[dict]) -> list[dict]:
    notices = {notice for *_, notice in PEOPLE}
    return [message for message in messages if any(notice in message["text"] for notice in notices)]


async def test_an_officer_runs_a_campaign_in_three_languages_and_a_reminder_is_confirmed_in_the_demo(
    tmp_path: Path, t: Translate
) -> None:
    slot, offset_minutes = reminder_plan(utcnow())
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TELEGRAM_", "DATABASE_"))
    }
    # The walk taps through the journey at machine speed, beyond any person's flood limit.
    environment |= {
        "INTAKE_CONSOLE_ADDR": "127.0.0.1:0",  # free ports, bound by the demo and given in its banner
        "PYTHONPATH": str(ROOT),
        "INTAKE_FLOOD_LIMIT": "off",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "intake",
        "demo",
        "--sandbox-port",
        "0",
        cwd=tmp_path,
        env=environment
        | {"INTAKE_REMINDER_OFFSETS": f"{offset_minutes}m", "INTAKE_REMINDER_QUIET_HOURS": "off"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'var' / 'demo' / 'intake.db'}")
    sessionmaker = create_sessionmaker(engine)
    shots = ARTIFACTS / "demo-walk"
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    try:
        banner = await read_banner(process)
        demo_password = re.search(r"demo / (\S+)", banner).group(1)
        assert "intake create-user NAME --role outreach --demo" in banner
        sandbox_url, console = banner_urls(banner)
        [bot] = await sandbox_bots(sandbox_url)
        await create_officer(tmp_path, environment)
        async with SandboxClient(sandbox_url, bot["id"]) as phone:
            # First what the clock waits on: a person books the office's next free time.
            booker, case_code = await book_the_time(phone, t, slot)
            async with sessionmaker() as session:
                pending = (await session.execute(select(Reminder.status, Reminder.due_at))).all()
            assert [status for status, _ in pending] == ["pending"], f"booked too late for {pending}"

            async with chromium() as browser:
                page = await open_page(browser, problems, patience=20)
                expect = playwright_api.expect
                expect.set_options(timeout=30_000)

                await sign_in(page, console, OFFICER, OFFICER_PASSWORD)
                await expect(page.get_by_role("link", name="Cases")).to_have_count(0)

                # A channel for the community meeting's flyers; three people come through its link.
                await page.get_by_role("link", name="Channels").click()
                await page.get_by_label("Name (where the flyers go").fill(CHANNEL_NAME)
                await page.get_by_label("Kind").select_option("community_meeting")
                await page.get_by_label("Code in the link").fill(CHANNEL)
                await page.get_by_role("button", name="Create the channel").click()
                await expect(page.locator("#deep-link")).to_contain_text(f"?start={CHANNEL}")
                people = {
                    locale: await come_through_the_channel(phone, button) for locale, button, *_ in PEOPLE
                }

                await page.get_by_role("link", name="Campaigns").click()
                await page.get_by_role("link", name="New campaign").click()
                form = page.locator("form.campaign-form")
                await form.get_by_label("Name (only the console shows it)").fill("Language classes")
                for _locale, _button, language, notice in PEOPLE:
                    await form.get_by_label(f"Text in {language}").fill(notice)
                await form.get_by_label(f"{CHANNEL_NAME} {CHANNEL}", exact=True).check()
                # Three people over 36 seconds of sending time: one every 12 seconds, to pause on the way.
                await form.get_by_label("Spread over").fill("0.01")
                await form.get_by_role("checkbox", name="Quiet hours").uncheck()
                await page.screenshot(path=str(shots / "1-compose.png"), full_page=True)
                await form.get_by_role("button", name="Save the draft and preview it").click()

                # Three people: under 5, so masked as on the figures page.
                await expect(page.locator(".campaign-recipients")).to_have_text(
                    "People who would get it now: <5"
                )
                for locale, _button, _language, notice in PEOPLE:
                    preview = page.locator(
                        f".campaign-preview tr[data-language='{locale}'] .campaign-message"
                    )
                    await expect(preview).to_have_text(f"{notice}\n\n{opt_out_line(locale)}")
                # A Pashto reader gets the English fallback: it reads left to right, as in
                # Telegram, and the Pashto /stop line under it right to left.
                pashto = page.locator(".campaign-preview tr[data-language='ps'] .campaign-message")
                english, stop = await pashto.evaluate(LINE_DIRECTIONS)
                assert (english, stop) == ("ltr", "rtl")
                await page.screenshot(path=str(shots / "2-preview.png"), full_page=True)
                campaign_id = uuid.UUID(page.url.rstrip("/").rsplit("/", 1)[1])
                await page.get_by_role("button", name="Send it now").click()

                progress = page.locator("#campaign-progress")
                # The page masks counts under 5: the first delivery is watched at the phone.
                for _ in range(600):
                    if any([campaign_messages(await phone.bot_messages(user)) for user in people.values()]):
                        break
                    await asyncio.sleep(0.1)
                await page.get_by_role("button", name="Pause").click()
                await expect(page.locator(".campaign-status")).to_have_text("Paused")
                await page.screenshot(path=str(shots / "3-paused.png"), full_page=True)
                async with sessionmaker() as session:
                    rows = (
                        await session.execute(
                            select(OutboxMessage.status, OutboxMessage.not_before).where(
                                OutboxMessage.campaign_id == campaign_id,
                                OutboxMessage.lane == Lane.BROADCAST,
                            )
                        )
                    ).all()
                held = [not_before for status, not_before in rows if status == Status.PAUSED]
                assert len(rows) == 3 and len(held) == 2, rows
                # Paused: even after the time the next one was due, nothing more arrives.
                await asyncio.sleep(max(0.0, (min(held) - utcnow()).total_seconds()) + 3)
                delivered = [campaign_messages(await phone.bot_messages(user)) for user in people.values()]
                assert sorted(map(len, delivered)) == [0, 0, 1]
                await expect(progress.locator("[data-figure='remaining']")).to_have_text("<5")
                # No share of a masked count: the bar runs without a value until it is done.
                assert await progress.locator("progress").get_attribute("value") is None

                await page.get_by_role("button", name="Resume").click()
                await expect(page.locator(".campaign-status")).to_have_text("Done", timeout=90_000)
                await expect(progress.locator("progress")).to_have_attribute("value", "100")
                await page.screenshot(path=str(shots / "4-done.png"), full_page=True)
                shown = {
                    name: await progress.locator(f"[data-figure='{name}']").inner_text()
                    for name in ("sent", "failed", "blocked", "remaining")
                }
            assert problems == []
            assert shown == {"sent": "<5", "failed": "<5", "blocked": "<5", "remaining": "<5"}
            for locale, _button, _language, notice in PEOPLE:
                [message] = campaign_messages(await phone.bot_messages(people[locale]))
                assert message["text"] == f"{notice}\n\n{opt_out_line(locale)}"
            assert campaign_messages(await phone.bot_messages(booker)) == []

            # The reminder, due one to two minutes after the demo started; Confirm on it.
            reminder = await phone.wait_for_bot_message(
                booker, contains=t("Reminder of your appointment"), timeout=240
            )
            assert dates.time_label(slot, zoneinfo.ZoneInfo(OFFICE_ZONE), "en") in reminder["text"]
            thanks = t("Thank you for confirming. See you on {when}.").split("{when}")[0].strip()
            await tap_and_wait(phone, booker, "✅ " + t("Confirm"), thanks)

        async with sessionmaker() as session:
            answers = (await session.execute(select(Reminder.answer))).scalars().all()
            audited = (
                await session.execute(
                    select(func.count()).where(AuditEntry.action == "appointment.confirmed")
                )
            ).scalar_one()
        assert answers == ["confirmed"] and audited == 1
        async with httpx.AsyncClient(base_url=console, follow_redirects=True) as client:
            await console_login(client, demo_password)
            tab = BeautifulSoup((await client.get(f"/cases/{case_code}/appointments")).text, "lxml")
        [note] = [note.get_text(strip=True) for note in tab.select(".appointment-confirmed")]
        assert note.startswith("Confirmed by the person with a reminder")
    finally:
        await engine.dispose()
        process.send_signal(signal.SIGINT)
        output = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, output
    assert b"Traceback" not in output[0]
