"""Feedback or a complaint, at any stage (/feedback, the menu's button): its kind, with the case or
anonymously, then the message (text, a voice message or a photo); a reference number to ask about it
with ("My feedback"). Anonymous feedback is stored with no link to the person (storage.feedback), so
neither the dialog data nor the audit keep anything that leads from them to it."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.conversation import Conversation, FreshTap, step
from bot.dialogs import urgent
from bot.dialogs.language import notice_first
from bot.dialogs.menu import FEEDBACK, is_label
from bot.questionnaire import too_long
from programme.feedback import (
    KIND_LABELS,
    STATUS_LABELS,
    Kind,
    Routing,
    Status,
    read_reference,
    routing_of,
    shown,
)
from programme.urgent import mentions_crisis
from storage import feedback as store
from storage.models import utcnow
from wording.feedback import CommentTap, SatisfactionTap, comment_offer
from wording.taps import Tap

# As long as a written request elsewhere in the bot (bot.dialogs.mydata); a longer text is refused
# whole, never cut.
TEXT_LIMIT = 2000
# Reference numbers that were not found, per chat, before asking stops for a while: the numbers are
# random, and this keeps anyone from trying many to read others' answers.
MISSES_ALLOWED = 5
MISSES_WINDOW = dt.timedelta(hours=24)
MINE, BACK, WITH_CASE, ANONYMOUS = "mine", "back", "with_case", "anonymous"
# Dialog data: the kind chosen and how it is given, until it is sent; the misses of "My feedback".
KIND, HOW, MISSES = "feedback_kind", "feedback_how", "feedback_misses"


class Feedback(StatesGroup):
    kind = State()
    how = State()
    write = State()
    lookup = State()


async def start(message: Message, conv: Conversation) -> None:
    if await conv.state.get_state() is None:
        await notice_first(conv, Feedback.kind)
        return
    await conv.detour(Feedback.kind)


@step(Feedback.kind)
async def ask_kind(conv: Conversation) -> None:
    rows = [[(_(label), str(kind))] for kind, label in KIND_LABELS.items()]
    rows += [[("🔎 " + _("My feedback"), MINE)], [(_("Back"), BACK)]]
    conv.say(
        _(
            "You can tell us what went well, what went wrong, or complain about how you were treated. "
            "It does not change the help you get. What would you like to tell us?"
        ),
        await conv.buttons(rows),
    )


async def kind_chosen(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    conv.close_keyboard(query)
    if tap.value == BACK:
        await conv.finish()
        return
    if tap.value == MINE:
        await conv.go(Feedback.lookup)
        return
    await conv.state.update_data({KIND: tap.value, HOW: None})
    await conv.go(Feedback.how)


@step(Feedback.how)
async def ask_how(conv: Conversation) -> None:
    kind = await _kind(conv)
    if kind is None:
        await conv.go(Feedback.kind)
        return
    text = ""
    if routing_of(kind) is Routing.FOCAL_POINTS:
        text = (
            _(
                "Only the programme's complaints focal points read this. Your caseworker does not see it, "
                "and it is not put in your case file."
            )
            + "\n\n"
        )
    text += _(
        "Do you want to give it with your case, or anonymously?\n\n"
        "With your case: we know it is you, and we answer you here in this chat.\n\n"
        "Anonymously: we keep nothing that links it to you or your case. Then nobody can answer you "
        "in this chat. You get a reference number: only with it can you read our answer, in "
        "“My feedback”."
    )
    rows = [[(_("With my case"), WITH_CASE)], [(_("Anonymously"), ANONYMOUS)]]
    conv.say(text, await conv.buttons(rows))


async def how_chosen(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    conv.close_keyboard(query)
    await conv.state.update_data({HOW: tap.value})
    await conv.go(Feedback.write)


@step(Feedback.write, expects_text=True, handles_crisis=True)
async def ask_write(conv: Conversation) -> None:
    if await _kind(conv) is None:
        await conv.go(Feedback.kind)
        return
    conv.say(_("Write it below, or send a voice message or a photo."))


def body_of(message: Message) -> tuple[str, dict[str, Any], str] | None:
    """The medium, what is kept, and the text to look for crisis words in."""
    if message.text:
        return "text", {"text": message.text}, message.text
    if message.voice:
        return "voice", {"file_id": message.voice.file_id, "duration": message.voice.duration}, ""
    if message.photo:
        caption = message.caption or ""
        return "photo", {"file_id": message.photo[-1].file_id, "caption": caption}, caption
    return None


async def written(message: Message, conv: Conversation) -> None:
    kind = await _kind(conv)
    if kind is None:
        await conv.go(Feedback.kind)
        return
    body = body_of(message)
    if body is None:
        conv.say(_("Please send text, a voice message or a photo."))
        return
    medium, content, said = body
    if len(said) > TEXT_LIMIT:
        conv.say(too_long(TEXT_LIMIT))
        return
    anonymous = (await conv.data()).get(HOW) == ANONYMOUS
    crisis = bool(said) and mentions_crisis(said, conv.locale)
    feedback = await store.add_feedback(
        conv.session,
        conv.crypto,
        beneficiary=None if anonymous else conv.beneficiary,
        kind=kind,
        language=conv.locale,
        medium=medium,
        body=content,
        urgent=crisis,
        answer_due=conv.config.retention.feedback_answer,
    )
    if crisis:
        await _urgent(conv, kind=kind, anonymous=anonymous)
    reference = shown(feedback.reference)
    if anonymous:
        text = _(
            "Thank you. Your reference number is {reference}. Keep it: we cannot write to you, and "
            "only with this number can you read our answer, in “My feedback”."
        )
    else:
        text = _(
            "Thank you. Your reference number is {reference}. We will answer you here within {days} day.",
            "Thank you. Your reference number is {reference}. We will answer you here within {days} days.",
            conv.config.retention.feedback_answer_days,
        )
    conv.say(
        "✓ " + text.format(reference=f"<b>{reference}</b>", days=conv.config.retention.feedback_answer_days)
    )
    # Nothing of it stays in the dialog data, anonymous or not.
    await conv.state.update_data({KIND: None, HOW: None})
    await conv.finish()


async def _urgent(conv: Conversation, *, kind: Kind, anonymous: bool) -> None:
    """The urgent path: the numbers to call, and the feedback first in its readers' list. Only
    feedback given with the case and read by supervisors also alerts the case's caseworkers: an
    alert on the case would tell them about anonymous feedback, or one about them."""
    if not anonymous and routing_of(kind) is Routing.SUPERVISORS:
        await urgent.alert(conv, "crisis_words")
    conv.say(
        _("It sounds like you may be going through something very hard. You are not alone.")
        + "\n\n"
        + _("<b>If you are in danger now, call:</b>")
        + "\n"
        + urgent.numbers()
        + "\n\n"
        + _("We have marked your message urgent, and it will be read first.")
    )


@step(Feedback.lookup, expects_text=True)
async def ask_reference(conv: Conversation) -> None:
    conv.say(_("Send your reference number. It looks like this: FB-1234-5678."))


async def reference_written(message: Message, conv: Conversation) -> None:
    data = await conv.data()
    misses = [
        at for at in data.get(MISSES) or [] if utcnow().timestamp() - at < MISSES_WINDOW.total_seconds()
    ]
    if len(misses) >= MISSES_ALLOWED:
        conv.say(_("Too many numbers were not found. Please try again tomorrow."))
        await conv.finish()
        return
    reference = read_reference(message.text or "")
    feedback = None if reference is None else await store.find_by_reference(conv.session, reference=reference)
    # Feedback given with someone's case is theirs alone to ask about.
    if feedback is not None and feedback.beneficiary_id not in (None, conv.beneficiary.id):
        feedback = None
    if feedback is None:
        await conv.state.update_data({MISSES: [*misses, utcnow().timestamp()]})
        conv.say(_("We have no feedback with that number. Please check it and send it again, or send /menu."))
        return
    status = Status(feedback.status)
    text = _("Your feedback {reference}: {status}.").format(
        reference=shown(feedback.reference), status=_(STATUS_LABELS[status])
    )
    answer = await store.latest_answer(conv.session, conv.crypto, feedback=feedback)
    if answer is not None:
        text += "\n\n" + _("Our answer:") + "\n" + html.escape(answer)
    conv.say(text)
    await conv.finish()


async def _kind(conv: Conversation) -> Kind | None:
    value = (await conv.data()).get(KIND)
    return Kind(value) if value in {str(kind) for kind in Kind} else None


async def satisfaction_tapped(
    query: CallbackQuery, callback_data: SatisfactionTap, conv: Conversation
) -> None:
    """The question asked after a case closed: counted once; a double tap or a forgery changes nothing."""
    recorded = await store.answer_satisfaction(
        conv.session,
        token=callback_data.token,
        beneficiary_id=conv.beneficiary.id,
        rating=callback_data.rating,
    )
    if not recorded:
        conv.outgoing.answer_callback(
            query.id, _("This button is no longer active. Please use the newest message.")
        )
        return
    conv.close_keyboard(query)
    conv.say(
        _("Thank you. If you like, you can add a comment."),
        comment_offer(locale=conv.locale, token=callback_data.token),
    )


async def comment_tapped(query: CallbackQuery, callback_data: CommentTap, conv: Conversation) -> None:
    """The optional comment after that question: written as feedback with the case, a thank-you or
    suggestion after "yes", a problem with the service otherwise, and answered like any feedback."""
    rating = await store.rating_given(
        conv.session, token=callback_data.token, beneficiary_id=conv.beneficiary.id
    )
    if rating is None:
        conv.outgoing.answer_callback(
            query.id, _("This button is no longer active. Please use the newest message.")
        )
        return
    conv.close_keyboard(query)
    if await conv.state.get_state() == Feedback.write.state:
        return  # a double tap: already asked
    kind = Kind.THANKS if rating == "yes" else Kind.SERVICE
    await conv.state.update_data({KIND: str(kind), HOW: WITH_CASE})
    await conv.detour(Feedback.write)


def create_router() -> Router:
    router = Router(name="feedback")
    router.callback_query.register(satisfaction_tapped, SatisfactionTap.filter(), F.message)
    router.callback_query.register(comment_tapped, CommentTap.filter(), F.message)
    router.message.register(start, Command("feedback"))
    router.message.register(start, is_label(FEEDBACK))
    kinds = [str(kind) for kind in Kind]
    router.callback_query.register(kind_chosen, Feedback.kind, FreshTap(*kinds, MINE, BACK), F.message)
    router.callback_query.register(how_chosen, Feedback.how, FreshTap(WITH_CASE, ANONYMOUS), F.message)
    router.message.register(written, Feedback.write)
    router.message.register(reference_written, Feedback.lookup, F.text)
    return router
