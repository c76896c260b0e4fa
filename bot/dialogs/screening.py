"""Self-screening: the privacy notice, a preferred name, Annex 2 Q1–Q3 and the provisional result."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router, html
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.conversation import Conversation, FreshTap, clean_text, step
from bot.dialogs.interview import Interview
from bot.questionnaire import Questionnaire, too_long
from programme import consent
from programme.eligibility import is_eligible
from programme.forms import SCREENING
from programme.text import N_
from storage.journey import ensure_case, save_form_response
from storage.sealing import seal

NAME_LIMIT = 100
CONTINUE, SKIP = "continue", "skip"


class Screening(StatesGroup):
    privacy = State()
    name = State()
    questions = State()


# Dialog data: the step someone asked for before they had read the privacy notice, entered once
# they have (bot.dialogs.language.notice_first).
AFTER_NOTICE = "after_notice"


# ── privacy notice ──────────────────────────────────────────────────────────────────────────────


async def privacy_notice(conv: Conversation) -> str:
    """The notice before the first question: what happens to the answers, who is responsible, whom
    to ask, how long data is kept and the rights, from the same settings as the consent text."""
    intro = _(
        "<b>Before we start</b>\n\n"
        "We will ask a few short questions to see how the Integration Programme can help you.\n\n"
        "• We keep your answers encrypted.\n"
        "• Only the programme's caseworkers see them, to help you.\n"
        "• We do not share them with anyone without your consent.\n"
        "• You can stop at any time."
    )
    organisation = await conv.organisation()
    parts = consent.data_protection(
        _,
        _,
        controller=organisation.controller_in(conv.locale),
        contact=organisation.contact_in(conv.locale),
        retention=conv.config.retention,
    )
    return "\n\n".join([intro, parts["responsible"], parts["retention"], parts["rights"]])


@step(Screening.privacy)
async def ask_privacy(conv: Conversation) -> None:
    conv.say(await privacy_notice(conv), await conv.buttons([[(_("Continue"), CONTINUE)]]))


async def privacy_read(query: CallbackQuery, conv: Conversation) -> None:
    conv.close_keyboard(query)
    data = await conv.data()
    then = data.pop(AFTER_NOTICE, None)
    if then is None:
        await conv.go(Screening.name)
        return
    # Someone who came for another dialog first (bot.dialogs.language.notice_first) goes there now,
    # and comes back to the screening's next step when it ends.
    await conv.state.set_data(data)
    await conv.state.set_state(Screening.name)
    await conv.detour(then)


# ── preferred name ──────────────────────────────────────────────────────────────────────────────


@step(Screening.name, expects_text=True)
async def ask_name(conv: Conversation) -> None:
    conv.say(
        _("What name should we use for you? Write it below, or tap Skip."),
        await conv.buttons([[(_("Skip"), SKIP)]]),
    )


async def name_given(message: Message, conv: Conversation) -> None:
    name = clean_text(message.text or "")
    if not name:
        await ask_name(conv)
        return
    if len(name) > NAME_LIMIT:
        conv.say(too_long(NAME_LIMIT))
        return
    seal(conv.crypto, conv.beneficiary, "name_enc", name)
    conv.say(_("Thank you, {name}.").format(name=html.quote(name)))
    await QUESTIONNAIRE.start(conv)


async def name_skipped(query: CallbackQuery, conv: Conversation) -> None:
    conv.close_keyboard(query)
    await QUESTIONNAIRE.start(conv)


# ── Annex 2 questions (bot.questionnaire) and the result ────────────────────────────────────────


async def finish(conv: Conversation, answers: dict[str, Any]) -> None:
    eligible = is_eligible(answers)
    case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
    case.provisionally_eligible = eligible
    await save_form_response(
        conv.session,
        conv.crypto,
        case=case,
        form_id=SCREENING.id,
        form_version=SCREENING.version,
        answers=answers,
    )
    if eligible:
        conv.say(
            _(
                "Thank you! From your answers, the programme can probably help you.\n\n"
                "A caseworker will read your answers and write to you here to arrange a first meeting. "
                "Your case number is {code}."
            ).format(code=case.code)
        )
    else:
        conv.say(
            _(
                "Thank you for your answers.\n\n"
                "This programme may not fit your situation, but a caseworker will still read your answers "
                "and tell you what is possible and where else you can get help. "
                "Your case number is {code}."
            ).format(code=case.code)
        )
    await conv.go(Interview.offer)


QUESTIONNAIRE = Questionnaire(SCREENING, Screening.questions, N_("Question {number} of {total}"), finish)


def create_router() -> Router:
    router = Router(name="screening")
    router.callback_query.register(privacy_read, Screening.privacy, FreshTap(CONTINUE), F.message)
    router.message.register(name_given, Screening.name, F.text)
    router.callback_query.register(name_skipped, Screening.name, FreshTap(SKIP), F.message)
    QUESTIONNAIRE.register(router)
    return router
