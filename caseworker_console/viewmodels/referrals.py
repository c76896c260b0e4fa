"""A case's referrals tab as it is shown: its referrals with the moves each may make, why none can
be made now (if so), and the choices of the referring form, in the reader's language."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gettext
import uuid
import zoneinfo
from collections.abc import Sequence

from caseworker_console import formview, i18n
from programme import figures as rules
from programme.cycle import Stage
from programme.forms import SERVICE_AREAS
from programme.plan import PLAN_STAGES
from programme.text import N_
from storage.models_figures import Partner, Referral
from storage.models_plan import PlanActivity

LOCKED = N_(
    "Referrals are made from the activities of the integration plan, which opens at intervention planning."
)
NO_CONSENT = N_(
    "The beneficiary's current consent does not allow sharing their data with partners: no referral "
    "can be made. Record a new consent first."
)
WITHDRAWN = N_(
    "The beneficiary has stopped taking part and withdrawn their consent: no referral can be made. "
    "Close the case with reason 1."
)
CLOSED = N_("This case is closed. Reopen it first.")


def plan_open(stage: str) -> bool:
    """Referrals are read once the plan has opened: from intervention planning, and when closed."""
    return stage in PLAN_STAGES or stage == Stage.CLOSED


@dataclasses.dataclass(frozen=True)
class Loaded:
    """What the tab is built from, as storage gives it."""

    stage: str
    consent: bool  # the current consent allows case work
    withdrawn: bool  # the person stopped taking part
    # The plan's activities (none before the plan opens) and their texts, None where the reader
    # may not see them (permissions.sees_identity: nothing was decrypted).
    activities: Sequence[PlanActivity]
    texts: dict[uuid.UUID, str | None]
    partners: Sequence[Partner]
    referrals: Sequence[Referral]


@dataclasses.dataclass(frozen=True)
class ReferralView:
    id: str
    partner: str
    area: str
    activity: str
    status: str
    status_code: str
    made: str
    changed: str
    moves: list[tuple[str, str]]


@dataclasses.dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclasses.dataclass(frozen=True)
class ReferralsTab:
    referrals: list[ReferralView]
    note: str | None  # why no referral can be made now
    can_refer: bool
    activities: list[Choice]
    partner_groups: list[tuple[str, list[Choice]]]  # active partners by service area


def build_referrals(
    loaded: Loaded,
    *,
    can_write: bool,
    translate: gettext.NullTranslations,
    locale: str,
    zone: zoneinfo.ZoneInfo,
) -> ReferralsTab:
    areas = {option.value: translate.gettext(option.label) for option in SERVICE_AREAS}
    hidden = translate.gettext(formview.HIDDEN)
    texts = {key: hidden if text is None else text for key, text in loaded.texts.items()}
    note = refusal(loaded)
    return ReferralsTab(
        referrals=[
            referral_view(row, loaded, texts, areas, translate, locale, zone) for row in loaded.referrals
        ],
        note=translate.gettext(note) if note else None,
        can_refer=can_write and note is None,
        activities=[
            Choice(str(activity.id), f"{areas.get(activity.service_area, '')}: {texts[activity.id]}")
            for activity in loaded.activities
        ],
        partner_groups=[
            (
                label,
                [
                    Choice(str(partner.id), partner.name)
                    for partner in loaded.partners
                    if partner.active and partner.service_area == area
                ],
            )
            for area, label in areas.items()
        ],
    )


def refusal(loaded: Loaded) -> str | None:
    """Why no referral can be made now (a msgid), or None."""
    if not plan_open(loaded.stage):
        return LOCKED
    if loaded.stage == Stage.CLOSED:
        return CLOSED
    if loaded.withdrawn:
        return WITHDRAWN
    if not loaded.consent:
        return NO_CONSENT
    return None


def referral_view(
    row: Referral,
    loaded: Loaded,
    texts: dict[uuid.UUID, str],
    areas: dict[str, str],
    translate: gettext.NullTranslations,
    locale: str,
    zone: zoneinfo.ZoneInfo,
) -> ReferralView:
    statuses = {key: translate.gettext(label) for key, label in rules.REFERRAL_STATUSES.items()}
    partner = next(partner for partner in loaded.partners if partner.id == row.partner_id)

    def when(value: dt.datetime) -> str:
        return i18n.format_local_datetime(value, locale=locale, timezone=zone)

    return ReferralView(
        id=str(row.id),
        partner=partner.name,
        area=areas.get(partner.service_area, ""),
        activity=texts.get(row.activity_id, ""),
        status=statuses.get(row.status, row.status),
        status_code=row.status,
        made=when(row.created_at),
        changed=when(row.changed_at),
        moves=[
            (move, statuses[move])
            for move in rules.REFERRAL_STATUSES
            if move in rules.REFERRAL_MOVES[row.status]
        ],
    )
