"""Who may do what: the roles' permissions, and which cases each person may see or change."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from programme.feedback import Routing
from storage.models import Case


class Permission(enum.StrEnum):
    """What a route needs. Each console route declares exactly one (see caseworker_console.routing)."""

    SIGNED_IN = "signed_in"  # any active account
    CASES_LIST = "cases.list"
    CALENDAR = "calendar.view"  # the offices' appointment calendars: case codes, never names
    QUEUE = "queue.view"
    CASE_READ = "case.read"
    CASE_TAKE = "case.take"
    CASE_WRITE = "case.write"
    CASE_ASSIGN = "case.assign"
    IDENTITY = "identity.reveal"
    ADVERSE_READ = "adverse.read"  # Annex 3 reports: the case's own caseworker and supervisors
    AUDIT = "audit.read"
    ACCOUNTS = "accounts.manage"
    # Approving an account an administrator gave access to case data (the second person).
    GRANTS = "grants.approve"
    CHANNELS = "channels.manage"  # outreach channels, their flyers and counts (never case content)
    FIGURES = "figures.read"  # counts only: the dashboard and its figures exports
    EXPORT_CASES = "cases.export"  # case rows, pseudonymised; a full export also needs a reason
    PARTNERS = "partners.read"  # the partner directory, to refer from
    PARTNERS_MANAGE = "partners.manage"
    CALENDAR_FEED = "calendar.feed"  # one's own appointments as a calendar feed
    CAMPAIGNS = "campaigns.manage"  # outreach campaigns: notices and counts, never who got them
    # Approving a campaign that sensitive filters narrow to few people (the second person).
    CAMPAIGN_APPROVE = "campaigns.approve"
    ERASURE = "erasure.decide"  # erasure requests: carry one out (erasing the person) or refuse it
    # What the retention purge will erase soon, and legal holds that keep a case past its period.
    LEGAL_HOLD = "retention.hold"
    OFFICES = "offices.read"  # the offices' addresses, hours, holidays and closures
    OFFICES_MANAGE = "offices.manage"  # creating, changing, closing and deactivating an office
    # The organisation's name and data contact (the consent text names them) and the programme's hours.
    ORGANISATION = "organisation.manage"
    READY_REPLIES = "ready_replies.manage"  # the ready replies caseworkers send, in every language
    # Feedback and complaints from the people served: the supervisors read feedback about the
    # service; complaints about staff only those of them named focal points (`feedback_routings`).
    FEEDBACK = "feedback.read"
    # The operations page: the worker's heartbeat, the outbox backlog, the bot, the database, the keys.
    OPERATIONS = "operations.read"


_CASEWORK = frozenset(
    {
        Permission.SIGNED_IN,
        Permission.CASES_LIST,
        Permission.CALENDAR,
        Permission.QUEUE,
        Permission.CASE_READ,
        Permission.CASE_TAKE,
        Permission.CASE_WRITE,
        Permission.IDENTITY,
        Permission.ADVERSE_READ,
        Permission.PARTNERS,
        Permission.CALENDAR_FEED,
    }
)

# docs/programme.md "Roles": outreach officers and administrators see no case content at all.
ROLE_PERMISSIONS: Mapping[str, frozenset[Permission]] = {
    "caseworker": _CASEWORK,
    "supervisor": _CASEWORK
    | {
        Permission.CASE_ASSIGN,
        Permission.AUDIT,
        Permission.GRANTS,
        Permission.CHANNELS,
        Permission.FIGURES,
        Permission.EXPORT_CASES,
        Permission.PARTNERS_MANAGE,
        Permission.CAMPAIGNS,
        Permission.CAMPAIGN_APPROVE,
        Permission.ERASURE,
        Permission.LEGAL_HOLD,
        Permission.OFFICES,
        Permission.FEEDBACK,
        Permission.READY_REPLIES,
    },
    # Outreach officers run channels and read the programme's figures (counts only), never a case.
    "outreach": frozenset(
        {Permission.SIGNED_IN, Permission.CHANNELS, Permission.FIGURES, Permission.CAMPAIGNS}
    ),
    # Administrators set the organisation up (accounts, offices, its name and hours), never seeing
    # case content.
    "admin": frozenset(
        {
            Permission.SIGNED_IN,
            Permission.ACCOUNTS,
            Permission.OFFICES,
            Permission.OFFICES_MANAGE,
            Permission.OPERATIONS,
            Permission.ORGANISATION,
        }
    ),
}

# Permissions that act on one case, and whether they need the case to be the person's own
# (True) or only visible to them (False: a caseworker may look at a queued case before taking it).
CASE_PERMISSIONS: Mapping[Permission, bool] = {
    Permission.CASE_READ: False,
    Permission.CASE_TAKE: False,
    Permission.CASE_WRITE: True,
    Permission.CASE_ASSIGN: True,
    Permission.IDENTITY: True,
    Permission.ADVERSE_READ: True,
}


class CaseAccess(enum.Enum):
    NONE = "none"  # not in their caseload or the queue: answered as if it did not exist
    VISIBLE = "visible"  # in the queue: may be read and taken, not changed
    OWN = "own"  # theirs to work on (a supervisor's for every case)


def allows(role: str, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def case_access(*, role: str, staff_id: int, case: Case) -> CaseAccess:
    if role == "supervisor":
        return CaseAccess.OWN
    if role != "caseworker":
        return CaseAccess.NONE
    if case.assigned_to == staff_id:
        return CaseAccess.OWN
    if case.assigned_to is None and case.stage != "closed":
        return CaseAccess.VISIBLE
    return CaseAccess.NONE


def sees_identity(*, role: str, staff_id: int, case: Case) -> bool:
    """May this reader see who the case's person is: name, phone, what was written (free-text answers,
    plan texts, requests) and the conversation. The one rule every case page asks (docs/console.md
    "Who sees whom"): the case's own caseworker and supervisors, who also may reveal the identity.
    Anyone else who may open the case (a caseworker looking at a queued one) sees it pseudonymised,
    and takes the case to see more."""
    access = case_access(role=role, staff_id=staff_id, case=case)
    return access is CaseAccess.OWN and allows(role, Permission.IDENTITY)


def feedback_routings(*, role: str, focal_point: bool) -> frozenset[Routing]:
    """Which feedback a reader sees: a supervisor the feedback about the service, a supervisor named
    a focal point also the complaints about staff and what people are afraid to tell their
    caseworker. Nobody else sees any, the case's own caseworker least of all."""
    if not allows(role, Permission.FEEDBACK):
        return frozenset()
    return frozenset({Routing.SUPERVISORS, Routing.FOCAL_POINTS} if focal_point else {Routing.SUPERVISORS})
