"""A case's referrals tab as a view model, built from rows made by hand: no database, no HTTP."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gettext
import uuid
import zoneinfo

import pytest

from caseworker_console.viewmodels.referrals import Loaded, build_referrals
from storage.models_figures import Partner, Referral
from storage.models_plan import PlanActivity

BAKU = zoneinfo.ZoneInfo("Asia/Baku")
MADE = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
ACTIVITY = PlanActivity(id=uuid.uuid4(), service_area="language")
CLINIC = Partner(id=1, name="City clinic", service_area="health_social", active=True)
SCHOOL = Partner(id=2, name="Language school", service_area="language", active=True)
GONE = Partner(id=3, name="Closed school", service_area="language", active=False)


def referral(partner: Partner, status: str) -> Referral:
    return Referral(
        id=uuid.uuid4(),
        partner_id=partner.id,
        activity_id=ACTIVITY.id,
        status=status,
        created_at=MADE,
        changed_at=MADE + dt.timedelta(days=1),
    )


OPEN = Loaded(
    stage="intervention_planning",
    consent=True,
    withdrawn=False,
    activities=[ACTIVITY],
    texts={ACTIVITY.id: "Azerbaijani course, evenings"},
    partners=[CLINIC, GONE, SCHOOL],
    referrals=[referral(GONE, "accepted"), referral(SCHOOL, "declined")],
)


def english(loaded: Loaded, *, can_write: bool = True) -> object:
    return build_referrals(
        loaded, can_write=can_write, translate=gettext.NullTranslations(), locale="en", zone=BAKU
    )


def test_referrals_show_partner_activity_times_and_the_moves_left() -> None:
    tab = english(OPEN)
    first, second = tab.referrals
    assert (first.partner, first.activity, first.status) == (
        "Closed school",
        OPEN.texts[ACTIVITY.id],
        "Accepted",
    )
    assert first.area == "Learning the Azerbaijani language"
    assert first.made == "Nov 30, 2026, 12:00\u202fPM" and first.changed == "Dec 1, 2026, 12:00\u202fPM"
    assert first.moves == [("done", "Done"), ("declined", "Declined")]
    assert second.moves == []
    assert tab.note is None and tab.can_refer
    assert [(choice.label) for choice in tab.activities] == [
        "Learning the Azerbaijani language: Azerbaijani course, evenings"
    ]
    groups = dict(tab.partner_groups)
    # Only active partners are offered, each under its area.
    assert [choice.label for choice in groups["Learning the Azerbaijani language"]] == ["Language school"]
    assert [choice.label for choice in groups["Health and social services"]] == ["City clinic"]


def test_a_reader_who_may_not_see_the_plan_reads_hidden_for_its_texts() -> None:
    tab = english(dataclasses.replace(OPEN, texts={ACTIVITY.id: None}))
    assert tab.referrals[0].activity == "Hidden"
    assert tab.activities[0].label.endswith(": Hidden")


@pytest.mark.parametrize(
    ("changes", "note"),
    [
        ({"stage": "new", "activities": [], "texts": {}}, "opens at intervention planning"),
        ({"stage": "closed"}, "This case is closed"),
        ({"withdrawn": True}, "stopped taking part"),
        ({"consent": False}, "consent does not allow"),
    ],
)
def test_why_no_referral_can_be_made_now(changes: dict[str, object], note: str) -> None:
    tab = english(dataclasses.replace(OPEN, **changes))
    assert tab.note is not None and note in tab.note
    assert not tab.can_refer


def test_a_reader_who_may_not_write_cannot_refer() -> None:
    tab = english(OPEN, can_write=False)
    assert tab.note is None and not tab.can_refer
