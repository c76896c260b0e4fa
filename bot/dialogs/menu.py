"""The main menu (a reply keyboard in the person's language), /menu and /help."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import KeyboardButton, Message, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.conversation import Conversation, step
from bot.i18n import in_reading_order
from programme.text import N_
from storage.queries import open_case_of

# Labels as msgids: the keyboard shows them translated, and the filters match the translation.
APPOINTMENTS = N_("📅 Appointments")
CASEWORKER = N_("💬 Ask a caseworker")
URGENT = N_("🆘 Urgent help")
MY_DATA = N_("🔒 My data")
LANGUAGE = N_("🌐 Language")
HELP = N_("❓ Help")
FEEDBACK = N_("💬 Feedback or a complaint")
ROWS: list[list[str]] = [[APPOINTMENTS], [CASEWORKER, URGENT], [MY_DATA, LANGUAGE], [FEEDBACK], [HELP]]


class Menu(StatesGroup):
    main = State()  # nothing asked: the menu's keyboard waits


def main_menu() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_(label)) for label in row] for row in in_reading_order(ROWS)],
        resize_keyboard=True,
        is_persistent=True,
    )


def is_label(label: str) -> object:
    """A filter for a menu button press in the person's language."""
    return F.text == __(label)


@step(Menu.main, mark="home")
async def ask_menu(conv: Conversation) -> None:
    case = await open_case_of(conv.session, beneficiary_id=conv.beneficiary.id)
    text = _("What would you like to do? Choose from the menu below.")
    if case is not None:
        text = _("Your case number is {code}.").format(code=case.code) + "\n" + text
    conv.say(text, main_menu())


async def show_menu(message: Message, conv: Conversation) -> None:
    # The menu ends any side trip: nothing to return to afterwards.
    await conv.forget_returns()
    await conv.go(Menu.main)


async def show_help(message: Message, conv: Conversation) -> None:
    conv.say(
        _(
            "This bot helps you join the Integration Programme for migrants and refugees.\n\n"
            "/start — continue where you stopped\n"
            "/menu — the main menu\n"
            "/appointments — your appointments\n"
            "/urgent — urgent help\n"
            "/language — change the language\n"
            "/interview — answer the interview questions\n"
            "/consent — see or change your consent\n"
            "/mydata — get a copy of your data\n"
            "/correct — ask us to correct your data\n"
            "/withdraw — stop taking part\n"
            "/delete — delete your data\n"
            "/stop — no more news from us\n\n"
            "You can stop at any time. Your answers are kept safe."
        )
        + "\n\n"
        + _("/feedback — feedback or a complaint, also anonymously")
    )
    await conv.ask_current()


def create_router() -> Router:
    router = Router(name="menu")
    router.message.register(show_menu, Command("menu"))
    router.message.register(show_help, Command("help"))
    router.message.register(show_help, is_label(HELP))
    return router
