"""Dialogs saved under the states' former names (one `Journey` group) carry on after the rename."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import STEPS
from bot.fsm_storage import SqlStorage
from bot.renamed_states import RENAMED, current_name
from programme.figures import DIALOG_STATES, DIALOG_STEPS
from programme.forms import INTERVIEW, SCREENING
from sandbox.client import SandboxClient
from storage.crypto import Crypto
from storage.models import DialogState
from storage.queries import create_beneficiary
from tests.bot.conftest import BOT_ID

pytestmark = pytest.mark.slow

SCREENING_QUESTIONS = SCREENING.bot_questions()
INTERVIEW_QUESTIONS = INTERVIEW.bot_questions()


@dataclass(frozen=True)
class Saved:
    """A person saved at a former state: what /start re-asks, then one answer and where it leads."""

    data: dict[str, Any] = field(default_factory=dict)
    asked: str = ""  # a part of the step's question, asked again after /start
    press: str | None = None
    send: str | None = None
    then: str = ""  # a part of the bot's reply to the answer
    state: str = ""  # the state (today's name) the answer leads to


FIRST_SCREENING = {"q": SCREENING_QUESTIONS[0].id, "answers": {}, "picked": []}
FIRST_INTERVIEW = {"q": INTERVIEW_QUESTIONS[0].id, "answers": {}, "picked": [], "editing": False}
THE_LIST = Saved(asked="Your appointments", press="Close", state="Menu:main")

SAVED: dict[str, Saved] = {
    "Journey:language": Saved(
        asked="Choose your language", press="English", then="•", state="Screening:privacy"
    ),
    "Journey:privacy": Saved(
        asked="We keep your answers encrypted", press="Continue", then="What name", state="Screening:name"
    ),
    "Journey:name": Saved(
        asked="What name should we use", send="Amina", then="Thank you, Amina", state="Screening:questions"
    ),
    "Journey:screening": Saved(
        FIRST_SCREENING,
        asked=SCREENING_QUESTIONS[0].prompt,
        press="Yes",
        then=SCREENING_QUESTIONS[1].prompt,
        state="Screening:questions",
    ),
    "Journey:interview_offer": Saved(
        asked="more short questions", press="Later", then="answer them later", state="Menu:main"
    ),
    "Journey:interview": Saved(
        FIRST_INTERVIEW,
        asked=INTERVIEW_QUESTIONS[0].prompt,
        press="Skip ➡️",
        then=INTERVIEW_QUESTIONS[1].prompt,
        state="Interview:questions",
    ),
    "Journey:interview_summary": Saved(
        {"answers": {}}, asked="Please check your answers", press="✅ Send", then="saved", state="Consent:age"
    ),
    "Journey:consent_age": Saved(asked="18 years old", press="Yes", state="Consent:text"),
    "Journey:consent_text": Saved(
        asked="consent", press="I have read it", then="1 of 3", state="Consent:casework"
    ),
    "Journey:consent_casework": Saved(asked="1 of 3", press="Yes", then="2 of 3", state="Consent:publicity"),
    "Journey:consent_publicity": Saved(
        {"consent_casework": True},
        asked="2 of 3",
        press="No",
        then="3 of 3",
        state="Consent:third_party",
    ),
    # A side trip saved with its one place to return to: the end of it goes back there.
    "Journey:consent_third_party": Saved(
        {"consent_casework": True, "consent_publicity": "none", "return_to": "Journey:handoff_reason"},
        asked="3 of 3",
        press="No",
        then="What would you like to talk about?",
        state="Handoff:reason",
    ),
    "Journey:done": Saved(
        asked="Choose from the menu below",
        send="📅 Appointments",
        then="Your appointments",
        state="Appointments:overview",
    ),
    "Journey:handoff_reason": Saved(
        asked="What would you like to talk about?", press="Health", state="Handoff:conversation"
    ),
    "Journey:conversation": Saved(
        asked="Write your message below", send="Hello", then="Received", state="Handoff:conversation"
    ),
    "Journey:correction": Saved(
        {"return_to": "Journey:done"},
        asked="What is wrong",
        send="My name is spelt wrongly",
        then="A caseworker will correct it",
        state="Menu:main",
    ),
    "Journey:withdrawal": Saved(
        asked="You can stop taking part",
        send="I am moving away",
        then="stopped taking part",
        state="Menu:main",
    ),
    "Journey:deletion": Saved(
        {"delete_confirmations": 0, "return_to": "Journey:done"},
        asked="delete all your data",
        press="No, keep my data",
        then="Nothing was deleted",
        state="Menu:main",
    ),
    "Journey:appointments": Saved(
        {"return_to": "Journey:consent_age"},
        asked="Your appointments",
        press="Close",
        then="18 years old",
        state="Consent:age",
    ),
    # No office takes appointments in this test: the booking steps end as they always did.
    "Journey:appointment_type": Saved(asked="No office takes appointments", state="Menu:main"),
    "Journey:appointment_office": Saved(
        asked="Which office", press="⬅️ Back", then="No office takes appointments", state="Menu:main"
    ),
    "Journey:appointment_date": THE_LIST,
    "Journey:appointment_time": THE_LIST,
    "Journey:appointment_confirm": THE_LIST,
    "Journey:appointment_cancel": THE_LIST,
}


def test_every_former_state_is_read_as_a_step_that_exists() -> None:
    assert set(SAVED) == set(RENAMED)
    # One to one: no step lost, none merged; only dialogs added after the rename have no former name.
    added_since = {step for step in STEPS if step.startswith("Feedback:")}
    assert set(RENAMED.values()) == set(STEPS) - added_since
    assert current_name(None) is None and current_name("Menu:main") == "Menu:main"


def test_the_figures_count_the_steps_by_both_names() -> None:
    for step, _label in DIALOG_STEPS:
        today, former = DIALOG_STATES[step]
        assert today in STEPS and RENAMED[former] == today


async def save_at(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, user: int, state: str, data: dict
) -> None:
    """A person as the bot before the rename left them: the former state name, written as is."""
    async with sessionmaker() as session, session.begin():
        person = await create_beneficiary(session, crypto, telegram_id=user)
        person.language = "en"
    storage = SqlStorage(sessionmaker, crypto)
    key = StorageKey(bot_id=BOT_ID, chat_id=user, user_id=user)
    await storage.set_state(key, state)
    await storage.set_data(key, json.loads(json.dumps(data)))


@pytest.mark.parametrize("former", list(SAVED))
async def test_a_person_saved_at_a_former_state_carries_on_from_it(
    former: str,
    phone: SandboxClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
) -> None:
    saved = SAVED[former]
    user = await phone.create_user(language_code="en")
    await save_at(sessionmaker, crypto, user, former, saved.data)

    await phone.send_text(user, "/start")
    await phone.wait_for_bot_message(user, contains=saved.asked)
    await phone.wait_idle(user)
    if saved.press is not None:
        answer = await phone.press_for_answer(user, label=saved.press)
        assert not answer.get("text"), answer  # not "no longer active" nor "choose one of the options"
    if saved.send is not None:
        await phone.send_text(user, saved.send)
    if saved.then:
        await phone.wait_for_bot_message(user, contains=saved.then)
    await phone.wait_idle(user)

    async with sessionmaker() as session:
        rows = (await session.execute(select(DialogState.state))).scalars().all()
    assert saved.state in rows  # written under today's name
    assert not any(row.startswith("Journey:") for row in rows)
