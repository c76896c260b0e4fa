"""The person's own copy (/mydata): what they told the programme and what was decided about them.

It holds their answers, their case's stage in plain words, their eligibility, their appointments
(past and to come), their plan, their referrals (with the partner's name), their consent history,
their requests and their conversation. It leaves out what staff write for themselves: the Annex 3
notes on how an adverse event was managed, the assessment's and the call's notes, the screening
decision's reasons, and every staff name and id.

The file stays in the chat, and on the phone, until the person deletes it; a phone is often shared
or looked at by someone else. So the bot says so first and sends the file only when they confirm
it, and the file's name carries nothing about them.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.conversation import Conversation, FreshTap
from bot.dialogs import consent
from bot.dialogs.appointments import Place, when
from programme import feedback as rules
from programme.appointments import APPOINTMENT_STATUSES, APPOINTMENT_TYPES
from programme.assessment import SCREENING_CONFIRMATION
from programme.cycle import Stage
from programme.forms import FORMS, SERVICE_AREAS, Kind, Question
from programme.text import N_
from storage import feedback
from storage import plan as plans
from storage.appointments import case_appointments, office_name, office_schedule
from storage.casework import consent_history, latest_answers
from storage.journey import case_messages, cases_of, data_requests
from storage.models import Case
from storage.queries import open_case_of, record_audit
from storage.sealing import unseal, unseal_json
from wording import dates
from wording.languages import LANGUAGES, listed, piece
from wording.taps import Tap

SEND, NOT_NOW = "copy.send", "copy.no"
# No name, no case number, no date: a file name is shown in the chat list and in the phone's files.
FILE_NAME = "my-data.txt"
# The caseworker's Annex 2 decision, kept beside the screening.
SCREENING_DECISION = SCREENING_CONFIRMATION.id

REQUEST_KINDS = {
    "correction": N_("Correction"),
    "withdrawal": N_("Stopping"),
    "deletion": N_("Deletion"),
}
REQUEST_STATUSES = {"open": N_("open"), "done": N_("done"), "refused": N_("refused")}
# programme.plan.ACTIVITY_STATUSES' labels, marked here too: that module's strings are the console's
# catalog, and what a beneficiary reads is in the bot's.
ACTIVITY_STATUSES = {
    "planned": N_("Planned"),
    "in_progress": N_("In progress"),
    "done": N_("Done"),
    "cancelled": N_("Cancelled"),
}
REFERRAL_STATUSES = {
    "sent": N_("Sent to the partner"),
    "accepted": N_("Accepted by the partner"),
    "done": N_("Done"),
    "declined": N_("Declined by the partner"),
}


# The stage as the person reads it: what is happening, in plain words. The guidelines' names
# (programme.cycle.STAGE_LABELS: "Intervention planning", read as "interference" in Persian and
# Russian) are the console's, and the bot's catalogs do not hold them.
STAGE_PLAIN: dict[Stage, str] = {
    Stage.NEW: N_("We have your request and will look at it soon."),
    Stage.SCREENING: N_("We are checking whether the programme can help you."),
    Stage.INITIAL_ASSESSMENT: N_("We are getting to know your situation and what you need."),
    Stage.INTERVENTION_PLANNING: N_("We are making a plan with you."),
    Stage.IMPLEMENTATION: N_("You are carrying out your plan, with our help."),
    Stage.FINAL_ASSESSMENT: N_("We are looking back with you at what your plan achieved."),
    Stage.MONITORING: N_("Your plan is finished; we stay in touch to see how you are doing."),
    Stage.CLOSED: N_("Your case is closed."),
}


async def offer(message: Message, conv: Conversation) -> None:
    """Before the file: where it will stay, and a choice."""
    rows = [[(_("Yes, send the file"), SEND)], [(_("No, not now"), NOT_NOW)]]
    conv.say(
        _(
            "We will send you a file with everything we hold about you. It stays in this chat and on "
            "this phone until you delete it. If someone else uses or looks at this phone, they could "
            "read it.\n\nSend the file now?"
        ),
        await conv.buttons(rows),
    )


async def answered(query: CallbackQuery, tap: Tap, conv: Conversation) -> None:
    conv.close_keyboard(query)
    # Spent: a second tap of either button (a double tap) sends nothing more.
    await conv.spend_buttons()
    if tap.value == SEND:
        await send(conv)
    else:
        conv.say(_("Nothing was sent."))
    await conv.ask_current()


async def send(conv: Conversation) -> None:
    lines = await copy_lines(conv)
    case = await open_case_of(conv.session, beneficiary_id=conv.beneficiary.id)
    await record_audit(
        conv.session,
        actor="bot",
        action="data.exported",
        object_type="case",
        object_id=case.code if case else None,
        details={},
    )
    document = BufferedInputFile("\n".join(lines).encode("utf-8"), filename=FILE_NAME)
    conv.outgoing.send_document(
        conv.chat_id, document, caption=_("Here is a copy of everything we hold about you.")
    )


# ── what the copy holds ─────────────────────────────────────────────────────────────────────────


async def copy_lines(conv: Conversation) -> list[str]:
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
            made = stamp(conv, request.created_at)
            kind = _(REQUEST_KINDS.get(request.kind, request.kind))
            lines.append(f"  {made} {kind}: {_(REQUEST_STATUSES.get(request.status, request.status))}")
    lines += await feedback_lines(conv)
    return lines


async def feedback_lines(conv: Conversation) -> list[str]:
    """Feedback they gave with their case, what they wrote and our answers (anonymous feedback holds
    nothing that leads to them, so it is not here)."""
    given = await feedback.feedback_of(conv.session, beneficiary_id=conv.beneficiary.id)
    if not given:
        return []
    lines = ["", _("My feedback")]
    for item in given:
        status = _(rules.STATUS_LABELS[rules.Status(item.status)])
        lines.append(
            f"  {stamp(conv, item.created_at)} "
            + _("Your feedback {reference}: {status}.").format(
                reference=rules.shown(item.reference), status=status
            )
        )
        lines.append("    " + _(rules.KIND_LABELS[rules.Kind(item.kind)]))
        body = feedback.body_of(conv.crypto, item)
        if body.get("text") or body.get("caption"):
            lines.append("    " + str(body.get("text") or body.get("caption")))
        for note, text in await feedback.notes_of(conv.session, conv.crypto, feedback=item):
            if note.kind == feedback.ANSWER:
                lines += ["    " + _("Our answer:"), "    " + text]
    return lines


def stamp(conv: Conversation, at: dt.datetime) -> str:
    """A date and time in the office's time zone, as the person's language writes it."""
    return dates.stamp(at, zoneinfo.ZoneInfo(conv.config.timezone), conv.locale)


def answer_line(question: Question, value: object, locale: str) -> str:
    """A question's short label and the answer, which keeps its own direction (a phone number or a
    name in Latin letters inside a Persian line)."""
    return f"  {_(question.short_label)}: {piece(answer_text(question, value), locale)}"


def answer_text(question: Question, value: object) -> str:
    labels = {option.value: _(option.label) for option in question.options}
    if question.kind is Kind.YES_NO:
        return _("Yes") if value == "yes" else _("No")
    if isinstance(value, list):
        return listed([labels.get(item, str(item)) for item in value])
    return labels.get(str(value), str(value))


def stage_line(stage: str) -> str | None:
    """Where the case is, in plain words; None for a stage this version does not know."""
    plain = STAGE_PLAIN.get(stage)  # Stage is a StrEnum: its values are the stored codes
    return None if plain is None else _("Where your case is: {stage}").format(stage=_(plain))


async def case_lines(conv: Conversation, case: Case) -> list[str]:
    lines = ["", _("Case number: {code}").format(code=case.code)]
    stage = stage_line(case.stage)
    if stage is not None:
        lines.append(stage)
    forms = await latest_answers(
        conv.session, conv.crypto, case_id=case.id, form_ids=[*FORMS, SCREENING_DECISION]
    )
    lines.append(eligibility(case, forms.get(SCREENING_DECISION, (None, {}))[1]))
    for form_id, form in FORMS.items():
        if form_id not in forms:
            continue
        answers = forms[form_id][1]
        # Only the person's own questions: a caseworker's call adds its outcome, notes and name.
        asked = [question for question in form.questions if question.id in answers]
        if asked:
            lines += ["", _(form.title)]
            lines += [answer_line(q, answers[q.id], conv.locale) for q in asked]
    lines += await appointment_lines(conv, case)
    lines += await plan_lines(conv, case)
    lines += await consent_lines(conv, case)
    messages = await case_messages(conv.session, case_id=case.id)
    if messages:
        lines += ["", _("Messages")]
        for message in messages:
            body = unseal_json(conv.crypto, message, "body_enc") or {}
            who = _("You") if message.direction == "in" else _("Caseworker")
            content = body.get("text") or body.get("caption") or body.get("file_name") or f"[{message.kind}]"
            lines.append(f"  {stamp(conv, message.created_at)} {who}: {content}")
    return lines


def eligibility(case: Case, decision: dict[str, Any]) -> str:
    """The caseworker's decision when there is one, else the screening's provisional result; never a
    bare "not eligible" (docs/programme.md, Annex 2): what happens next is said with it."""
    if decision.get("eligible") == "yes":
        return _("Eligibility: a caseworker confirmed that you can take part in the programme.")
    if decision.get("eligible") == "no":
        return _(
            "Eligibility: a caseworker decided that this programme is not the right one for you, and "
            "tells you where else help can be found."
        )
    if case.provisionally_eligible is True:
        return _("Eligibility: from your answers, you can probably take part; a caseworker will confirm it.")
    if case.provisionally_eligible is False:
        return _(
            "Eligibility: from your answers, this programme may not be the right one for you; a caseworker "
            "will look at it with you."
        )
    return _("Eligibility: not known yet.")


async def appointment_lines(conv: Conversation, case: Case) -> list[str]:
    appointments = await case_appointments(conv.session, case_id=case.id)
    if not appointments:
        return []
    now = conv.config.clock()
    coming = [a for a in reversed(appointments) if a.starts_at > now]
    past = [a for a in appointments if a.starts_at <= now]
    lines: list[str] = []
    for title, group in ((_("Appointments to come"), coming), (_("Past appointments"), past)):
        if not group:
            continue
        lines += ["", title]
        for appointment in group:
            place = Place(
                appointment.office, office_schedule(appointment.office, default_timezone=conv.config.timezone)
            )
            kind = _(APPOINTMENT_TYPES.get(appointment.type, appointment.type))
            status = _(APPOINTMENT_STATUSES.get(appointment.status, appointment.status))
            name = piece(office_name(appointment.office, conv.locale), conv.locale)
            lines.append(f"  {kind}: {when(appointment.starts_at, place, conv.locale)}, {name} ({status})")
    return lines


async def plan_lines(conv: Conversation, case: Case) -> list[str]:
    plan = await plans.load_plan(conv.session, case_id=case.id)
    areas = {option.value: _(option.label) for option in SERVICE_AREAS}
    lines: list[str] = []
    if plan.goals or plan.activities:
        lines += ["", _("Your plan")]
    for goal in plan.goals:
        lines.append("  " + _("Goal: {goal}").format(goal=plans.text_of(conv.crypto, goal, "text_enc")))
    for activity in plan.activities:
        text = plans.text_of(conv.crypto, activity, "text_enc")
        status = _(ACTIVITY_STATUSES.get(activity.status, activity.status))
        due = ""
        if activity.due_on:
            due = _(", by {date}").format(date=dates.long_date(activity.due_on, conv.locale))
        lines.append(f"  {areas.get(activity.service_area, '')}: {piece(text, conv.locale)}{due} ({status})")
    referrals = await plans.case_referrals(conv.session, case_id=case.id)
    if referrals:
        lines += ["", _("Referrals to partner organisations")]
        for referral, partner in referrals:
            status = _(REFERRAL_STATUSES.get(referral.status, referral.status))
            at, name = piece(stamp(conv, referral.created_at), conv.locale), piece(partner, conv.locale)
            lines.append(f"  {at} {name}: {status}")
    return lines


async def consent_lines(conv: Conversation, case: Case) -> list[str]:
    records = await consent_history(conv.session, case_id=case.id)
    if not records:
        return []
    lines = ["", _("Your consent, newest first")]
    for record in records:
        lines.append("  " + _("Given on {date}:").format(date=stamp(conv, record.recorded_at)))
        lines += ["    " + line for line in consent.choice_lines(record)]
    return lines


def create_router() -> Router:
    router = Router(name="mycopy")
    router.message.register(offer, Command("mydata"))
    router.callback_query.register(answered, FreshTap(SEND, NOT_NOW), F.message)
    return router
