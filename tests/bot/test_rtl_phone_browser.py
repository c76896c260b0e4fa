"""The web phone in Persian, Pashto and Urdu, in Chromium: a phone number, a time and a case code
read whole and where the sentence puts them, and Back points the way a right-to-left reader goes
back. Checked in the DOM, from where the browser lays out each character (not from pixels); a
screenshot of each language's chat is kept in the test's tmp path for a person to look at.

The person is screened through the sandbox's API, then everything the screen shows is done on the
web phone: the interview's first step (a typed phone number), a message to a caseworker while the
office is closed (the time it opens) and /start (the case number again, before the step they were
on).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import BotConfig
from programme.organisation import Organisation
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from storage.models import Case, utcnow
from tests.bot.conftest import BOT_ID
from tests.bot.test_journey import prompt, screened
from tests.bot.test_screening import Translate
from tests.console.browser import BROWSER_TEST, chromium
from texts.bidi import without_controls
from wording import dates

pytestmark = BROWSER_TEST

BAKU = zoneinfo.ZoneInfo("Asia/Baku")
PHONE = "+994501234567"
# A phone's width, tall enough that the whole chat shows at once.
VIEWPORT = {"width": 420, "height": 1800}


def hours() -> Organisation:
    """Open one hour on the day three days from now only: closed whatever the time of the test."""
    weekday = (utcnow().astimezone(BAKU).weekday() + 3) % 7
    return Organisation(hours={weekday: ((dt.time(10), dt.time(11)),)})


@pytest.fixture
def bot_config() -> BotConfig:
    return BotConfig(data_controller="Bridge Aid Association", office_hours=hours().hours, flood=None)


# Where the browser lays out a value found in the chat's last message that holds it: the left edge
# of each of its characters, and of the nearest right-to-left letter before and after it on the
# same line (null if there is none there).
LAYOUT = """([needle, boxes]) => {
  const texts = [];
  for (const box of document.querySelectorAll(boxes)) {
    const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) texts.push(walker.currentNode);
  }
  const node = texts.reverse().find(text => text.data.includes(needle));
  if (!node) return null;
  const range = document.createRange();
  const rect = at => { range.setStart(node, at); range.setEnd(node, at + 1); return range.getBoundingClientRect(); };
  const start = node.data.lastIndexOf(needle), end = start + needle.length;
  const chars = [...Array(needle.length).keys()].map(offset => rect(start + offset));
  const line = chars[0].top;
  const rtl = /[\\u0590-\\u08FF]/;
  const near = (from, step) => {
    for (let at = from; at >= 0 && at < node.data.length; at += step) {
      if (node.data[at] === "\\n") return null;
      if (rtl.test(node.data[at])) {
        const box = rect(at);
        return Math.abs(box.top - line) < 2 ? box.left : null;
      }
    }
    return null;
  };
  return {
    lefts: chars.map(box => box.left), tops: chars.map(box => box.top),
    right: Math.max(...chars.map(box => box.right)), left: Math.min(...chars.map(box => box.left)),
    before: near(start - 1, -1), after: near(end, 1),
  };
}"""

# The Back button of the last keyboard: its text, where its arrow and its word are, and where the
# other buttons of its row are.
BACK = """([word]) => {
  const buttons = [...document.querySelectorAll("#messages .keyboard-row button")];
  const back = buttons.reverse().find(button => button.textContent.includes(word));
  const text = back.firstChild, range = document.createRange();
  const rect = (at, length) => { range.setStart(text, at); range.setEnd(text, at + length); return range.getBoundingClientRect(); };
  const arrow = [...text.data].findIndex(char => "\\u2190\\u2192\\u27A1\\u2B05".includes(char));
  const at = text.data.indexOf(word);
  return {
    text: text.data, arrow: rect(arrow, 1).left, word: rect(at, word.length).left,
    button: back.getBoundingClientRect().left,
    others: [...back.parentElement.children].filter(other => other !== back).map(other => other.getBoundingClientRect().left),
  };
}"""


async def shown(page: Any, text: str) -> None:
    """Wait until the web phone shows `text` (marks and isolates aside)."""
    await page.wait_for_function(
        """([wanted]) => document.querySelector("#messages").textContent
             .replace(/[\\u200e\\u200f\\u061c\\u2066-\\u2069]/g, "").includes(wanted)""",
        arg=[without_controls(text)],
    )


async def type_in(page: Any, text: str) -> None:
    await page.locator("#text").fill(text)
    await page.locator("#send").click()


def read_whole_in_place(layout: dict[str, Any] | None, value: str) -> None:
    """`value` drawn left to right on one line, and after (left of) the words before it and before
    (right of) the words after it, as a right-to-left sentence places it."""
    assert layout is not None, value
    assert len(set(layout["tops"])) == 1, value
    assert layout["lefts"] == sorted(layout["lefts"]) and len(set(layout["lefts"])) == len(value), value
    assert layout["before"] is not None or layout["after"] is not None, value
    assert layout["before"] is None or layout["before"] > layout["right"] - 1, value
    assert layout["after"] is None or layout["after"] < layout["left"], value


@pytest.mark.parametrize(("locale", "label"), [("fa", "فارسی / دری"), ("ps", "پښتو"), ("ur", "اردو")])
async def test_a_right_to_left_reader_sees_numbers_times_and_codes_whole_and_back_pointing_back(
    phone: SandboxClient,
    sandbox: SandboxServer,
    t: Translate,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    locale: str,
    label: str,
) -> None:
    user = await screened(phone, t, locale=locale, label=label)
    async with sessionmaker() as session:
        code = (await session.execute(select(Case.code))).scalar_one()
    opening = hours().next_opening(utcnow(), BAKU)
    assert opening is not None
    time = dates.time_label(opening, BAKU, locale)
    digits = re.search(r"[0-9][0-9:]*", time)
    assert digits is not None
    async with chromium() as browser:
        context = await browser.new_context(viewport=VIEWPORT, locale=locale)
        page = await context.new_page()
        page.set_default_timeout(15_000)
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        await page.goto(f"{sandbox.url}/?bot={BOT_ID}")
        await shown(page, t("Start", locale))
        await page.locator("#messages button", has_text=t("Start", locale)).last.click()
        await shown(page, prompt(t, "phone", locale))
        await type_in(page, "+994 50 123 45 67")
        await shown(page, prompt(t, "interpreter", locale))
        await type_in(page, "/caseworker")
        await shown(page, t("What would you like to talk about?", locale))
        await page.locator("#messages button", has_text=t("Housing", locale)).last.click()
        await shown(page, t("Our office is closed now. A caseworker will answer from {when}.", locale)[:12])
        await type_in(page, "/start")
        await shown(page, t("Welcome back! Let's continue where you stopped.", locale))
        await phone.wait_idle(user)
        await page.locator("#messages").evaluate("list => { list.scrollTop = list.scrollHeight; }")
        await page.screenshot(path=str(tmp_path / f"web-phone-{locale}.png"))

        bubbles = "#messages .message.bot .bubble"
        for value in (PHONE, code, digits.group(0)):
            read_whole_in_place(await page.evaluate(LAYOUT, [value, bubbles]), value)
        # The time follows the weekday (and Urdu's part of the day) that comes before it.
        when = await page.evaluate(LAYOUT, [digits.group(0), bubbles])
        assert when["before"] is not None and when["before"] > when["right"] - 1

        word = without_controls(t("⬅️ Back", locale)).strip("⬅➡️ ")
        back = await page.evaluate(BACK, [word])
        await context.close()
    # Mirrored: the arrow points right, drawn at the right of the word, and Back is the row's
    # rightmost button, where a right-to-left reader's "back" is.
    assert "➡" in back["text"] and "⬅" not in back["text"]
    assert back["arrow"] > back["word"]
    assert back["others"] and all(other < back["button"] for other in back["others"])
    assert problems == []
