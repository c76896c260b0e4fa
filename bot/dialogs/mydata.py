"""My data: a copy of everything held (/mydata), /correct, /withdraw, /delete and /stop."""

from __future__ import annotations

import zoneinfo

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from babel.dates import format_datetime

from bot import erasure
from bot.conversation import Conversation, FreshTap, Journey, Tap, step
from bot.dialogs import consent
from bot.dialogs.appointments import Place, when
from bot.dialogs.menu import APPOINTMENTS, MY_DATA, is_label
from bot.dialogs.screening import clean_name
from bot.i18n import LANGUAGES
from programme.appointments import APPOINTMENT_TYPES
from programme.cycle import STAGE_LABELS, Stage
from programme.forms import FORMS, Kind, Question
from programme.text import N_
from storage.appointments import office_schedule, upcoming_appointments
from storage.erasure import open_erasure_request_of
from storage.journey import (
    add_data_request,
    case_messages,
    cases_of,
    current_consent,
    data_requests,
    ensure_case,
    erase_beneficiary,
)
from storage.models import Case, utcnow
from storage.queries import form_responses, open_case_of, record_audit
from storage.sealing import unseal, unseal_json

REQUEST_LIMIT = 2000
# Stages before any caseworker's work: nothing there must be kept, so erasure is immediate (unless
# a caseworker has already taken the case).
ERASABLE_STAGES = frozenset({Stage.NEW, Stage.SCREENING})
DELETE, KEEP = "delete", "keep"
ACTIONS = ("mydata", "correct", "consent", "withdraw", "delete")
REQUEST_KINDS = {
    "correction": N_("Correction"),
    "withdrawal": N_("Stopping"),
    "deletion": N_("Deletion"),
}
REQUEST_STATUSES = {"open": N_("open"), "done": N_("done"), "refused": N_("refused")}


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
    conv.outgoing.answer_callback(query.id)
    conv.outgoing.edit_markup(conv.chat_id, query.message.message_id, None)
    message = query.message
    actions = {
        "mydata": export,
        "correct": correct,
        "consent": consent.show_consent,
        "withdraw": withdraw,
        "delete": delete,
    }
    await actions[tap.value.removeprefix("do.")](message, conv)


# ── a copy of everything ────────────────────────────────────────────────────────────────────────


def answer_text(question: Question, value: object) -> str:
    labels = {option.value: _(option.label) for option in question.options}
    if question.kind is Kind.YES_NO:
        return _("Yes") if value == "yes" else _("No")
    if isinstance(value, list):
        return ", ".join(labels.get(item, str(item)) for item in value)
    return labels.get(str(value), str(value))


async def case_lines(conv: Conversation, case: Case) -> list[str]:
    lines = ["", _("Case number: {code}").format(code=case.code)]
    lines.append(_("Stage: {stage}").format(stage=_(STAGE_LABELS.get(Stage(case.stage), case.stage))))
    for response in await form_responses(conv.session, case_id=case.id):
        form = FORMS.get(response.form_id)
        answers = unseal_json(conv.crypto, response, "answers_enc") or {}
        lines.append("")
        lines.append(_(form.title) if form else response.form_id)
        for key, value in answers.items():
            question = form.question(key) if form and key in {q.id for q in form.questions} else None
            label = _(question.short_label) if question else key
            lines.append(f"  {label}: {answer_text(question, value) if question else value}")
    record = await current_consent(conv.session, case_id=case.id)
    if record is not None:
        lines += ["", _("Consent"), *("  " + line for line in consent.choice_lines(record))]
    appointments = await upcoming_appointments(conv.session, case_id=case.id, now=utcnow())
    if appointments:
        lines += ["", _(APPOINTMENTS)]
        for appointment in appointments:
            place = Place(
                appointment.office, office_schedule(appointment.office, default_timezone=conv.config.timezone)
            )
            kind = _(APPOINTMENT_TYPES[appointment.type])
            lines.append(
                f"  {kind}: {when(appointment.starts_at, place, conv.locale)}, {appointment.office.name}"
            )
    messages = await case_messages(conv.session, case_id=case.id)
    if messages:
        lines += ["", _("Messages")]
        for message in messages:
            body = unseal_json(conv.crypto, message, "body_enc") or {}
            who = _("You") if message.direction == "in" else _("Caseworker")
            sent = format_datetime(message.created_at, format="short", locale=conv.locale)
            content = body.get("text") or body.get("caption") or body.get("file_name") or f"[{message.kind}]"
            lines.append(f"  {sent} {who}: {content}")
    return lines


