"""The setup checklist an administrator sees at the top of every page until the installation is
ready for its first person: the organisation named, an office, a caseworker's account, a staff
chat linked for alerts, the data controller's contact. Each step is read from what exists, so a
step done elsewhere (a setting, another administrator) is ticked off without anyone saying so."""

from __future__ import annotations

import dataclasses

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from caseworker_console.config import ConsoleConfig
from programme.text import N_
from storage.models import StaffUser
from storage.models_appointments import Office
from storage.models_staff_link import StaffTelegramLink


@dataclasses.dataclass(frozen=True)
class SetupStep:
    key: str
    title: str  # a msgid
    how: str  # a msgid: what to do while it is not done
    done: bool
    route: str | None = None  # the console page where it is done; None: a setting


async def organisation_steps(session: AsyncSession, settings: ConsoleConfig) -> list[SetupStep]:
    """The organisation's name (which the consent text gives as the data controller) and where
    people ask about their data: as saved on the Organisation page, else as the server's settings
    (INTAKE_DATA_CONTROLLER, INTAKE_DATA_CONTACT) give them on a first start."""
    organisation = await settings.organisation(session)
    return [
        SetupStep(
            "organisation",
            N_("Name the organisation"),
            N_("On the Organisation page, give the name the consent text gives it, in each language."),
            bool(organisation.controller.strip()),
            "organisation",
        ),
        SetupStep(
            "data_controller",
            N_("Say where people ask about their data"),
            N_("On the Organisation page, give the data controller's address, phone or e-mail."),
            bool(organisation.contact.strip()),
            "organisation",
        ),
    ]


async def _any(session: AsyncSession, condition: object) -> bool:
    return bool((await session.execute(select(exists().where(condition)))).scalar())  # type: ignore[arg-type]


async def setup_steps(session: AsyncSession, settings: ConsoleConfig) -> list[SetupStep]:
    organisation, data_controller = await organisation_steps(session, settings)
    caseworker = (StaffUser.role.in_(("caseworker", "supervisor"))) & StaffUser.active
    return [
        organisation,
        SetupStep(
            "office",
            N_("Add an office"),
            N_("Add the office where people are received, with its hours."),
            await _any(session, Office.active),
            "office_edit",
        ),
        SetupStep(
            "caseworker",
            N_("Make a caseworker's account"),
            N_("Make an account for a caseworker; a supervisor approves its access to cases."),
            await _any(session, caseworker),
            "accounts",
        ),
        SetupStep(
            "staff_chat",
            N_("Link a staff member's Telegram chat"),
            N_("Under My account, link a Telegram chat, so that alerts and campaign tests reach staff."),
            await _any(session, StaffTelegramLink.id.isnot(None)),
            "account",
        ),
        data_controller,
    ]
