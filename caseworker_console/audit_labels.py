"""What the audit page shows for the codes the audit log stores: one label for every action and
object kind recorded anywhere in the code base, translated where shown. The stored code stays the
filter's value and is shown next to its label; a code with no label (older data) is shown as it is."""

from __future__ import annotations

import gettext

from programme.appointments import APPOINTMENT_TYPES
from programme.cycle import STAGE_LABELS, TERMINATION_LABELS
from programme.figures import REFERRAL_STATUSES
from programme.text import N_

ACTION_LABELS: dict[str, str] = {
    # The beneficiary's journey, recorded by the bot.
    "case.opened": N_("Case opened by the bot"),
    "consent.recorded": N_("Consent recorded"),
    "consent.withdrawn": N_("Consent withdrawn"),
    "case.handoff": N_("Asked to speak to a person"),
    "data.exported": N_("Own data sent to the beneficiary"),
    "request.correction": N_("Correction of data requested"),
    "request.withdrawal": N_("Withdrawal of consent requested"),
    "request.deletion": N_("Deletion of data requested"),
    "alert.urgent": N_("Urgent help asked for"),
    "alert.crisis_words": N_("Words of crisis noticed"),
    "beneficiary.erased": N_("Beneficiary's data erased"),
    "appointment.booked": N_("Appointment booked"),
    "appointment.rescheduled": N_("Appointment moved"),
    "appointment.cancelled": N_("Appointment cancelled"),
    "appointment.confirmed": N_("Appointment confirmed"),
    "appointment.proposal_accepted": N_("Proposed time accepted"),
    "appointment.proposal_declined": N_("Proposed times declined"),
    # Casework in the console.
    "case.viewed": N_("Case viewed"),
    "case.taken": N_("Case taken"),
    "case.assigned": N_("Case assigned"),
    "case.stage_changed": N_("Stage changed"),
    "case.closed": N_("Case closed"),
    "case.reopened": N_("Case reopened"),
    "form.saved": N_("Form saved"),
    "identity.revealed": N_("Identity shown"),
    "conversation.replied": N_("Reply sent"),
    "conversation.read": N_("Messages read"),
    "conversation.handed_back": N_("Conversation handed back to the bot"),
    "request.done": N_("Request marked as done"),
    "requests.revealed": N_("Request text shown"),
    "adverse_event.recorded": N_("Adverse event recorded"),
    "alerts.acknowledged": N_("Alerts acknowledged"),
    "alerts.opened": N_("Alerts opened"),
    "appointment.marked": N_("Appointment attendance marked"),
    "appointment.proposed": N_("Appointment times proposed"),
    "appointment.proposal_withdrawn": N_("Proposed times withdrawn"),
    "priority.set": N_("Priority groups set"),
    "plan.need": N_("Plan: need added"),
    "plan.order": N_("Plan: needs reordered"),
    "plan.goal": N_("Plan: goal added"),
    "plan.activity": N_("Plan: activity added"),
    "plan.status": N_("Plan: activity status changed"),
    "plan.review": N_("Plan: review recorded"),
    "plan.edit-need": N_("Plan: need changed"),
    "plan.edit-goal": N_("Plan: goal changed"),
    "plan.edit-activity": N_("Plan: activity changed"),
    "plan.delete-need": N_("Plan: need removed"),
    "plan.delete-goal": N_("Plan: goal removed"),
    "plan.delete-activity": N_("Plan: activity removed"),
    "referral.made": N_("Referral made"),
    "referral.status": N_("Referral status changed"),
    # Erasure requests, decided by supervisors.
    "erasure.carried_out": N_("Erasure request carried out"),
    "erasure.refused": N_("Erasure request refused"),
    # Retention.
    "hold.placed": N_("Legal hold placed"),
    "hold.viewed": N_("Legal hold's reason read"),
    "hold.lifted": N_("Legal hold lifted"),
    "retention.purged": N_("Retention purge ran"),
    # Lists, calendars and exports.
    "queue.list": N_("Queue viewed"),
    "cases.list": N_("Case list viewed"),
    "cases.searched": N_("Cases searched"),
    "calendar.viewed": N_("Calendar viewed"),
    "calendar_feed.created": N_("Calendar feed created"),
    "calendar_feed.revoked": N_("Calendar feed revoked"),
    "figures.exported": N_("Figures exported"),
    "cases.exported": N_("Cases exported"),
    "full_export.downloaded": N_("Full export downloaded"),
    "full_export.erased": N_("Full export deleted: a person in it was erased"),
    "audit.viewed": N_("Audit log viewed"),
    # Accounts.
    "staff.created": N_("Account created"),
    "staff.password_set": N_("Password set"),
    "staff.password_reset": N_("Password reset to a temporary one"),
    "staff.password_changed": N_("Password changed by its holder"),
    "staff.role_changed": N_("Role changed"),
    "staff.language_set": N_("Console language changed"),
    "staff.enabled": N_("Account enabled"),
    "staff.disabled": N_("Account disabled"),
    "staff.grant_requested": N_("Access to cases asked for an account"),
    "staff.grant_approved": N_("Access to cases approved"),
    "staff.grant_refused": N_("Access to cases refused"),
    "staff.login": N_("Signed in"),
    "staff.login_failed": N_("Sign-in failed"),
    "staff.login_refused": N_("Sign-in refused"),
    "staff.locked": N_("Account locked after failed sign-ins"),
    "staff.unlocked": N_("Account unlocked"),
    "staff.logout": N_("Signed out"),
    "staff.telegram_code": N_("Telegram link code made"),
    "staff.telegram_linked": N_("Telegram chat linked"),
    "staff.alerts_chosen": N_("Alerts on the phone chosen"),
    "staff.telegram_unlinked": N_("Telegram chat unlinked"),
    # Partners, channels and campaigns.
    "partner.added": N_("Partner added"),
    "partner.changed": N_("Partner changed"),
    "channel.created": N_("Channel created"),
    "channel.changed": N_("Channel changed"),
    "channel.activated": N_("Channel activated"),
    "channel.deactivated": N_("Channel deactivated"),
    "campaign.created": N_("Campaign created"),
    "campaign.changed": N_("Campaign changed"),
    "campaign.scheduled": N_("Campaign scheduled"),
    "campaign.paused": N_("Campaign paused"),
    "campaign.resumed": N_("Campaign resumed"),
    "campaign.cancelled": N_("Campaign cancelled"),
    "campaign.test_sent": N_("Campaign test sent to oneself"),
    "campaign.approval_needed": N_("Campaign refused: it needs a supervisor's approval"),
    "campaign.approved": N_("Campaign approved by a supervisor"),
    "campaign.approval_voided": N_("Campaign changed after approval: approval void"),
    "campaign.held_for_approval": N_("Campaign back to draft: it now needs a supervisor's approval"),
    "campaign.uncertain_resent": N_("Campaign sent again to the recipients whose delivery was uncertain"),
    "campaign.uncertain_left": N_("Campaign's uncertain deliveries left as they are"),
    "case.uncertain_resent": N_("Message whose delivery was uncertain sent again"),
    "case.uncertain_left": N_("Message whose delivery was uncertain left as it is"),
    # Offices, kept by administrators.
    "office.created": N_("Office created"),
    "office.changed": N_("Office changed"),
    "office.closed": N_("Office closed for a day or a range"),
    "office.reopened": N_("Office's closure removed"),
    # The organisation and its ready replies.
    "organisation.changed": N_("Organisation's settings changed"),
    "ready_reply.added": N_("Ready reply added"),
    "ready_reply.changed": N_("Ready reply changed"),
    # Feedback and complaints (codes only: the reference, never the text).
    "feedback.received": N_("Feedback received from the bot"),
    "feedback.read": N_("Feedback read"),
    "feedback.answered": N_("Feedback answered"),
    "feedback.action_recorded": N_("What was done about feedback recorded"),
    "feedback.status": N_("Feedback status changed"),
    "feedback.assigned": N_("Feedback assigned"),
    "feedback.figures_exported": N_("Feedback figures exported"),
    "satisfaction.answered": N_("Question after closing answered"),
    "staff.focal_point": N_("Account named a focal point for complaints"),
    "staff.focal_point_removed": N_("Account no longer a focal point for complaints"),
}

