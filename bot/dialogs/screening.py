"""Self-screening: the privacy notice, a preferred name, Annex 2 Q1–Q3 and the provisional result."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.conversation import Conversation, FreshTap, Journey, Row, Tap, keyboard, step
from bot.i18n import with_answer
from programme import consent
from programme.eligibility import is_eligible
from programme.forms import SCREENING, Kind, Question
from programme.text import N_
from storage.journey import ensure_case, save_form_response
from storage.sealing import seal
from texts.visible import clean_line

NAME_LIMIT = 100
CONTINUE, SKIP, DONE = "continue", "skip", "done"
QUESTIONS = SCREENING.bot_questions()


# ── privacy notice ──────────────────────────────────────────────────────────────────────────────


def privacy_notice(conv: Conversation) -> str:
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
    parts = consent.data_protection(
        _,
        _,
        controller=conv.config.data_controller,
        contact=conv.config.data_contact,
        retention=conv.config.retention,
    )
    return "\n\n".join([intro, parts["responsible"], parts["retention"], parts["rights"]])


@step(Journey.privacy)
async def ask_privacy(conv: Conversation) -> None:
    conv.say(privacy_notice(conv), await conv.buttons([[(_("Continue"), CONTINUE)]]))


async def privacy_read(query: CallbackQuery, conv: Conversation) -> None:
    conv.outgoing.answer_callback(query.id)
    conv.outgoing.edit_markup(conv.chat_id, query.message.message_id, None)
    await conv.go(Journey.name)


# ── preferred name ──────────────────────────────────────────────────────────────────────────────


@step(Journey.name, expects_text=True)
async def ask_name(conv: Conversation) -> None:
    conv.say(
        _("What name should we use for you? Write it below, or tap Skip."),
        await conv.buttons([[(_("Skip"), SKIP)]]),
    )


def clean_name(text: str) -> str:
    """One line of what the person typed: white space collapsed, bidi overrides and other invisible
    characters out, the joiners Persian and Urdu spelling needs kept (texts.visible)."""
    return clean_line(text)


async def name_given(message: Message, conv: Conversation) -> None:
    name = clean_name(message.text or "")
    if not name:
        await ask_name(conv)
        return
    if len(name) > NAME_LIMIT:
        conv.say(_("That is too long. Please write at most {limit} characters.").format(limit=NAME_LIMIT))
        return
    seal(conv.crypto, conv.beneficiary, "name_enc", name)
    conv.say(_("Thank you, {name}.").format(name=html.quote(name)))
    await start_questions(conv)


async def name_skipped(query: CallbackQuery, conv: Conversation) -> None:
    conv.outgoing.answer_callback(query.id)
    conv.outgoing.edit_markup(conv.chat_id, query.message.message_id, None)
    await start_questions(conv)


# ── Annex 2 questions ───────────────────────────────────────────────────────────────────────────


async def start_questions(conv: Conversation) -> None:
    await conv.state.update_data(q=QUESTIONS[0].id, answers={}, picked=[])
    await conv.go(Journey.screening)


def question_text(question: Question) -> str:
    number = QUESTIONS.index(question) + 1
    heading = _("Question {number} of {total}").format(number=number, total=len(QUESTIONS))
    return f"<i>{heading}</i>\n\n{_(question.prompt)}"


# Shorter button labels where a phone would cut the option's own (the answer is shown in full).
BUTTON_LABELS: dict[str, str] = {"orientation": N_("Planning and meetings")}


def question_rows(question: Question, picked: list[str]) -> list[Row]:
    if question.kind is Kind.YES_NO:
        return [[(_("Yes"), "yes"), (_("No"), "no")]]
    rows: list[Row] = [
        [
            (
                ("✅ " if option.value in picked else "▫️ ")
                + _(BUTTON_LABELS.get(option.value, option.label)),
                option.value,
            )
        ]
        for option in question.options
    ]
    rows.append([(_("Done"), DONE)])
    return rows


@step(Journey.screening)
async def ask_question(conv: Conversation) -> None:
    data = await conv.data()
    question = SCREENING.question(data["q"])
    conv.say(question_text(question), await conv.buttons(question_rows(question, data.get("picked", []))))


async def answered(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    data = await conv.data()
    question = SCREENING.question(data["q"])
    message_id = query.message.message_id
    if question.kind is Kind.MULTI and tap.value != DONE:
        await toggle(query, tap, conv, question, data)
        return
    if question.kind is Kind.MULTI:
        answer: str | list[str] = [
            option.value for option in question.options if option.value in data["picked"]
        ]
        if not answer:
            conv.outgoing.answer_callback(query.id, _("Choose at least one, then tap Done."), show_alert=True)
            return
        shown = ", ".join(_(option.label) for option in question.options if option.value in answer)
    elif tap.value in question.option_values():
        answer = tap.value
        shown = _("Yes") if answer == "yes" else _("No")
    else:
        conv.outgoing.answer_callback(query.id, _("Please choose one of the options."))
        return
    conv.outgoing.answer_callback(query.id)
    conv.outgoing.edit(conv.chat_id, message_id, with_answer(question_text(question), f"<b>{shown}</b>"))
    answers = {**data["answers"], question.id: answer}
    following = QUESTIONS.index(question) + 1
    if following < len(QUESTIONS):
        await conv.state.update_data(q=QUESTIONS[following].id, answers=answers, picked=[])
        await ask_question(conv)
    else:
        await finish(conv, answers)


async def toggle(query: CallbackQuery, tap: Tap, conv: Conversation, question: Question, data: dict) -> None:
    if tap.value not in question.option_values():
        conv.outgoing.answer_callback(query.id, _("Please choose one of the options."))
        return
    picked = list(data.get("picked", []))
    picked.remove(tap.value) if tap.value in picked else picked.append(tap.value)
    await conv.state.update_data(picked=picked)
    conv.outgoing.answer_callback(query.id)
    conv.outgoing.edit_markup(
        conv.chat_id, query.message.message_id, keyboard(tap.token, question_rows(question, picked))
    )


# ── result ──────────────────────────────────────────────────────────────────────────────────────


async def finish(conv: Conversation, answers: dict) -> None:
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
    await conv.state.update_data(q=None, answers=None, picked=None)
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
    await conv.go(Journey.interview_offer)


def create_router() -> Router:
    router = Router(name="screening")
    router.callback_query.register(privacy_read, Journey.privacy, FreshTap(CONTINUE), F.message)
    router.message.register(name_given, Journey.name, F.text)
    router.callback_query.register(name_skipped, Journey.name, FreshTap(SKIP), F.message)
    router.callback_query.register(answered, Journey.screening, FreshTap(), F.message)
    return router
