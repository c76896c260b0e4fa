"""Dialog states' former names, read as today's so that someone mid-dialog continues across a rename.

Until December 2026 every step was a state of one `Journey` group ("Journey:name"); each dialog
module now owns its states ("Screening:name"). A saved dialog (dialog_states.state) or a saved place
to return to (the dialog data's former "return_to") holding an old name is read as the new one
(bot.fsm_storage, bot.conversation); the row takes the new name the next time the dialog is written.
Renaming a state later: add its old name here too. tests/bot/test_renamed_states.py checks that every
old name leads to a step that exists and that a person saved at each one carries on.
"""

from __future__ import annotations

RENAMED: dict[str, str] = {
    "Journey:language": "Language:choose",
    "Journey:privacy": "Screening:privacy",
    "Journey:name": "Screening:name",
    "Journey:screening": "Screening:questions",
    "Journey:interview_offer": "Interview:offer",
    "Journey:interview": "Interview:questions",
    "Journey:interview_summary": "Interview:summary",
    "Journey:consent_age": "Consent:age",
    "Journey:consent_text": "Consent:text",
    "Journey:consent_casework": "Consent:casework",
    "Journey:consent_publicity": "Consent:publicity",
    "Journey:consent_third_party": "Consent:third_party",
    "Journey:done": "Menu:main",
    "Journey:handoff_reason": "Handoff:reason",
    "Journey:conversation": "Handoff:conversation",
    "Journey:correction": "MyData:correction",
    "Journey:withdrawal": "MyData:withdrawal",
    "Journey:deletion": "MyData:deletion",
    "Journey:appointments": "Appointments:overview",
    "Journey:appointment_type": "Appointments:kind",
    "Journey:appointment_office": "Appointments:office",
    "Journey:appointment_date": "Appointments:date",
    "Journey:appointment_time": "Appointments:time",
    "Journey:appointment_confirm": "Appointments:confirm",
    "Journey:appointment_cancel": "Appointments:cancel",
}


def current_name(state: str | None) -> str | None:
    """The state's name today (a name never renamed is its own)."""
    return RENAMED.get(state, state) if state else state
