"""Consent (Annex 4): the text in the person's language, then three separate choices; /consent."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.conversation import Conversation, FreshTap, Journey, Tap, step
from programme import consent
from storage.journey import current_consent, ensure_case, record_consent
from storage.models_journey import Consent

READ, CHANGE, WITHDRAW = "read", "change", "withdraw"
YES_NO = "yes", "no"


def yes_no_rows() -> list[list[tuple[str, str]]]:
    return [[(_("Yes"), "yes"), (_("No"), "no")]]


def consent_text(conv: Conversation) -> str:
    return consent.rendered(_, conv.config.data_controller)


@step(Journey.consent_age)
async def ask_age(conv: Conversation) -> None:
    conv.say(_("Are you 18 years old or older?"), await conv.buttons(yes_no_rows()))


async def age_given(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    conv.outgoing.answer_callback(query.id)
    conv.outgoing.edit_markup(conv.chat_id, query.message.message_id, None)
    if tap.value == "yes":
        await conv.go(Journey.consent_text)
        return
    case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
    case.guardian_consent_needed = True
    case.priority = True  # a child: one of the programme's priority groups
    conv.say(
        _(
            "Because you are under 18, a parent or legal guardian must give consent for you. "
            "A caseworker will arrange this with you."
        )
    )
    await conv.resume()


@step(Journey.consent_text)
async def ask_text(conv: Conversation) -> None:
    conv.say(consent_text(conv), await conv.buttons([[(_("I have read it"), READ)]]))


async def text_read(query: CallbackQuery, conv: Conversation) -> None:
    conv.outgoing.answer_callback(query.id)
    conv.outgoing.edit_markup(conv.chat_id, query.message.message_id, None)
    await conv.state.update_data(consent_hash=consent.text_hash(consent_text(conv)))
    await conv.go(Journey.consent_casework)


@step(Journey.consent_casework)
async def ask_casework(conv: Conversation) -> None:
    conv.say(
        _(consent.CASEWORK_QUESTION),
        await conv.buttons(yes_no_rows()),
    )


@step(Journey.consent_publicity)
async def ask_publicity(conv: Conversation) -> None:
    rows = [[(_(level.label), level.value)] for level in consent.PUBLICITY_LEVELS]
    conv.say(
        _(consent.PUBLICITY_QUESTION),
        await conv.buttons(rows),
    )


@step(Journey.consent_third_party)
async def ask_third_party(conv: Conversation) -> None:
    conv.say(
        _(consent.THIRD_PARTY_QUESTION),
        await conv.buttons(yes_no_rows()),
    )


async def chosen(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    current = await conv.state.get_state()
    allowed = (
        {level.value for level in consent.PUBLICITY_LEVELS}
        if current == Journey.consent_publicity.state
        else YES_NO
    )
    if tap.value not in allowed:
        conv.outgoing.answer_callback(query.id, _("Please choose one of the options."))
        return
    conv.outgoing.answer_callback(query.id)
    conv.outgoing.edit_markup(conv.chat_id, query.message.message_id, None)
    if current == Journey.consent_casework.state:
        await conv.state.update_data(consent_casework=tap.value == "yes")
        await conv.go(Journey.consent_publicity)
    elif current == Journey.consent_publicity.state:
        await conv.state.update_data(consent_publicity=tap.value)
        await conv.go(Journey.consent_third_party)
    else:
        data = await conv.data()
        choices = consent.Choices(
            casework=data["consent_casework"],
            publicity=data["consent_publicity"],
            third_party=tap.value == "yes",
        )
        await save(conv, choices, data.get("consent_hash") or consent.text_hash(consent_text(conv)))
        await conv.state.update_data(consent_casework=None, consent_publicity=None, consent_hash=None)
        conv.say(
            _("Thank you. Your choices are saved. You can see or change them at any time with /consent.")
        )
        await conv.resume()


async def save(conv: Conversation, choices: consent.Choices, text_hash: str) -> Consent:
    case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
    return await record_consent(
        conv.session,
        case=case,
        casework=choices.casework,
        publicity=choices.publicity,
        third_party=choices.third_party,
        language=conv.locale,
        text_version=consent.TEXT_VERSION,
        text_hash=text_hash,
    )


def choice_lines(record: Consent) -> list[str]:
    """The three choices as the person reads them (in /consent and in /mydata)."""
    levels = {level.value: _(level.label) for level in consent.PUBLICITY_LEVELS}
    return [
        _("Your case, and sharing with state bodies and partners: {answer}").format(
            answer=_("Yes") if record.casework else _("No")
        ),
        _("Your story: {answer}").format(answer=levels.get(record.publicity, record.publicity)),
        _("Another person at meetings: {answer}").format(answer=_("Yes") if record.third_party else _("No")),
    ]


def describe(record: Consent, locale: str) -> str:
    recorded = _("Recorded on {date}.").format(
        date=format_date(record.recorded_at, format="long", locale=locale)
    )
    lines = ["• " + line for line in choice_lines(record)]
    return "\n".join([_("<b>Your consent choices</b>"), "", *lines, "", recorded])


async def show_consent(message: Message, conv: Conversation) -> None:
    case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
    record = await current_consent(conv.session, case_id=case.id)
    if record is None:
        await conv.detour(Journey.consent_age)
        return
    rows = [[(_("Change my choices"), CHANGE)], [(_("Withdraw my consent"), WITHDRAW)]]
    conv.say(describe(record, conv.locale), await conv.buttons(rows))


async def consent_action(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    conv.outgoing.answer_callback(query.id)
    conv.outgoing.edit_markup(conv.chat_id, query.message.message_id, None)
    if tap.value == CHANGE:
        await conv.detour(Journey.consent_text)
        return
    await save(conv, consent.WITHDRAWN, consent.text_hash(consent_text(conv)))
    conv.say(
        _("Your consent is withdrawn. A caseworker will contact you about what this means for your case.")
    )
    await conv.ask_current()


def create_router() -> Router:
    router = Router(name="consent")
    router.message.register(show_consent, Command("consent"))
    router.callback_query.register(age_given, Journey.consent_age, FreshTap(*YES_NO), F.message)
    router.callback_query.register(text_read, Journey.consent_text, FreshTap(READ), F.message)
    for state in (Journey.consent_casework, Journey.consent_publicity, Journey.consent_third_party):
        router.callback_query.register(chosen, state, FreshTap(), F.message)
    router.callback_query.register(consent_action, FreshTap(CHANGE, WITHDRAW), F.message)
    return router
