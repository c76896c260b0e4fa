"""What every dialog shares: steps that can be asked again, the return stack, fresh-button checks.

Each dialog module in bot/dialogs/ owns its states (a StatesGroup) and registers how each is asked
with `@step`. Within a dialog, `conv.go(state)` moves on. Stepping aside into another dialog
(`/language`, `/appointments`, a request …) is `conv.detour(state)`: it pushes the current step on a
small return stack kept in the dialog data, and the side trip's `conv.finish()` pops it, so the
person comes back to where they were (the main menu when nothing is left).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.flood import DEFAULT_FLOOD, FloodLimit
from bot.i18n import in_reading_order
from bot.outgoing import Markup, Outgoing
from bot.renamed_states import current_name
from programme.appointments import Interval
from programme.organisation import DEFAULT_HOURS, Organisation
from programme.reminders import ReminderPolicy
from programme.retention import DEFAULT_RETENTION, RetentionPolicy
from storage.crypto import Crypto
from storage.models import Beneficiary, utcnow
from storage.organisation import current_organisation
from texts.visible import clean_line
from wording.taps import read_tap, tap_data

DEFAULT_REMINDERS = ReminderPolicy()


@dataclass(frozen=True, slots=True)
class BotConfig:
    """What an organisation sets about its bot (see intake.settings)."""

    data_controller: str = ""
    # Where people ask about their data (INTAKE_DATA_CONTACT); empty: "write to us here".
    data_contact: str = ""
    timezone: str = "Asia/Baku"
    # When caseworkers answer until an administrator sets the programme's hours in the console.
    office_hours: Mapping[int, tuple[Interval, ...]] = field(default_factory=lambda: dict(DEFAULT_HOURS))
    reminders: ReminderPolicy = DEFAULT_REMINDERS
    retention: RetentionPolicy = DEFAULT_RETENTION
    # Updates of one chat beyond this are answered once with "please wait" and dropped (bot.flood);
    # None: no limit.
    flood: FloodLimit | None = DEFAULT_FLOOD
    # What time it is where "now" decides (the days and times offered, which appointments are still
    # to come, the person's copy): utcnow, or a test's set moment.
    clock: Callable[[], dt.datetime] = utcnow

    def organisation_defaults(self) -> Organisation:
        """The organisation as the environment gives it, until an administrator saves its page."""
        return Organisation(
            controller=self.data_controller, contact=self.data_contact, hours=self.office_hours
        )


Row = list[tuple[str, str]]  # (label, value) pairs

# The dialog data's return stack: the steps (state names) to come back to, the last on top.
RETURNS = "returns"
# Where a detour started when the stack held one place only (before December 2026).
_FORMER_RETURN_TO = "return_to"


@dataclass(slots=True)
class Conversation:
    chat_id: int
    state: FSMContext
    session: AsyncSession
    crypto: Crypto
    beneficiary: Beneficiary
    outgoing: Outgoing
    i18n: I18n
    config: BotConfig = BotConfig()

    def say(self, text: str, reply_markup: Markup = None) -> None:
        self.outgoing.send(self.chat_id, text, reply_markup)

    @property
    def locale(self) -> str:
        return self.i18n.current_locale

    async def organisation(self) -> Organisation:
        """What an administrator set about the organisation, read now (a change is seen at once)."""
        return await current_organisation(self.session, defaults=self.config.organisation_defaults())

    async def data(self) -> dict[str, Any]:
        return await self.state.get_data()

    async def buttons(self, rows: list[Row]) -> InlineKeyboardMarkup:
        """A keyboard whose buttons are the only live ones from now on."""
        token = secrets.token_urlsafe(6)
        await self.state.update_data(token=token)
        return keyboard(token, rows, self.locale)

    def close_keyboard(self, query: CallbackQuery, notice: str | None = None) -> None:
        """Answer the tap (with a short notice, if given) and take the keyboard off its message, so
        it cannot be pressed twice."""
        self.outgoing.answer_callback(query.id, notice)
        if query.message is not None:
            self.outgoing.edit_markup(self.chat_id, query.message.message_id, None)

    async def spend_buttons(self) -> None:
        """No button is live any more: a second tap of the one just pressed (a double tap) or of
        any older one changes nothing, until new buttons are sent."""
        await self.state.update_data(token=None)

    async def ask_current(self) -> None:
        """Ask the current step again (after a restart, /help, an unexpected message); someone with
        no step yet, or a step that no longer exists, starts at the first."""
        current = await self.state.get_state()
        if current in STEPS:
            await STEPS[current].ask(self)
        else:
            await self.go(marked_step("first"))

    async def go(self, state: State | str) -> None:
        """Move to a step of the same dialog (or start a dialog that returns nowhere) and ask it."""
        name = state if isinstance(state, str) else state.state or ""
        await self.state.set_state(name)
        await STEPS[name].ask(self)

    async def detour(self, state: State | str) -> None:
        """Step aside into another dialog; its `finish` comes back to this step."""
        await self.push_return(towards=state)
        await self.go(state)

    async def push_return(self, *, towards: State | str) -> None:
        """Put the current step on the return stack, as `detour` does, before entering `towards`'s
        dialog some other way. Within one dialog nothing is pushed (it is not a side trip), and the
        stack holds one step per dialog: stepping aside from a dialog already on it drops that
        step and what lies above it, so going back and forth never makes the stack grow."""
        current = await self.state.get_state()
        target = towards if isinstance(towards, str) else towards.state or ""
        if not current or dialog_of(current) == dialog_of(target):
            return
        stack = await self.returns()
        for depth, frame in enumerate(stack):
            if dialog_of(frame) == dialog_of(current):
                stack = stack[:depth]
                break
        await self._keep_returns([*stack, current])

    async def finish(self) -> None:
        """End a side trip: back to the step on top of the return stack, or to the main menu."""
        stack = await self.returns()
        back_to = stack.pop() if stack else marked_step("home")
        await self._keep_returns(stack)
        await self.state.set_state(back_to)
        await self.ask_current()

    async def forget_returns(self) -> None:
        """Nothing to come back to: the next `finish` goes to the main menu."""
        await self._keep_returns([])

    async def returns(self) -> list[str]:
        """The return stack, bottom first (a dialog saved with one place to return to reads as a
        stack of that one)."""
        data = await self.data()
        if RETURNS in data:
            return [current_name(frame) or "" for frame in data[RETURNS]]
        former = current_name(data.get(_FORMER_RETURN_TO))
        return [former] if former else []

    async def _keep_returns(self, stack: list[str]) -> None:
        data = await self.data()
        data.pop(_FORMER_RETURN_TO, None)
        data[RETURNS] = stack
        await self.state.set_data(data)


def clean_text(text: str) -> str:
    """One line of what the person typed: white space collapsed, bidi overrides and other invisible
    characters out, the joiners Persian and Urdu spelling needs kept (texts.visible)."""
    return clean_line(text)


def keyboard(token: str, rows: list[Row], locale: str | None = None) -> InlineKeyboardMarkup:
    """Buttons in the reader's order (bot.i18n.in_reading_order): of `locale`, else the update's."""
    return InlineKeyboardMarkup.model_validate(
        {
            "inline_keyboard": [
                [{"text": label, "callback_data": tap_data(token, value)} for label, value in row]
                for row in in_reading_order(rows, locale)
            ]
        }
    )


@dataclass(frozen=True, slots=True)
class Step:
    ask: Callable[[Conversation], Awaitable[None]]
    expects_text: bool = False
    # "first": where a conversation begins; "home": where a finished side trip with nothing to
    # return to lands. One step of all the dialogs has each.
    mark: str | None = None
    # The step looks for crisis words in what it is sent itself (bot.dialogs.feedback), instead of
    # the urgent dialog's middleware.
    handles_crisis: bool = False


# Every dialog state maps to how it is asked, so any step can be re-asked after a restart,
# a /help or an unexpected message.
STEPS: dict[str, Step] = {}


def step(
    state: State, *, expects_text: bool = False, mark: str | None = None, handles_crisis: bool = False
) -> Callable[[Callable[[Conversation], Awaitable[None]]], Any]:
    def register(ask: Callable[[Conversation], Awaitable[None]]) -> Callable[[Conversation], Awaitable[None]]:
        STEPS[state.state or ""] = Step(
            ask=ask, expects_text=expects_text, mark=mark, handles_crisis=handles_crisis
        )
        return ask

    return register


def marked_step(mark: str) -> str:
    return next(name for name, registered in STEPS.items() if registered.mark == mark)


def dialog_of(state: str) -> str:
    """The dialog (the StatesGroup's name) a state name belongs to."""
    return state.partition(":")[0]


class FreshTap(Filter):
    """Passes a press of a live button (with one of `values`, when given), giving the handler `tap`."""

    def __init__(self, *values: str) -> None:
        self.values = frozenset(values)

    async def __call__(self, query: CallbackQuery, state: FSMContext) -> bool | dict[str, Any]:
        tap = read_tap(query.data or "")
        if tap is None:
            return False
        if self.values and tap.value not in self.values:
            return False
        expected = (await state.get_data()).get("token")
        if not expected or not secrets.compare_digest(tap.token, expected):
            return False
        return {"tap": tap}
