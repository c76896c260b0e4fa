"""The telephone interview (Annex 5) as self-service: step n of N, Back, Skip, a summary with Edit."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.types import CallbackQuery, KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from bot.conversation import Conversation, FreshTap, Journey, Row, Tap, keyboard, step
from bot.dialogs.screening import clean_name
from bot.i18n import with_answer
from programme import priority
from programme.forms import INTERVIEW, InvalidAnswer, Kind, Question, clean_answer
from storage.journey import ensure_case, save_form_response
from storage.sealing import seal

QUESTIONS = INTERVIEW.bot_questions()
START, LATER, BACK, SKIP, DONE, SUBMIT, EDIT = "start", "later", "back", "skip", "done", "submit", "edit"


# ── the offer after screening ───────────────────────────────────────────────────────────────────


@step(Journey.interview_offer)
async def ask_offer(conv: Conversation) -> None:
    conv.say(
        _(
            "Can you answer {count} more short questions? It takes about two minutes and helps the "
            "caseworker prepare. You can skip any question."
        ).format(count=len(QUESTIONS)),
        await conv.buttons([[(_("Start"), START), (_("Later"), LATER)]]),
    )


async def offer_chosen(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    conv.outgoing.answer_callback(query.id)
    conv.outgoing.edit_markup(conv.chat_id, query.message.message_id, None)
    if tap.value == START:
        await begin(conv)
    else:
        conv.say(_("All right. You can answer them later with /interview."))
        await conv.go(Journey.done)


async def begin_command(message: Message, conv: Conversation) -> None:
    await begin(conv)


async def begin(conv: Conversation) -> None:
    await conv.state.update_data(q=QUESTIONS[0].id, answers={}, picked=[], editing=False)
    await conv.go(Journey.interview)


# ── one question ────────────────────────────────────────────────────────────────────────────────


def question_text(question: Question) -> str:
    heading = _("Step {number} of {total}").format(number=QUESTIONS.index(question) + 1, total=len(QUESTIONS))
    return f"<i>{heading}</i>\n\n{_(question.prompt)}"


def option_rows(question: Question, picked: list[str]) -> list[Row]:
    if question.kind is Kind.YES_NO:
        return [[(_("Yes"), "yes"), (_("No"), "no")]]
    if question.kind is Kind.CHOICE:
        return [[(_(option.label), option.value)] for option in question.options]
    if question.kind is Kind.MULTI:
        rows: list[Row] = [
            [(("✅ " if option.value in picked else "▫️ ") + _(option.label), option.value)]
            for option in question.options
        ]
        return [*rows, [(_("Done"), DONE)]]
    return []


def question_rows(question: Question, picked: list[str]) -> list[Row]:
    return [*option_rows(question, picked), [(_("⬅️ Back"), BACK), (_("Skip ➡️"), SKIP)]]


@step(Journey.interview, expects_text=True)
async def ask_question(conv: Conversation) -> None:
    data = await conv.data()
    question = INTERVIEW.question(data["q"])
    conv.say(question_text(question), await conv.buttons(question_rows(question, data.get("picked", []))))
    if question.kind is Kind.PHONE:
        share = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="📱 " + _("Share my phone number"), request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        conv.say(_("Or tap the button below."), share)


async def tapped(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    data = await conv.data()
    question = INTERVIEW.question(data["q"])
    if tap.value == BACK:
        conv.outgoing.answer_callback(query.id)
        await move(conv, data, question, step=-1)
    elif tap.value == SKIP:
        conv.outgoing.answer_callback(query.id)
        skipped = _("Skipped")
        conv.outgoing.edit(
            conv.chat_id, query.message.message_id, with_answer(question_text(question), f"<i>{skipped}</i>")
        )
        answers = {key: value for key, value in data["answers"].items() if key != question.id}
        await move(conv, {**data, "answers": answers}, question, step=1)
    elif question.kind is Kind.MULTI and tap.value != DONE:
        await toggle(query, tap, conv, question, data)
    else:
        value: Any = data.get("picked", []) if question.kind is Kind.MULTI else tap.value
        try:
            answer = clean_answer(question, value)
        except InvalidAnswer:
            conv.outgoing.answer_callback(query.id, _("Please choose one of the options."))
            return
        conv.outgoing.answer_callback(query.id)
        conv.outgoing.edit(
            conv.chat_id,
            query.message.message_id,
            with_answer(question_text(question), f"<b>{shown(question, answer)}</b>"),
        )
        await move(conv, {**data, "answers": {**data["answers"], question.id: answer}}, question, step=1)


async def toggle(
    query: CallbackQuery, tap: Tap, conv: Conversation, question: Question, data: dict[str, Any]
) -> None:
    if tap.value not in question.option_values():
        conv.outgoing.answer_callback(query.id, _("Please choose one of the options."))
        return
    picked = [value for value in data.get("picked", []) if value != tap.value]
    if len(picked) == len(data.get("picked", [])):
        picked.append(tap.value)
    await conv.state.update_data(picked=picked)
    conv.outgoing.answer_callback(query.id)
    conv.outgoing.edit_markup(
        conv.chat_id, query.message.message_id, keyboard(tap.token, question_rows(question, picked))
    )


async def typed(message: Message, conv: Conversation) -> None:
    data = await conv.data()
    question = INTERVIEW.question(data["q"])
    if question.kind not in (Kind.TEXT, Kind.NUMBER, Kind.PHONE):
        conv.say(_("Please tap one of the buttons."))
        await ask_question(conv)
        return
    if message.text is None and (message.contact is None or question.kind is not Kind.PHONE):
        conv.say(_("Please send your answer as text."))
        return
    raw = message.contact.phone_number if message.contact else clean_name(message.text or "")
    try:
        answer = clean_answer(question, raw)
    except InvalidAnswer:
        conv.say(invalid_hint(question))
        return
    if question.kind is Kind.PHONE:
        # A typed number leaves the share-contact keyboard up (Telegram hides it only when tapped).
        conv.say(_("Phone number saved: {phone}").format(phone=answer), ReplyKeyboardRemove())
    await move(conv, {**data, "answers": {**data["answers"], question.id: answer}}, question, step=1)


def invalid_hint(question: Question) -> str:
    if question.kind is Kind.NUMBER:
        return _("Please write a number from {minimum} to {maximum}.").format(
            minimum=question.minimum, maximum=question.maximum
        )
    if question.kind is Kind.PHONE:
        return _(
            "That does not look like a phone number. "
            "Please write it with the country code, for example +994 50 123 45 67."
        )
    return _("That is too long. Please write at most {limit} characters.").format(limit=question.max_length)


async def move(conv: Conversation, data: dict[str, Any], question: Question, *, step: int) -> None:
    position = QUESTIONS.index(question) + step
    if data.get("editing") or position >= len(QUESTIONS):
        await conv.state.update_data(answers=data["answers"], picked=[], editing=False)
        await conv.go(Journey.interview_summary)
        return
    following = QUESTIONS[max(position, 0)]
    picked = list(data["answers"].get(following.id, [])) if following.kind is Kind.MULTI else []
    await conv.state.update_data(q=following.id, answers=data["answers"], picked=picked)
    await ask_question(conv)


def shown(question: Question, answer: Any) -> str:
    """An answer as the person reads it, escaped: free text is theirs."""
    if question.kind is Kind.YES_NO:
        return _("Yes") if answer == "yes" else _("No")
    labels = {option.value: _(option.label) for option in question.options}
    if question.kind is Kind.MULTI:
        return ", ".join(labels[value] for value in answer) or _("None of these")
    if question.kind is Kind.CHOICE:
        return labels[answer]
    return html.quote(str(answer))


def shown_or_dash(question: Question, answers: dict[str, Any]) -> str:
    return shown(question, answers[question.id]) if question.id in answers else "—"


# ── summary, edit, submit ───────────────────────────────────────────────────────────────────────


@step(Journey.interview_summary)
async def ask_summary(conv: Conversation) -> None:
    answers = (await conv.data())["answers"]
    lines = [f"• {_(question.short_label)}: {shown_or_dash(question, answers)}" for question in QUESTIONS]
    text = _("<b>Please check your answers</b>") + "\n\n" + "\n".join(lines)
    conv.say(
        text, await conv.buttons([[("✅ " + _("Send"), SUBMIT)], [("✏️ " + _("Change an answer"), EDIT)]])
    )


async def summary_tapped(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    conv.outgoing.answer_callback(query.id)
    if tap.value == SUBMIT:
        conv.outgoing.edit_markup(conv.chat_id, query.message.message_id, None)
        await submit(conv)
    elif tap.value == EDIT:
        rows = [[(_(question.short_label), f"{EDIT}.{question.id}")] for question in QUESTIONS]
        conv.outgoing.edit_markup(conv.chat_id, query.message.message_id, keyboard(tap.token, rows))
    elif tap.value.removeprefix(f"{EDIT}.") in {question.id for question in QUESTIONS}:
        question_id = tap.value.removeprefix(f"{EDIT}.")
        answers = (await conv.data())["answers"]
        picked = (
            list(answers.get(question_id, [])) if INTERVIEW.question(question_id).kind is Kind.MULTI else []
        )
        await conv.state.update_data(q=question_id, editing=True, picked=picked)
        await conv.go(Journey.interview)


async def submit(conv: Conversation) -> None:
    answers = (await conv.data())["answers"]
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
        seal(conv.crypto, conv.beneficiary, "phone_enc", answers["phone"])
    await conv.state.update_data(answers=None, q=None, picked=None, editing=None)
    conv.say(_("Thank you! Your answers are saved."))
    await conv.go(Journey.consent_age)


def create_router() -> Router:
    router = Router(name="interview")
    router.callback_query.register(offer_chosen, Journey.interview_offer, FreshTap(START, LATER), F.message)
    router.message.register(begin_command, Command("interview"))
    router.callback_query.register(tapped, Journey.interview, FreshTap(), F.message)
    router.message.register(typed, Journey.interview)
    router.callback_query.register(summary_tapped, Journey.interview_summary, FreshTap(), F.message)
    return router
