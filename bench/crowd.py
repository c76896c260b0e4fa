"""Many simulated people at once on the sandbox: the screening dialog (or an echo chat) per person.

One long poll of the sandbox's change feed serves the whole crowd, and a person reads their chat
only when it changed: a poll per person would cost more than the bot being measured. A person who
hears nothing for `patience` seconds sends /start, as people do, which re-asks the current step;
what they did is never repeated, so a lost update shows up as a dialog that does not finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiogram.utils.i18n import I18n

from programme.forms import SCREENING

Transcript = dict[str, Any]
Condition = Callable[[Transcript], bool]


@dataclass(frozen=True)
class Step:
    """One thing a person does, and what tells them the bot has answered it."""

    kind: str  # "send" (a text) or "press" (a button label)
    value: str
    answered: Condition


@dataclass
class Person:
    user_id: int
    actions: list[float] = field(default_factory=list)  # time.monotonic() of each action
    nudges: int = 0
    finished: bool = False
    error: str | None = None


def bot_texts(transcript: Transcript) -> list[str]:
    return [m["text"] for m in transcript["messages"] if m["from"] == "bot" and not m["deleted"]]


def has_text(fragment: str) -> Condition:
    return lambda transcript: any(fragment in text for text in bot_texts(transcript))


def has_button(label: str, *, on: str | None = None) -> Condition:
    """A live bot message (the newest one containing `on`, if given) shows a button `label`."""

    def check(transcript: Transcript) -> bool:
        messages = [m for m in transcript["messages"] if m["from"] == "bot" and not m["deleted"]]
        if on is not None:
            messages = [m for m in messages if on in m["text"]][-1:]
        return any(
            button.get("text") == label
            for message in messages
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for button in row
        )

    return check


def bot_message_count(count: int) -> Condition:
    return lambda transcript: len(bot_texts(transcript)) >= count


def screening_steps(i18n: I18n, name: str, locale: str = "en") -> list[Step]:
    """The screening dialog as a person answering yes, yes and two directions goes through it."""

    def t(msgid: str) -> str:
        return i18n.gettext(msgid, locale=locale)

    q1, q2, q3 = (t(question.prompt) for question in SCREENING.bot_questions())
    language, work = (t(label) for label in ("Learning the Azerbaijani language", "Work and education"))
    return [
        Step("send", "/start", has_text("🌐")),
        Step("press", "English", has_button(t("Continue"))),
        Step(
            "press",
            t("Continue"),
            has_text(t("What name should we use for you? Write it below, or tap Skip.")),
        ),
        Step("send", name, has_text(q1)),
        Step("press", t("Yes"), has_text(q2)),
        Step("press", t("Yes"), has_text(q3)),
        Step("press", "▫️ " + language, has_button("✅ " + language, on=q3)),
        Step("press", "▫️ " + work, has_button("✅ " + work, on=q3)),
        Step("press", t("Done"), has_text("IP-")),
    ]


def echo_steps(count: int) -> list[Step]:
    """A chat with an echo bot: each message is answered by one message."""
    return [Step("send", f"message {number}", bot_message_count(number)) for number in range(1, count + 1)]


class Crowd:
    """Drives people through their steps on one bot of a running sandbox."""

    def __init__(self, sandbox_url: str, bot_id: int, *, patience: float = 60.0, max_nudges: int = 3) -> None:
        self._api = f"{sandbox_url.rstrip('/')}/sandbox/api"
        self._bot = f"{self._api}/bots/{bot_id}"
        self._patience = patience
        self._max_nudges = max_nudges
        self._changed: dict[int, asyncio.Event] = {}
        self._http: aiohttp.ClientSession | None = None
        self.steps_done = 0

    async def __aenter__(self) -> Crowd:
        # Enough connections for every person's request at once: the pool must not be what is measured.
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._http is not None:
            await self._http.close()

    async def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        assert self._http is not None
        async with self._http.request(method, url, **kwargs) as answer:
            body = await answer.json(content_type=None)
            if answer.status >= 400:
                raise RuntimeError(f"{method} {url.removeprefix(self._api)} -> {answer.status}: {body}")
            return body

    async def create_people(self, count: int, language_code: str = "en") -> list[Person]:
        people = []
        for number in range(count):
            user = await self._call(
                "POST",
                f"{self._api}/users",
                json={"first_name": f"P{number}", "language_code": language_code},
            )
            people.append(Person(user["id"]))
        return people

    async def _watch(self) -> None:
        seq = (await self._call("GET", f"{self._bot}/events", params={"after": "-1", "timeout": "0"}))["seq"]
        while True:
            changes = await self._call(
                "GET", f"{self._bot}/events", params={"after": str(seq), "timeout": "20"}
            )
            seq = changes["seq"]
            for user_id in changes["user_ids"]:
                event = self._changed.get(user_id)
                if event is not None:
                    event.set()

    async def transcript(self, user_id: int) -> Transcript:
        return await self._call("GET", f"{self._bot}/users/{user_id}/transcript")

    async def _act(self, person: Person, step: Step) -> None:
        path = f"{self._bot}/users/{person.user_id}"
        if step.kind == "send":
            await self._call("POST", f"{path}/messages", json={"text": step.value})
        else:
            await self._call("POST", f"{path}/press", json={"text": step.value})

    async def _wait_for(self, person: Person, condition: Condition) -> bool:
        changed = self._changed[person.user_id]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._patience
        while True:
            changed.clear()
            if condition(await self.transcript(person.user_id)):
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def _go_through(self, person: Person, steps: list[Step], think: float) -> None:
        self._changed[person.user_id] = asyncio.Event()
        # Paced people act as people do, independently: each starts somewhere in the first `think`
        # seconds and pauses a random time averaging `think` (exponential, so the crowd's actions
        # arrive as a Poisson stream of about N/think per second). Equal pauses would keep the
        # whole crowd in step, one burst of N updates every `think` seconds. Seeded per person.
        pauses = random.Random(person.user_id)  # noqa: S311 - a load shape, not a secret
        try:
            if think:
                await asyncio.sleep(pauses.uniform(0, think))
            for number, step in enumerate(steps):
                if think and number:
                    await asyncio.sleep(pauses.expovariate(1 / think))
                person.actions.append(time.monotonic())
                await self._act(person, step)
                while not await self._wait_for(person, step.answered):
                    if person.nudges >= self._max_nudges:
                        person.error = f"no answer to {step.kind} {step.value!r}"
                        return
                    person.nudges += 1
                    await self._act(person, Step("send", "/start", step.answered))
                self.steps_done += 1
            person.finished = True
        except (aiohttp.ClientError, RuntimeError) as error:
            person.error = str(error)
        finally:
            self._changed.pop(person.user_id, None)

    async def run(
        self, people: list[Person], steps_of: Callable[[Person], list[Step]], *, think: float = 0.0
    ) -> float:
        """Everyone goes through their steps at once; returns the wall-clock seconds it took."""
        watcher = asyncio.create_task(self._watch())
        await asyncio.sleep(0.05)  # the watcher's first look at the feed comes before any action
        started = time.monotonic()
        try:
            await asyncio.gather(*(self._go_through(person, steps_of(person), think) for person in people))
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
                await watcher
        return time.monotonic() - started

    async def flood(self, person: Person, *, per_second: float = 30.0, at_most: int = 20_000) -> int:
        """Messages from `person` at `per_second` (about what a Telegram client lets one account
        send) without waiting for answers, until cancelled (or `at_most`); how many were sent.
        Paced, not as fast as the loopback allows: the flood must load the bot, not the sandbox
        and the crowd that share this process."""
        sent = 0
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            while sent < at_most:
                await self._act(person, Step("send", f"flood {sent}", lambda _: True))
                sent += 1
                await asyncio.sleep(max(0.0, started + sent / per_second - loop.time()))
        except (asyncio.CancelledError, aiohttp.ClientError, RuntimeError):
            pass
        return sent

    async def call_log(self) -> list[dict[str, Any]]:
        return await self._call("GET", f"{self._bot}/log")

    async def clear_call_log(self) -> None:
        await self._call("DELETE", f"{self._bot}/log")


ANSWER_METHODS = frozenset(
    {"sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery"}
)


def step_latencies(people: list[Person], call_log: list[dict[str, Any]]) -> list[float]:
    """Seconds from each action to the bot's last answering call before the person's next action.

    The sandbox stamps calls with time.monotonic() when it receives them; that clock is the same
    for every process on the machine, so it compares with the actions' stamps.
    """
    calls: dict[int, list[float]] = {}
    for call in call_log:
        if call["method"] in ANSWER_METHODS and isinstance(call["chat_id"], int):
            calls.setdefault(call["chat_id"], []).append(call["t"])
    latencies = []
    for person in people:
        if person.nudges:
            continue  # a nudge's answers would be mistaken for the step's
        times = sorted(calls.get(person.user_id, []))
        bounds = [*person.actions, float("inf")]
        for acted, following in itertools.pairwise(bounds):
            answers = [at for at in times if acted <= at < following]
            if answers:
                latencies.append(max(answers) - acted)
    return latencies
