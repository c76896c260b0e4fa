"""The figures dashboard as it is drawn: the funnel's chart, its breakdown, the sections and the
partners' referrals, every count masked (programme.figures) and labelled in the reader's language."""

from __future__ import annotations

import dataclasses
import gettext

from babel.numbers import format_decimal

from caseworker_console import i18n
from caseworker_console.views import source_label
from outreach.campaigns import Figures as CampaignFigures
from programme import figures as rules
from programme.cycle import TERMINATION_LABELS, TerminationReason
from programme.forms import SERVICE_AREAS
from programme.text import N_
from storage.figures import Dashboard, Delivery

# The chart's geometry (SVG user units); presentation attributes only, the CSP allows no styles.
CHART_WIDTH = 720
CHART_LABEL = 210
# A generous average width of a letter at the labels' font size: the label column widens to the
# longest label of the reader's language (Russian's run past 210), so none is cut at the left edge.
CHART_LETTER = 8.6
CHART_BAR = 420
CHART_ROW = 34
CHART_BAR_HEIGHT = 22
NOT_KNOWN = N_("Not known")


@dataclasses.dataclass(frozen=True)
class Line:
    key: str
    label: str
    cell: rules.Cell
    percent: int | None = None


@dataclasses.dataclass(frozen=True)
class Section:
    key: str
    title: str
    lines: list[Line]
    total: rules.Cell
    note: str | None = None


@dataclasses.dataclass(frozen=True)
class Bar:
    key: str
    label: str
    meaning: str
    cell: rules.Cell
    percent: int | None
    y: int
    text_y: int
    width: int
    value_x: int


@dataclasses.dataclass(frozen=True)
class GroupRow:
    label: str
    cells: list[rules.Cell]


@dataclasses.dataclass(frozen=True)
class PartnerRow:
    name: str
    area: str
    cells: list[rules.Cell]
    total: rules.Cell


@dataclasses.dataclass(frozen=True)
class Figures:
    bars: list[Bar]
    chart_height: int
    # The room left of the bars for their labels, and so the chart's width.
    label_room: int
    groups: list[GroupRow]
    sections: list[Section]
    reply_mean: str | None
    campaigns: int
    partners: list[PartnerRow]


def build_figures(
    data: Dashboard, *, breakdown: str, translate: gettext.NullTranslations, locale: str
) -> Figures:
    """The dashboard of `data`, its funnel broken down by `breakdown` (month, language, channel)."""
    label_room, bars = funnel_bars(data.funnel, translate)
    return Figures(
        bars=bars,
        chart_height=len(bars) * CHART_ROW + 8,
        label_room=label_room,
        groups=group_rows(data.grouped, breakdown=breakdown, translate=translate, locale=locale),
        sections=sections(data, translate),
        reply_mean=reply_mean(data, locale),
        campaigns=data.delivery.campaigns,
        partners=partner_rows(data, translate),
    )


def funnel_bars(counts: dict[str, int], translate: gettext.NullTranslations) -> tuple[int, list[Bar]]:
    """The room for the labels, and one bar per funnel step: its length the masked count as drawn."""
    cells = {step: rules.masked(count) for step, count in counts.items()}
    top = cells["screened"]
    widest = max((cell.drawn for cell in cells.values()), default=0) or 1
    longest = max(len(translate.gettext(step.label)) for step in rules.FUNNEL)
    label_room = max(CHART_LABEL, round(CHART_LETTER * longest) + 16)
    bars = []
    for index, step in enumerate(rules.FUNNEL):
        cell = cells[step.key]
        width = max(1, round(CHART_BAR * cell.drawn / widest))
        bars.append(
            Bar(
                key=step.key,
                label=translate.gettext(step.label),
                meaning=translate.gettext(step.meaning),
                cell=cell,
                percent=rules.share(cell, top) if step.key != "screened" else None,
                y=index * CHART_ROW + 6,
                text_y=index * CHART_ROW + 6 + CHART_BAR_HEIGHT - 6,
                width=width,
                value_x=label_room + width + 8,
            )
        )
    return label_room, bars


def group_label(breakdown: str, value: str | None, translate: gettext.NullTranslations, locale: str) -> str:
    if value is None:
        return translate.gettext(NOT_KNOWN)
    if breakdown == "language":
        return i18n.language_name(value, locale) or value
    if breakdown == "channel":
        return source_label(value, translate)
    return value


