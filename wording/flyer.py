"""The invitation printed on an outreach channel's flyer, once in each of its languages.

The console renders flyers (caseworker_console.flyer) with these texts from the bot's catalog,
because they speak to beneficiaries in the bot's seven languages.
"""

from __future__ import annotations

from programme.text import N_

TITLE = N_("New here? Free help to settle in.")
BODY = N_(
    "Scan the QR code with your phone's camera to talk with us on Telegram, in your language. "
    "We help with documents, language, work, health and more."
)
