"""One runner for the questionnaire dialogs: a form from programme.forms asked one question at a time.

The screening (Annex 2) and the interview (Annex 5) both walk their form's `bot_questions()` with a
`Questionnaire`: each question's keyboard follows from its kind (Yes/No, one choice, several ticked
then Done), typed answers are checked by `clean_answer`, and a given answer is shown under its
question. A questionnaire with a summary also offers Back and Skip on every question, and a summary
with Edit before its answers go. The dialog data holds the question asked (`q`), the answers so far,
the options ticked (`picked`) and whether an answer is being changed from the summary (`editing`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import F, Router, html
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from bot.conversation import Conversation, FreshTap, Row, clean_text, keyboard, step
from bot.i18n import with_answer
from programme.forms import Form, InvalidAnswer, Kind, Question, clean_answer
from programme.text import N_
from wording.languages import listed
from wording.taps import Tap

BACK, SKIP, DONE, SUBMIT, EDIT = "back", "skip", "done", "submit", "edit"
TYPED = (Kind.TEXT, Kind.NUMBER, Kind.PHONE)
Done = Callable[[Conversation, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Questionnaire:
    form: Form
    asking: State  # the state while a question is asked
    heading: str  # a msgid with {number} and {total}
    done: Done  # given the answers once all are given (and, with a summary, sent)
    summary: State | None = None  # with one: Back, Skip, and a summary with Edit
    questions: tuple[Question, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "questions", self.form.bot_questions())
        step(self.asking, expects_text=any(q.kind in TYPED for q in self.questions))(self.ask)
        if self.summary is not None:
            step(self.summary)(self.ask_summary)

    def register(self, router: Router) -> None:
        router.callback_query.register(self.tapped, self.asking, FreshTap(), F.message)
        router.message.register(self.typed, self.asking)
        if self.summary is not None:
            router.callback_query.register(self.summary_tapped, self.summary, FreshTap(), F.message)

    async def start(self, conv: Conversation) -> None:
        await conv.state.update_data(q=self.questions[0].id, answers={}, picked=[], editing=False)
        await conv.go(self.asking)

    # ── one question ────────────────────────────────────────────────────────────────────────────

    def text(self, question: Question) -> str:
        number = self.questions.index(question) + 1
        heading = _(self.heading).format(number=number, total=len(self.questions))
        return f"<i>{heading}</i>\n\n{_(question.prompt)}"

    def rows(self, question: Question, picked: list[str]) -> list[Row]:
        rows = option_rows(question, picked)
        if self.summary is not None:
            rows.append([(_("⬅️ Back"), BACK), (_("Skip ➡️"), SKIP)])
        return rows

    async def ask(self, conv: Conversation) -> None:
        data = await conv.data()
        question = self.form.question(data["q"])
        conv.say(self.text(question), await conv.buttons(self.rows(question, data.get("picked", []))))
        if question.kind is Kind.PHONE:
            share = ReplyKeyboardMarkup(
                keyboard=[[KeyboardButton(text="📱 " + _("Share my phone number"), request_contact=True)]],
                resize_keyboard=True,
                one_time_keyboard=True,
            )
            conv.say(_("Or tap the button below."), share)

    async def tapped(self, query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
        data = await conv.data()
        question = self.form.question(data["q"])
        if self.summary is not None and tap.value in (BACK, SKIP):
            conv.outgoing.answer_callback(query.id)
            if tap.value == SKIP:
                self.show_answer(conv, query, question, "<i>" + _("Skipped") + "</i>")
                data["answers"] = {key: value for key, value in data["answers"].items() if key != question.id}
            await self.move(conv, data, question, step=-1 if tap.value == BACK else 1)
        elif question.kind is Kind.MULTI and tap.value != DONE:
            await self.toggle(query, tap, conv, question, data.get("picked", []))
        else:
            await self.choose(query, tap, conv, question, data)

    async def choose(
        self, query: CallbackQuery, tap: Tap, conv: Conversation, question: Question, data: dict[str, Any]
    ) -> None:
        value: Any = data.get("picked", []) if question.kind is Kind.MULTI else tap.value
        try:
            answer = clean_answer(question, value)
        except InvalidAnswer:
            if question.kind is Kind.MULTI:  # Done with nothing ticked, where one is needed
                conv.outgoing.answer_callback(
                    query.id, _("Choose at least one, then tap Done."), show_alert=True
                )
            else:
                conv.outgoing.answer_callback(query.id, _("Please choose one of the options."))
            return
        conv.outgoing.answer_callback(query.id)
        self.show_answer(conv, query, question, f"<b>{shown(question, answer)}</b>")
        await self.move(conv, {**data, "answers": {**data["answers"], question.id: answer}}, question, step=1)

    def show_answer(self, conv: Conversation, query: CallbackQuery, question: Question, answer: str) -> None:
        """The question stays in the chat with its answer under it, and no buttons."""
        conv.outgoing.edit(conv.chat_id, query.message.message_id, with_answer(self.text(question), answer))

    async def toggle(
        self, query: CallbackQuery, tap: Tap, conv: Conversation, question: Question, picked: list[str]
    ) -> None:
        if tap.value not in question.option_values():
            conv.outgoing.answer_callback(query.id, _("Please choose one of the options."))
            return
        picked = [value for value in picked if value != tap.value] + (
            [] if tap.value in picked else [tap.value]
        )
        await conv.state.update_data(picked=picked)
        conv.outgoing.answer_callback(query.id)
        conv.outgoing.edit_markup(
            conv.chat_id, query.message.message_id, keyboard(tap.token, self.rows(question, picked))
        )

    async def typed(self, message: Message, conv: Conversation) -> None:
        data = await conv.data()
        question = self.form.question(data["q"])
        if question.kind not in TYPED:
            conv.say(_("Please tap one of the buttons."))
            await self.ask(conv)
            return
        if message.text is None and (message.contact is None or question.kind is not Kind.PHONE):
            conv.say(_("Please send your answer as text."))
            return
        raw = message.contact.phone_number if message.contact else clean_text(message.text or "")
        try:
            answer = clean_answer(question, raw)
        except InvalidAnswer:
            conv.say(invalid_hint(question))
            return
        if question.kind is Kind.PHONE:
            # A typed number leaves the share-contact keyboard up (Telegram hides it only when tapped).
            conv.say(_("Phone number saved: {phone}").format(phone=answer), ReplyKeyboardRemove())
        await self.move(conv, {**data, "answers": {**data["answers"], question.id: answer}}, question, step=1)

    async def move(self, conv: Conversation, data: dict[str, Any], question: Question, *, step: int) -> None:
        """To the question `step` away (never before the first), or past the last: to the summary,
        or done. A question changed from the summary goes back to it."""
        position = self.questions.index(question) + step
        if data.get("editing") or position >= len(self.questions):
            await self.finish(conv, data["answers"])
            return
        following = self.questions[max(position, 0)]
        picked = list(data["answers"].get(following.id, [])) if following.kind is Kind.MULTI else []
        await conv.state.update_data(q=following.id, answers=data["answers"], picked=picked)
        await self.ask(conv)

    async def finish(self, conv: Conversation, answers: dict[str, Any]) -> None:
        if self.summary is not None:
            await conv.state.update_data(answers=answers, picked=[], editing=False)
            await conv.go(self.summary)
            return
        await self.hand_over(conv, answers)

    async def hand_over(self, conv: Conversation, answers: dict[str, Any]) -> None:
        await conv.state.update_data(q=None, answers=None, picked=None, editing=None)
        await self.done(conv, answers)

    # ── summary, edit, send ─────────────────────────────────────────────────────────────────────

    async def ask_summary(self, conv: Conversation) -> None:
        answers = (await conv.data())["answers"]
        lines = [
            f"• {_(question.short_label)}: {shown_or_dash(question, answers)}" for question in self.questions
        ]
        text = _("<b>Please check your answers</b>") + "\n\n" + "\n".join(lines)
        rows = [[("✅ " + _("Send"), SUBMIT)], [("✏️ " + _("Change an answer"), EDIT)]]
        conv.say(text, await conv.buttons(rows))

    async def summary_tapped(self, query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
        if tap.value == SUBMIT:
            conv.close_keyboard(query)
            await self.hand_over(conv, (await conv.data())["answers"])
            return
        conv.outgoing.answer_callback(query.id)
        question_id = tap.value.removeprefix(f"{EDIT}.")
        if tap.value == EDIT:
            rows = [[(_(question.short_label), f"{EDIT}.{question.id}")] for question in self.questions]
            conv.outgoing.edit_markup(conv.chat_id, query.message.message_id, keyboard(tap.token, rows))
        elif question_id in {question.id for question in self.questions}:
            answers = (await conv.data())["answers"]
            multi = self.form.question(question_id).kind is Kind.MULTI
            picked = list(answers.get(question_id, [])) if multi else []
            await conv.state.update_data(q=question_id, editing=True, picked=picked)
            await conv.go(self.asking)


# Shorter button labels where a phone would cut the option's own (the answer is shown in full).
BUTTON_LABELS: dict[str, str] = {"orientation": N_("Planning and meetings")}


def option_rows(question: Question, picked: list[str]) -> list[Row]:
    if question.kind is Kind.YES_NO:
        return [[(_("Yes"), "yes"), (_("No"), "no")]]
    if question.kind is Kind.CHOICE:
        return [[(_(option.label), option.value)] for option in question.options]
    if question.kind is Kind.MULTI:
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
        return [*rows, [(_("Done"), DONE)]]
    return []


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
    return too_long(question.max_length)


def too_long(limit: int) -> str:
    return _(
        "That is too long. Please write at most {limit} character.",
        "That is too long. Please write at most {limit} characters.",
        limit,
    ).format(limit=limit)


def shown(question: Question, answer: Any) -> str:
    """An answer as the person reads it, escaped: free text is theirs."""
    if question.kind is Kind.YES_NO:
        return _("Yes") if answer == "yes" else _("No")
    labels = {option.value: _(option.label) for option in question.options}
    if question.kind is Kind.MULTI:
        return listed([labels[value] for value in answer]) or _("None of these")
    if question.kind is Kind.CHOICE:
        return labels[answer]
    return html.quote(str(answer))


def shown_or_dash(question: Question, answers: dict[str, Any]) -> str:
    return shown(question, answers[question.id]) if question.id in answers else "—"