def group_rows(
    grouped: dict[str | None, dict[str, int]],
    *,
    breakdown: str,
    translate: gettext.NullTranslations,
    locale: str,
) -> list[GroupRow]:
    """The funnel by group, each step's column masked as a breakdown of its own."""
    columns = {
        step.key: rules.breakdown({str(key): counts[step.key] for key, counts in grouped.items()})[0]
        for step in rules.FUNNEL
    }
    return [
        GroupRow(
            label=group_label(breakdown, key, translate, locale),
            cells=[columns[step.key][str(key)] for step in rules.FUNNEL],
        )
        for key in grouped
    ]


def section(
    key: str,
    title: str,
    counts: dict[str, int],
    labels: dict[str, str],
    translate: gettext.NullTranslations,
    note: str | None = None,
) -> Section:
    """Counts by category in the labels' order (unknown categories after, by their code), masked."""
    ordered = {name: counts.get(name, 0) for name in labels}
    ordered.update({name: count for name, count in counts.items() if name not in labels})
    cells, total = rules.breakdown(ordered)
    lines = [
        Line(
            key=name,
            label=translate.gettext(labels[name]) if name in labels else name,
            cell=cell,
            percent=rules.share(cell, total),
        )
        for name, cell in cells.items()
    ]
    return Section(
        key=key,
        title=translate.gettext(title),
        lines=lines,
        total=total,
        note=note and translate.gettext(note),
    )


def delivery_counts(delivery: Delivery) -> dict[str, int]:
    """Broadcast outcomes classified as the campaigns' own figures are."""
    outcomes = CampaignFigures()
    for (status, error), count in delivery.outcomes.items():
        outcomes.add(status, error, count)
    return {key: getattr(outcomes, key) for key in rules.DELIVERY_LABELS}


def reply_mean(data: Dashboard, locale: str) -> str | None:
    """The mean hours to a first reply, shown only over enough answered handoffs."""
    replies = data.replies
    if replies.mean_hours is None or replies.answered < rules.THRESHOLD:
        return None
    return format_decimal(round(replies.mean_hours, 1), locale=locale)


def sections(data: Dashboard, translate: gettext.NullTranslations) -> list[Section]:
    reply_labels = {key: label for key, label, _ in rules.REPLY_BUCKETS} | {
        rules.NO_REPLY[0]: rules.NO_REPLY[1]
    }
    closing_labels = {reason.value: TERMINATION_LABELS[reason] for reason in TerminationReason}
    return [
        section(
            "dropoff",
            N_("Where people stopped in the bot"),
            data.dropoff,
            dict(rules.DIALOG_STEPS),
            translate,
            N_(
                "People whose conversation with the bot has rested at this step for more than two "
                "days, by when they first wrote. The office filter does not apply."
            ),
        ),
        section(
            "replies",
            N_("Time from handoff to a caseworker's first reply"),
            data.replies.buckets,
            reply_labels,
            translate,
            N_("Cases handed off to a person in the period."),
        ),
        section(
            "attendance",
            N_("Appointment attendance"),
            data.attendance,
            rules.ATTENDANCE_LABELS,
            translate,
            N_("Appointments starting in the period."),
        ),
        section(
            "delivery",
            N_("Campaign delivery"),
            delivery_counts(data.delivery),
            rules.DELIVERY_LABELS,
            translate,
            N_(
                "Broadcast messages queued in the period, by the recipient's language and channel. "
                "The office filter does not apply."
            ),
        ),
        section(
            "closing",
            N_("Closing reasons"),
            data.closings,
            closing_labels,
            translate,
            N_("Cases closed in the period."),
        ),
    ]


def partner_rows(data: Dashboard, translate: gettext.NullTranslations) -> list[PartnerRow]:
    """Referrals by partner (by name) and status, each partner's row masked as a breakdown."""
    areas = {option.value: translate.gettext(option.label) for option in SERVICE_AREAS}
    rows = []
    for partner_id, counts in sorted(
        data.referrals.items(), key=lambda item: data.partners[item[0]].name.casefold()
    ):
        cells, total = rules.breakdown({status: counts.get(status, 0) for status in rules.REFERRAL_STATUSES})
        partner = data.partners[partner_id]
        rows.append(
            PartnerRow(
                name=partner.name,
                area=areas.get(partner.service_area, partner.service_area),
                cells=list(cells.values()),
                total=total,
            )
        )
    return rows