async def export(message: Message, conv: Conversation) -> None:
    beneficiary = conv.beneficiary
    lines = [_("Everything we hold about you"), ""]
    lines.append(_("Name: {name}").format(name=unseal(conv.crypto, beneficiary, "name_enc") or "—"))
    lines.append(_("Phone: {phone}").format(phone=unseal(conv.crypto, beneficiary, "phone_enc") or "—"))
    lines.append(_("Language: {language}").format(language=LANGUAGES.get(beneficiary.language or "", "—")))
    for case in await cases_of(conv.session, beneficiary_id=beneficiary.id):
        lines += await case_lines(conv, case)
    requests = await data_requests(conv.session, beneficiary_id=beneficiary.id)
    if requests:
        lines += ["", _("Your requests")]
        for request in requests:
            when = format_datetime(request.created_at, format="short", locale=conv.locale)
            kind = _(REQUEST_KINDS.get(request.kind, request.kind))
            lines.append(f"  {when} {kind}: {_(REQUEST_STATUSES.get(request.status, request.status))}")
    case = await open_case_of(conv.session, beneficiary_id=beneficiary.id)
    await record_audit(
        conv.session,
        actor="bot",
        action="data.exported",
        object_type="case",
        object_id=case.code if case else None,
        details={},
    )
    document = BufferedInputFile("\n".join(lines).encode("utf-8"), filename="my-data.txt")
    conv.outgoing.send_document(
        conv.chat_id, document, caption=_("Here is a copy of everything we hold about you.")
    )
    await conv.ask_current()


# ── correction and withdrawal requests ──────────────────────────────────────────────────────────


async def correct(message: Message, conv: Conversation) -> None:
    await conv.detour(Journey.correction)


@step(Journey.correction, expects_text=True)
async def ask_correction(conv: Conversation) -> None:
    conv.say(_("What is wrong, and what should it be? Write it below."))


async def withdraw(message: Message, conv: Conversation) -> None:
    await conv.detour(Journey.withdrawal)


@step(Journey.withdrawal, expects_text=True)
async def ask_withdrawal(conv: Conversation) -> None:
    conv.say(
        _(
            "You can stop taking part at any time. Please write in a few words why you want to stop. "
            "It is kept in your file."
        )
    )


async def request_written(message: Message, conv: Conversation) -> None:
    text = clean_name(message.text or "")
    if not text:
        await conv.ask_current()
        return
    if len(text) > REQUEST_LIMIT:
        conv.say(_("That is too long. Please write at most {limit} characters.").format(limit=REQUEST_LIMIT))
        return
    is_correction = await conv.state.get_state() == Journey.correction.state
    case = await ensure_case(conv.session, beneficiary=conv.beneficiary)
    await add_data_request(
        conv.session,
        conv.crypto,
        beneficiary=conv.beneficiary,
        case=case,
        kind="correction" if is_correction else "withdrawal",
        details={"text": text},
    )
    if is_correction:
        conv.say(_("Thank you. A caseworker will correct it and tell you."))
    else:
        conv.say(_("Your request is recorded. A caseworker will close your case and confirm it with you."))
    await conv.resume()


# ── deletion, confirmed twice ───────────────────────────────────────────────────────────────────


async def delete(message: Message, conv: Conversation) -> None:
    await conv.state.update_data(delete_confirmations=0)
    await conv.detour(Journey.deletion)


@step(Journey.deletion)
async def ask_deletion(conv: Conversation) -> None:
    if (await conv.data()).get("delete_confirmations"):
        text = _("Are you sure? Everything you told us will be erased, and this cannot be undone.")
        rows = [[(_("Yes, delete everything"), DELETE)], [(_("No, keep my data"), KEEP)]]
    else:
        text = _("Do you want us to delete all your data?")
        rows = [[(_("Yes, delete"), DELETE)], [(_("No, keep my data"), KEEP)]]
    conv.say(text, await conv.buttons(rows))


async def deletion_answered(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    conv.outgoing.answer_callback(query.id)
    conv.outgoing.edit_markup(conv.chat_id, query.message.message_id, None)
    if tap.value != DELETE:
        conv.say(_("Nothing was deleted."))
        await conv.resume()
        return
    if not (await conv.data()).get("delete_confirmations"):
        await conv.state.update_data(delete_confirmations=1)
        await ask_deletion(conv)
        return
    cases = await cases_of(conv.session, beneficiary_id=conv.beneficiary.id)
    await conv.state.update_data(delete_confirmations=None)
    if all(case.stage in ERASABLE_STAGES and case.assigned_to is None for case in cases):
        await erase_beneficiary(conv.session, beneficiary=conv.beneficiary, crypto=conv.crypto)
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
    await conv.resume()


# ── no more news ────────────────────────────────────────────────────────────────────────────────


async def stop_news(message: Message, conv: Conversation) -> None:
    conv.beneficiary.opted_out = True
    conv.say(_("You will get no more news from us. Send /start to get them again."))


def create_router() -> Router:
    router = Router(name="mydata")
    router.message.register(my_data_menu, is_label(MY_DATA))
    router.message.register(export, Command("mydata"))
    router.message.register(correct, Command("correct"))
    router.message.register(withdraw, Command("withdraw"))
    router.message.register(delete, Command("delete"))
    router.message.register(stop_news, Command("stop"))
    router.callback_query.register(
        my_data_action, FreshTap(*(f"do.{action}" for action in ACTIONS)), F.message
    )
    router.message.register(request_written, Journey.correction, F.text)
    router.message.register(request_written, Journey.withdrawal, F.text)
    router.callback_query.register(deletion_answered, Journey.deletion, FreshTap(), F.message)
    return router
