"""The bot's dialogs, one module each, registered here in the order their routers are included.

Each module owns its states (a StatesGroup), registers how each is asked (`@step`) and builds its
router (`create_router()`). Commands come first, so they work from any step; the fallback is last,
taking what no step expected. A new dialog is a module and one line below.
"""

from __future__ import annotations

from bot.dialogs import (
    appointments,
    consent,
    fallback,
    feedback,
    handoff,
    interview,
    language,
    menu,
    mycopy,
    mydata,
    proposals,
    reminders,
    screening,
    start,
    urgent,
)

DIALOGS = (
    start,
    menu,
    urgent,
    language,
    mydata,
    mycopy,
    feedback,
    consent,
    appointments,
    proposals,
    reminders,
    handoff,
    interview,
    screening,
    fallback,
)
