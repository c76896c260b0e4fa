"""The console's route table, one module per area; every entry declares the permission it needs."""

from __future__ import annotations

from caseworker_console.routes import (
    accounts,
    adverse,
    appointments,
    assessment,
    audit,
    auth,
    calendar,
    campaigns,
    casefile,
    cases,
    channels,
    consent,
    conversation,
    documents,
    figures,
    interview,
    own_account,
    partners,
    plan,
    priority,
    queue,
    referrals,
    requests,
    screening,
    stages,
    system,
)
from caseworker_console.routing import ConsoleRoute


def all_routes() -> list[ConsoleRoute]:
    return [
        *system.routes,
        *auth.routes,
        *cases.routes,
        *queue.routes,
        *casefile.routes,
        *priority.routes,
        *screening.routes,
        *interview.routes,
        *assessment.routes,
        *conversation.routes,
        *requests.routes,
        *consent.routes,
        *plan.routes,
        *documents.routes,
        *referrals.routes,
        *adverse.routes,
        *appointments.routes,
        *stages.routes,
        *figures.routes,
        *partners.routes,
        *calendar.routes,
        *audit.routes,
        *accounts.routes,
        *channels.routes,
        *campaigns.routes,
        *own_account.routes,
    ]