OBJECT_LABELS: dict[str, str] = {
    "case": N_("Case"),
    "feedback": N_("Feedback"),
    "satisfaction": N_("Question after closing"),
    "cases": N_("Cases"),
    "appointment": N_("Appointment"),
    "audit_log": N_("Audit log"),
    "campaign": N_("Campaign"),
    "channel": N_("Channel"),
    "figures": N_("Figures"),
    "full_export": N_("Full export"),
    "office": N_("Office"),
    "organisation": N_("Organisation"),
    "ready_reply": N_("Ready reply"),
    "partner": N_("Partner"),
    "retention": N_("Retention"),
    "staff": N_("Staff"),
    "staff_user": N_("Staff account"),
}

# Why a case was erased (storage.models_erasure: the tombstone's reason), as the audit page and an
# erased case's page say it.
ERASURE_REASONS: dict[str, str] = {
    "request": N_("at the person's request"),
    "retention": N_("at the end of its retention period"),
}

# Detail values that are codes with a label already, by the action and key they appear under.
_STAGES = {str(code): label for code, label in STAGE_LABELS.items()}
_DETAIL_VALUE_LABELS: dict[tuple[str, str], dict[str, str]] = {
    ("case.closed", "reason"): {str(code): label for code, label in TERMINATION_LABELS.items()},
    ("case.stage_changed", "from"): _STAGES,
    ("case.stage_changed", "to"): _STAGES,
    ("referral.status", "from"): REFERRAL_STATUSES,
    ("referral.status", "to"): REFERRAL_STATUSES,
    ("appointment.booked", "type"): APPOINTMENT_TYPES,
    ("appointment.rescheduled", "type"): APPOINTMENT_TYPES,
    ("beneficiary.erased", "reason"): ERASURE_REASONS,
}


def action_label(translations: gettext.NullTranslations, code: str) -> str:
    label = ACTION_LABELS.get(code)
    return translations.gettext(label) if label else code


def object_label(translations: gettext.NullTranslations, code: str) -> str:
    label = OBJECT_LABELS.get(code)
    return translations.gettext(label) if label else code


def detail_value(translations: gettext.NullTranslations, action: str, key: str, value: object) -> str:
    label = _DETAIL_VALUE_LABELS.get((action, key), {}).get(str(value))
    return translations.gettext(label) if label else str(value)
