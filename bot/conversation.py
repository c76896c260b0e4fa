"""What every dialog shares: the journey's states, fresh-button checks and re-asking a step."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram.filters import Filter
from aiogram.filters.callback_data import MAX_CALLBACK_LENGTH, CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.flood import DEFAULT_FLOOD, FloodLimit
from bot.i18n import in_reading_order
from bot.outgoing import Markup, Outgoing
from programme.reminders import ReminderPolicy
from programme.retention import DEFAULT_RETENTION, RetentionPolicy
from storage.crypto import Crypto
from storage.models import Beneficiary


class Journey(StatesGroup):
    language = State()
    privacy = State()
    name = State()
    screening = State()
    interview_offer = State()
    interview = State()
    interview_summary = State()
    consent_age = State()
    consent_text = State()
    consent_casework = State()
    consent_publicity = State()
    consent_third_party = State()
    done = State()  # the main menu: nothing asked
    handoff_reason = State()
    conversation = State()
    correction = State()
    withdrawal = State()
    deletion = State()
    appointments = State()
    appointment_type = State()
    appointment_office = State()
    appointment_date = State()
    appointment_time = State()
    appointment_confirm = State()
    appointment_cancel = State()


DEFAULT_REMINDERS = ReminderPolicy()


@dataclass(frozen=True, slots=True)
class BotConfig:
    """What an organisation sets about its bot (see intake.settings)."""

    data_controller: str = ""
    # Where people ask about their data (INTAKE_DATA_CONTACT); empty: "write to us here".
    data_contact: str = ""
    timezone: str = "Asia/Baku"
    office_days: frozenset[int] = frozenset(range(5))  # Monday to Friday
    office_open: dt.time = dt.time(9)
    office_close: dt.time = dt.time(18)
    reminders: ReminderPolicy = DEFAULT_REMINDERS
    retention: RetentionPolicy = DEFAULT_RETENTION
    # Updates of one chat beyond this are answered once with "please wait" and dropped (bot.flood);
    # None: no limit.
    flood: FloodLimit | None = DEFAULT_FLOOD


class Tap(CallbackData, prefix="t"):
    """A button press. The token names the one message whose buttons are live; anything else is
    a stale button or a forgery and changes nothing."""

    token: str
    value: str


Row = list[tuple[str, str]]  # (label, value) pairs

# Where a detour started, to return there when it ends.
RETURN_TO = "return_to"


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

    async def data(self) -> dict[str, Any]:
        return await self.state.get_data()

    async def buttons(self, rows: list[Row]) -> InlineKeyboardMarkup:
        """A keyboard whose buttons are the only live ones from now on."""
        token = secrets.token_urlsafe(6)
        await self.state.update_data(token=token)
        return keyboard(token, rows, self.locale)

    async def spend_buttons(self) -> None:
        """No button is live any more: a second tap of the one just pressed (a double tap) or of
        any older one changes nothing, until new buttons are sent."""
        await self.state.update_data(token=None)

    async def ask_current(self) -> None:
        current = await self.state.get_state()
        step = STEPS.get(current or "")
        if step is None:
            await self.state.set_state(Journey.language)
            step = STEPS[Journey.language.state]
        await step.ask(self)

    async def go(self, state: State) -> None:
        await self.state.set_state(state)
        await STEPS[state.state or ""].ask(self)

    async def detour(self, state: State) -> None:
        """Step aside (language, a request, a conversation); `resume` comes back to this step."""
        await self.step_aside()
        await self.go(state)

    async def step_aside(self) -> None:
        """Remember the step to come back to, as `detour` does, before going somewhere."""
        current = await self.state.get_state()
        data = await self.data()
        # The menu leaves RETURN_TO as None: a None is no place to return to.
        if current and current not in DETOURS and not data.get(RETURN_TO):
            await self.state.update_data({RETURN_TO: current})

    async def resume(self) -> None:
        data = await self.data()
        return_to = data.pop(RETURN_TO, None) or Journey.done.state
        await self.state.set_data(data)
        await self.state.set_state(return_to)
        await self.ask_current()


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


_TAP_PREFIX = Tap.__prefix__ + Tap.__separator__


def tap_data(token: str, value: str) -> str:
    """`Tap(token=token, value=value).pack()`, without building a model per button."""
    separator = Tap.__separator__
    if separator in token or separator in value:
        raise ValueError(f"a button's token or value may not contain {separator!r}")
    data = f"{_TAP_PREFIX}{token}{separator}{value}"
    if len(data.encode()) > MAX_CALLBACK_LENGTH:
        raise ValueError(f"callback data longer than Telegram's {MAX_CALLBACK_LENGTH} bytes")
    return data


def read_tap(data: str) -> Tap | None:
    """What `Tap.unpack` reads, or None for data that is not a tap (another kind or a forgery)."""
    prefix, *parts = data.split(Tap.__separator__)
    if prefix != Tap.__prefix__ or len(parts) != 2:
        return None
    return Tap.model_construct(token=parts[0], value=parts[1])


@dataclass(frozen=True, slots=True)
class Step:
    ask: Callable[[Conversation], Awaitable[None]]
    expects_text: bool = False


# Every journey state maps to how it is asked, so any step can be re-asked after a restart,
# a /help or an unexpected message.
STEPS: dict[str, Step] = {}


def step(
    state: State, *, expects_text: bool = False
) -> Callable[[Callable[[Conversation], Awaitable[None]]], Any]:
    def register(ask: Callable[[Conversation], Awaitable[None]]) -> Callable[[Conversation], Awaitable[None]]:
        STEPS[state.state or ""] = Step(ask=ask, expects_text=expects_text)
        return ask

    return register


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


# States that are side trips: leaving one for another keeps the original place to return to.
DETOURS = frozenset(
    state.state
    for state in (
        Journey.language,
        Journey.handoff_reason,
        Journey.conversation,
        Journey.correction,
        Journey.withdrawal,
        Journey.deletion,
        Journey.appointments,
        Journey.appointment_type,
        Journey.appointment_office,
        Journey.appointment_date,
        Journey.appointment_time,
        Journey.appointment_confirm,
        Journey.appointment_cancel,
    )
)
