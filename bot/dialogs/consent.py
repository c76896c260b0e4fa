"""Consent (Annex 4): the text in the person's language, then three separate choices; /consent."""

from __future__ import annotations

import zoneinfo

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.conversation import Conversation, FreshTap, step
from bot.i18n import with_answer
from programme import consent
from programme.text import N_
from storage import journey
from storage.journey import current_consent, ensure_case, record_consent
from storage.models_journey import Consent as ConsentRecord
from wording import dates
from wording.taps import Tap

READ, CHANGE, WITHDRAW = "read", "change", "withdraw"
WITHDRAW_SURE, KEEP = "withdraw.sure", "withdraw.keep"
YES_NO = "yes", "no"


class Consent(StatesGroup):
    age = State()
    text = State()
    casework = State()
    publicity = State()
    third_party = State()


def yes_no_rows() -> list[list[tuple[str, str]]]:
    return [[(_("Yes"), "yes"), (_("No"), "no")]]


async def consent_text(conv: Conversation) -> tuple[str, str]:
    """The text in the person's language, as the organisation's settings name things now, and the
    version those settings make (programme.organisation.Organisation.consent_version)."""
    organisation = await conv.organisation()
    # aiogram's gettext is also its ngettext: _(singular, plural, n).
    text = consent.rendered(
        _,
        _,
        controller=organisation.controller_in(conv.locale),
        contact=organisation.contact_in(conv.locale),
        retention=conv.config.retention,
    )
    return text, organisation.consent_version(
        conv.config.retention, defaults=conv.config.organisation_defaults()
    )


AGE_QUESTION = N_("Are you 18 years old or older?")


@step(Consent.age)
async def ask_age(conv: Conversation) -> None:
    conv.say(_(AGE_QUESTION), await conv.buttons(yes_no_rows()))


def echo(conv: Conversation, query: CallbackQuery, question: str, answer: str) -> None:
    """The question stays in the chat with the choice made, its buttons gone."""
    conv.outgoing.edit(conv.chat_id, query.message.message_id, with_answer(_(question), f"<b>{answer}</b>"))


