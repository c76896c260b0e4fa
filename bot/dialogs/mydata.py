"""My data: the menu, /correct, /withdraw, /delete and /stop (the copy, /mydata: bot.dialogs.mycopy)."""

from __future__ import annotations

import zoneinfo

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.conversation import Conversation, FreshTap, clean_text, step
from bot.dialogs import consent, mycopy
from bot.dialogs.menu import MY_DATA, is_label
from bot.questionnaire import too_long
from programme.cycle import Stage
from storage.erasure import open_erasure_request_of
from storage.journey import (
    add_data_request,
    cases_of,
    ensure_case,
    erase_beneficiary,
)
from storage.models import utcnow
from wording import erasure
from wording.taps import Tap

REQUEST_LIMIT = 2000
# Stages before any caseworker's work: nothing there must be kept, so erasure is immediate (unless
# a caseworker has already taken the case).
ERASABLE_STAGES = frozenset({Stage.NEW, Stage.SCREENING})
DELETE, KEEP = "delete", "keep"
ACTIONS = ("mydata", "correct", "consent", "withdraw", "delete")


class MyData(StatesGroup):
    correction = State()
    withdrawal = State()
    deletion = State()


async def my_data_menu(message: Message, conv: Conversation) -> None:
    rows = [
        [("📄 " + _("Get a copy of my data"), "do.mydata")],
        [("✏️ " + _("Correct my data"), "do.correct")],
        [("🤝 " + _("My consent"), "do.consent")],
        [("✋ " + _("Stop taking part"), "do.withdraw")],
        [("🗑 " + _("Delete my data"), "do.delete")],
    ]
    conv.say(_("What would you like to do with your data?"), await conv.buttons(rows))


async def my_data_action(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    conv.close_keyboard(query)
    message = query.message
    actions = {
        "mydata": mycopy.offer,
        "correct": correct,
        "consent": consent.show_consent,
        "withdraw": withdraw,
        "delete": delete,
    }
    await actions[tap.value.removeprefix("do.")](message, conv)


# ── correction and withdrawal requests ──────────────────────────────────────────────────────────


async def correct(message: Message, conv: Conversation) -> None:
    await conv.detour(MyData.correction)


@step(MyData.correction, expects_text=True)
async def ask_correction(conv: Conversation) -> None:
    conv.say(_("What is wrong, and what should it be? Write it below."))


async def withdraw(message: Message, conv: Conversation) -> None:
    if conv.beneficiary.withdrawn_at is not None:
        consent.tell_withdrawn(conv)
        return
    await conv.detour(MyData.withdrawal)


@step(MyData.withdrawal, expects_text=True)
async def ask_withdrawal(conv: Conversation) -> None:
    # The guidelines' reason 1 for closing a case is a written request, with reasons.
    conv.say(
        _(
            "You can stop taking part at any time. This also withdraws your consent: we stop using your "
            "information at once, and a caseworker closes your case.\n\n"
            "Please write in a few words why you want to stop. It is kept in your file. If you do not "
            "want to stop, send /menu."
        )
    )


async def request_written(message: Message, conv: Conversation) -> None:
    text = clean_text(message.text or "")
    if not text:
        await conv.ask_current()
        return
    if len(text) > REQUEST_LIMIT:
        conv.say(too_long(REQUEST_LIMIT))
        return
    if await conv.state.get_state() == MyData.withdrawal.state:
        await consent.stop_taking_part(conv, reason=text)
        await conv.finish()
        return
    case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
    await add_data_request(
        conv.session,
        conv.crypto,
        beneficiary=conv.beneficiary,
        case=case,
        kind="correction",
        details={"text": text},
    )
    conv.say(_("Thank you. A caseworker will correct it and tell you."))
    await conv.finish()


# ── deletion, confirmed twice ───────────────────────────────────────────────────────────────────


async def delete(message: Message, conv: Conversation) -> None:
    await conv.state.update_data(delete_confirmations=0)
    await conv.detour(MyData.deletion)


@step(MyData.deletion)
async def ask_deletion(conv: Conversation) -> None:
    if (await conv.data()).get("delete_confirmations"):
        text = _("Are you sure? Everything you told us will be erased, and this cannot be undone.")
        rows = [[(_("Yes, delete everything"), DELETE)], [(_("No, keep my data"), KEEP)]]
    else:
        text = _("Do you want us to delete all your data?")
        rows = [[(_("Yes, delete"), DELETE)], [(_("No, keep my data"), KEEP)]]
    conv.say(text, await conv.buttons(rows))


async def deletion_answered(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    conv.close_keyboard(query)
    if tap.value != DELETE:
        conv.say(_("Nothing was deleted."))
        await conv.finish()
        return
    if not (await conv.data()).get("delete_confirmations"):
        await conv.state.update_data(delete_confirmations=1)
        await ask_deletion(conv)
        return
    cases = await cases_of(conv.session, beneficiary_id=conv.beneficiary.id)
    await conv.state.update_data(delete_confirmations=None)
    if all(case.stage in ERASABLE_STAGES and case.assigned_to is None for case in cases):
        await erase_beneficiary(conv.session, conv.crypto, beneficiary=conv.beneficiary)
        conv.say(_("Your data is deleted. If you write to us again, we will start from the beginning."))
        return
    # A caseworker has the case: some of it may have to be kept (a legal obligation), which a
    # supervisor decides by the due date (storage.erasure, the console's erasure requests).
    request = await open_erasure_request_of(conv.session, beneficiary_id=conv.beneficiary.id)
    if request is None:
        case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
        request = await add_data_request(
            conv.session,
            conv.crypto,
            beneficiary=conv.beneficiary,
            case=case,
            kind="deletion",
            details=None,
            due_after=conv.config.retention.erasure_due,
        )
    due = request.due_at or utcnow() + conv.config.retention.erasure_due
    zone = zoneinfo.ZoneInfo(conv.config.timezone)
    conv.say(erasure.request_recorded(locale=conv.locale, due=due, zone=zone))
    await conv.finish()


# ── no more news ────────────────────────────────────────────────────────────────────────────────


async def stop_news(message: Message, conv: Conversation) -> None:
    conv.beneficiary.opted_out = True
    conv.say(_("You will get no more news from us. Send /start to get them again."))


def create_router() -> Router:
    router = Router(name="mydata")
    router.message.register(my_data_menu, is_label(MY_DATA))
    router.message.register(correct, Command("correct"))
    router.message.register(withdraw, Command("withdraw"))
    router.message.register(delete, Command("delete"))
    router.message.register(stop_news, Command("stop"))
    router.callback_query.register(
        my_data_action, FreshTap(*(f"do.{action}" for action in ACTIONS)), F.message
    )
    router.message.register(request_written, MyData.correction, F.text)
    router.message.register(request_written, MyData.withdrawal, F.text)
    router.callback_query.register(deletion_answered, MyData.deletion, FreshTap(), F.message)
    return router
