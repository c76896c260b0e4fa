"""The figures dashboard's view model, built from counts given by hand: no database, no HTTP."""

from __future__ import annotations

import gettext

from caseworker_console.i18n import translations
from caseworker_console.viewmodels.figures import CHART_BAR, CHART_LABEL, build_figures
from programme.figures import MASK
from storage.figures import Dashboard, Delivery, ReplyTimes
from storage.models_figures import Partner

STEPS = (
    "screened",
    "provisionally_eligible",
    "confirmed_eligible",
    "assessed",
    "consented",
    "plan",
    "closed",
)


def dashboard(**changes: object) -> Dashboard:
    values: dict[str, object] = {
        "funnel": dict(zip(STEPS, (40, 30, 20, 10, 8, 3, 0), strict=True)),
        "grouped": {
            "ru": dict(zip(STEPS, (30, 20, 12, 6, 6, 3, 0), strict=True)),
            "az": dict(zip(STEPS, (10, 10, 8, 4, 2, 0, 0), strict=True)),
        },
        "dropoff": {"language": 7, "privacy": 6},
        "replies": ReplyTimes(buckets={"hour": 6, "day": 9}, mean_hours=5.26, answered=15),
        "attendance": {"attended": 12, "no_show": 2},
        "delivery": Delivery(campaigns=2, outcomes={("sent", None): 30, ("failed", "blocked"): 6}),
        "closings": {"reason_that_this_version_does_not_know": 9},
        "referrals": {1: {"sent": 7, "done": 6}, 2: {"accepted": 3}},
        "partners": {
            1: Partner(id=1, name="zeta clinic", service_area="health_social"),
            2: Partner(id=2, name="Alpha school", service_area="employment_education"),
        },
    }
    values.update(changes)
    return Dashboard(**values)  # type: ignore[arg-type]


def english(data: Dashboard, breakdown: str = "language") -> object:
    return build_figures(data, breakdown=breakdown, translate=gettext.NullTranslations(), locale="en")


def test_bars_are_masked_and_scaled_to_the_largest_drawn_count() -> None:
    figures = english(dashboard())
    by_key = {bar.key: bar for bar in figures.bars}
    assert [bar.key for bar in figures.bars] == list(STEPS)
    assert by_key["screened"].width == CHART_BAR and by_key["screened"].percent is None
    assert by_key["assessed"].width == CHART_BAR // 4 and by_key["assessed"].percent == 25
    # A masked count is drawn as 5 and has no percentage.
    assert by_key["plan"].cell.text == MASK and by_key["plan"].percent is None
    assert by_key["plan"].width == round(CHART_BAR * 5 / 40)
    assert figures.chart_height == len(STEPS) * 34 + 8
    assert by_key["assessed"].value_x == figures.label_room + by_key["assessed"].width + 8


def test_the_label_column_widens_for_a_language_with_longer_labels() -> None:
    assert english(dashboard()).label_room == CHART_LABEL
    russian = build_figures(dashboard(), breakdown="month", translate=translations("ru"), locale="ru")
    longest = max(len(bar.label) for bar in russian.bars)
    assert russian.label_room == max(CHART_LABEL, round(8.6 * longest) + 16)
    assert russian.bars[0].label != "Screened"


def test_groups_are_labelled_by_the_breakdown_and_each_column_is_masked() -> None:
    data = dashboard(grouped={**dashboard().grouped, None: dict.fromkeys(STEPS, 1)})
    figures = english(data)
    assert [row.label for row in figures.groups] == ["Russian", "Azerbaijani", "Not known"]
    # The unknown group's 1s are masked, and so (secondary suppression) the next smallest in column.
    screened = [row.cells[0] for row in figures.groups]
    assert [cell.text for cell in screened] == ["30", MASK, MASK]
    channels = english(dashboard(grouped={"bot": dict.fromkeys(STEPS, 9)}), breakdown="channel")
    assert channels.groups[0].label == "Telegram bot"
    months = english(dashboard(grouped={"2026-10": dict.fromkeys(STEPS, 9)}), breakdown="month")
    assert months.groups[0].label == "2026-10"


def test_sections_list_known_categories_in_order_then_unknown_codes() -> None:
    sections = {section.key: section for section in english(dashboard()).sections}
    assert list(sections) == ["dropoff", "replies", "attendance", "delivery", "closing"]
    dropoff = sections["dropoff"]
    assert [line.key for line in dropoff.lines][:3] == ["language", "privacy", "name"]
    assert dropoff.total.text == "13" and dropoff.lines[0].percent == 54
    assert dropoff.note is not None and "office filter" in dropoff.note
    closing = sections["closing"].lines
    assert closing[-1].key == closing[-1].label == "reason_that_this_version_does_not_know"
    delivery = {line.key: line.cell.text for line in sections["delivery"].lines}
    assert delivery["sent"] == "30" and delivery["blocked"] == "6"


def test_the_mean_reply_time_shows_only_over_enough_answered_handoffs() -> None:
    assert english(dashboard()).reply_mean == "5.3"
    few = ReplyTimes(buckets={"hour": 4}, mean_hours=2.0, answered=4)
    assert english(dashboard(replies=few)).reply_mean is None
    none = ReplyTimes(buckets={}, mean_hours=None, answered=0)
    assert english(dashboard(replies=none)).reply_mean is None
    comma = build_figures(dashboard(), breakdown="month", translate=translations("ru"), locale="ru")
    assert comma.reply_mean == "5,3"


def test_partners_are_sorted_by_name_and_masked_row_by_row() -> None:
    partners = english(dashboard()).partners
    assert [row.name for row in partners] == ["Alpha school", "zeta clinic"]
    alpha, zeta = partners
    assert alpha.area == "Work and education" and alpha.total.text == MASK
    assert all(cell.masked for cell in alpha.cells)
    assert [cell.text for cell in zeta.cells] == ["7", MASK, "6", MASK]
    assert zeta.total.text == "13"
