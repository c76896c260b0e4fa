"""The telephone interview (Annex 5) as self-service: step n of N, Back, Skip, a summary with Edit."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.conversation import Conversation, FreshTap, step
from bot.dialogs.consent import Consent
from bot.dialogs.menu import Menu
from bot.questionnaire import Questionnaire
from programme import priority
from programme.forms import INTERVIEW
from programme.text import N_
from storage import phone
from storage.journey import ensure_case, save_form_response
from wording.taps import Tap

START, LATER = "start", "later"


class Interview(StatesGroup):
    offer = State()
    questions = State()
    summary = State()


# ── the offer after screening ───────────────────────────────────────────────────────────────────


@step(Interview.offer)
async def ask_offer(conv: Conversation) -> None:
    conv.say(
        _(
            "Can you answer {count} more short question? It takes about two minutes and helps the "
            "caseworker prepare. You can skip any question.",
            "Can you answer {count} more short questions? It takes about two minutes and helps the "
            "caseworker prepare. You can skip any question.",
            len(QUESTIONNAIRE.questions),
        ).format(count=len(QUESTIONNAIRE.questions)),
        await conv.buttons([[(_("Start"), START), (_("Later"), LATER)]]),
    )


async def offer_chosen(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    conv.close_keyboard(query)
    if tap.value == START:
        await begin(conv)
    else:
        conv.say(_("All right. You can answer them later with /interview."))
        await conv.go(Menu.main)


async def begin_command(message: Message, conv: Conversation) -> None:
    await begin(conv)


async def begin(conv: Conversation) -> None:
    await QUESTIONNAIRE.start(conv)


# ── the questions, and what is done with the answers ────────────────────────────────────────────


async def submit(conv: Conversation, answers: dict[str, Any]) -> None:
    case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
    await save_form_response(
        conv.session,
        conv.crypto,
        case=case,
        form_id=INTERVIEW.id,
        form_version=INTERVIEW.version,
        answers=answers,
    )
    if priority.from_bot(under_18=False, interview=answers):
        case.priority = True
    if "phone" in answers:
        phone.set_phone(conv.crypto, conv.beneficiary, answers["phone"])
    conv.say(_("Thank you! Your answers are saved."))
    await conv.go(Consent.age)


QUESTIONNAIRE = Questionnaire(
    INTERVIEW, Interview.questions, N_("Step {number} of {total}"), submit, summary=Interview.summary
)


def create_router() -> Router:
    router = Router(name="interview")
    router.callback_query.register(offer_chosen, Interview.offer, FreshTap(START, LATER), F.message)
    router.message.register(begin_command, Command("interview"))
    QUESTIONNAIRE.register(router)
    return router