async def age_given(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    conv.outgoing.answer_callback(query.id)
    echo(conv, query, AGE_QUESTION, _("Yes") if tap.value == "yes" else _("No"))
    if tap.value == "yes":
        await conv.go(Consent.text)
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
    await conv.finish()


@step(Consent.text)
async def ask_text(conv: Conversation) -> None:
    text, _version = await consent_text(conv)
    conv.say(text, await conv.buttons([[(_("I have read it"), READ)]]))


async def text_read(query: CallbackQuery, conv: Conversation) -> None:
    conv.close_keyboard(query)
    # The text and version read now are the ones the choices are recorded under, even when an
    # administrator changes the organisation's settings before the last choice.
    text, version = await consent_text(conv)
    await conv.state.update_data(consent_hash=consent.text_hash(text), consent_version=version)
    await conv.go(Consent.casework)


@step(Consent.casework)
async def ask_casework(conv: Conversation) -> None:
    conv.say(
        _(consent.CASEWORK_QUESTION),
        await conv.buttons(yes_no_rows()),
    )


# Buttons a phone shows whole (a cut "Yes, without my name…" could read as its opposite); the
# question above them spells each choice out, in the same order.
PUBLICITY_BUTTONS: dict[str, str] = {
    "none": N_("No"),
    "anonymised": N_("Yes, anonymously"),
    "partly": N_("Yes, partly"),
    "not_anonymised": N_("Yes, with my name"),
}


def publicity_rows() -> list[list[tuple[str, str]]]:
    return [[(_(PUBLICITY_BUTTONS[level.value]), level.value)] for level in consent.PUBLICITY_LEVELS]


@step(Consent.publicity)
async def ask_publicity(conv: Conversation) -> None:
    choices = [f"• {_(level.label)}" for level in consent.PUBLICITY_LEVELS]
    conv.say(
        "\n\n".join([_(consent.PUBLICITY_QUESTION), "\n".join(choices)]), await conv.buttons(publicity_rows())
    )


@step(Consent.third_party)
async def ask_third_party(conv: Conversation) -> None:
    conv.say(
        _(consent.THIRD_PARTY_QUESTION),
        await conv.buttons(yes_no_rows()),
    )


async def chosen(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    current = await conv.state.get_state()
    allowed = (
        {level.value for level in consent.PUBLICITY_LEVELS} if current == Consent.publicity.state else YES_NO
    )
    if tap.value not in allowed:
        conv.outgoing.answer_callback(query.id, _("Please choose one of the options."))
        return
    conv.outgoing.answer_callback(query.id)
    if current == Consent.publicity.state:
        chosen_level = next(level for level in consent.PUBLICITY_LEVELS if level.value == tap.value)
        echo(conv, query, consent.PUBLICITY_QUESTION, _(chosen_level.label))
    else:
        asked = (
            consent.CASEWORK_QUESTION if current == Consent.casework.state else consent.THIRD_PARTY_QUESTION
        )
        echo(conv, query, asked, _("Yes") if tap.value == "yes" else _("No"))
    if current == Consent.casework.state:
        await conv.state.update_data(consent_casework=tap.value == "yes")
        await conv.go(Consent.publicity)
    elif current == Consent.publicity.state:
        await conv.state.update_data(consent_publicity=tap.value)
        await conv.go(Consent.third_party)
    else:
        data = await conv.data()
        choices = consent.Choices(
            casework=data["consent_casework"],
            publicity=data["consent_publicity"],
            third_party=tap.value == "yes",
        )
        read_hash, read_version = data.get("consent_hash"), data.get("consent_version")
        if not (read_hash and read_version):  # read before versions followed the settings (Dec. 2026)
            text, read_version = await consent_text(conv)
            read_hash = read_hash or consent.text_hash(text)
        await save(conv, choices, text_hash=read_hash, text_version=read_version)
        await conv.state.update_data(
            consent_casework=None, consent_publicity=None, consent_hash=None, consent_version=None
        )
        conv.say(
            _("Thank you. Your choices are saved. You can see or change them at any time with /consent.")
        )
        await conv.finish()


async def save(
    conv: Conversation, choices: consent.Choices, *, text_hash: str, text_version: str
) -> ConsentRecord:
    case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
    return await record_consent(
        conv.session,
        case=case,
        casework=choices.casework,
        publicity=choices.publicity,
        third_party=choices.third_party,
        language=conv.locale,
        text_version=text_version,
        text_hash=text_hash,
    )


def choice_lines(record: ConsentRecord) -> list[str]:
    """The three choices as the person reads them (in /consent and in /mydata)."""
    levels = {level.value: _(level.label) for level in consent.PUBLICITY_LEVELS}
    return [
        _("Your case, and sharing with state bodies and partners: {answer}").format(
            answer=_("Yes") if record.casework else _("No")
        ),
        _("Your story: {answer}").format(answer=levels.get(record.publicity, record.publicity)),
        _("Another person at meetings: {answer}").format(answer=_("Yes") if record.third_party else _("No")),
    ]


def describe(record: ConsentRecord, locale: str) -> str:
    recorded = _("Recorded on {date}.").format(date=dates.long_date(record.recorded_at, locale))
    lines = ["• " + line for line in choice_lines(record)]
    return "\n".join([_("<b>Your consent choices</b>"), "", *lines, "", recorded])


async def show_consent(message: Message, conv: Conversation) -> None:
    case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
    record = await current_consent(conv.session, case_id=case.id)
    if record is None:
        await conv.detour(Consent.age)
        return
    text = describe(record, conv.locale)
    if conv.beneficiary.withdrawn_at is not None:
        # Withdrawn already: what is left is to give it again.
        withdrawn = _("You withdrew your consent on {date}.").format(
            # The day in the office's time zone, as the person lives it (not UTC's).
            date=dates.long_date(
                conv.beneficiary.withdrawn_at, conv.locale, zoneinfo.ZoneInfo(conv.config.timezone)
            )
        )
        conv.say(f"{text}\n\n{withdrawn}", await conv.buttons([[(_("Give my consent again"), CHANGE)]]))
        return
    rows = [[(_("Change my choices"), CHANGE)], [(_("Withdraw my consent"), WITHDRAW)]]
    conv.say(text, await conv.buttons(rows))


async def consent_action(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    conv.close_keyboard(query)
    if tap.value == CHANGE:
        await conv.detour(Consent.text)
        return
    if tap.value == WITHDRAW:
        rows = [[(_("Yes, withdraw my consent"), WITHDRAW_SURE)], [(_("No, keep my consent"), KEEP)]]
        conv.say(
            _(
                "Withdrawing your consent is the same as stopping taking part (/withdraw): we stop using "
                "your information at once, and a caseworker closes your case.\n\n"
                "Do you want to withdraw your consent?"
            ),
            await conv.buttons(rows),
        )
        return
    # Spent: a double tap, or the other button tapped after, changes nothing.
    await conv.spend_buttons()
    if tap.value == KEEP:
        conv.say(_("Nothing was changed."))
        await conv.ask_current()
        return
    await stop_taking_part(conv, reason=None)
    await conv.finish()


# ── stopping: /withdraw and "Withdraw my consent" are one and the same ──────────────────────────


async def stop_taking_part(conv: Conversation, *, reason: str | None) -> None:
    """Consent withdrawn and processing stopped at once (storage.journey.withdraw), the person told
    what that means for their data; nothing more is asked (the journey's next questions would be
    processing too): `finish` then goes to the menu."""
    if conv.beneficiary.withdrawn_at is None:
        case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
        text, version = await consent_text(conv)
        await journey.withdraw(
            conv.session,
            conv.crypto,
            beneficiary=conv.beneficiary,
            case=case,
            language=conv.locale,
            text_version=version,
            text_hash=consent.text_hash(text),
            reason=reason,
        )
    tell_withdrawn(conv)
    await conv.forget_returns()


def tell_withdrawn(conv: Conversation) -> None:
    closed = consent.period(_, conv.config.retention.closed_days)
    conv.say(
        _(
            "You have stopped taking part in the programme, and your consent is withdrawn. From now on we "
            "do not use your information: no news, no reminders and no referrals to partners. A "
            "caseworker will close your case, and may write to you here once about it.\n\n"
            "What you told us is kept for {closed} after your case is closed, and then erased. To have it "
            "erased sooner, send /delete. To see what we hold, send /mydata. If you change your mind, you "
            "can give your consent again with /consent."
        ).format(closed=closed)
    )


def create_router() -> Router:
    router = Router(name="consent")
    router.message.register(show_consent, Command("consent"))
    router.callback_query.register(age_given, Consent.age, FreshTap(*YES_NO), F.message)
    router.callback_query.register(text_read, Consent.text, FreshTap(READ), F.message)
    for state in (Consent.casework, Consent.publicity, Consent.third_party):
        router.callback_query.register(chosen, state, FreshTap(), F.message)
    router.callback_query.register(consent_action, FreshTap(CHANGE, WITHDRAW, WITHDRAW_SURE, KEEP), F.message)
    return router
