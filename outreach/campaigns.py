"""Outreach campaigns: who gets a notice (segments), when (schedule, quiet hours, spread), in which
language, and its expansion into broadcast rows of the outbox, a batch at a time.

A campaign's figures are never kept on the campaign: they are counted from its outbox rows, which
are what the sender reports Telegram accepted, so the console cannot drift from what was sent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import re
import uuid
import zoneinfo
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, insert, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from programme.cycle import Stage
from programme.forms import INTERVIEW, SERVICE_AREAS
from storage import city, outbox, person_keys
from storage.crypto import Crypto
from storage.models import Beneficiary, Case, OutboxMessage, utcnow
from storage.models_appointments import Appointment
from storage.models_outreach import Campaign
from storage.models_plan import PlanActivity
from storage.outbox import Lane, Status, enqueue
from storage.queries import record_audit
from storage.reminders import WITHDRAWN
from wording.broadcast import opt_out_line
from wording.languages import LANGUAGES

# With the /stop line a campaign message stays one Telegram message (4,096 UTF-16 units).
MAX_TEXT = 3500
MAX_SPREAD_HOURS = 72
# Cities a segment may name, each at most as long as the interview's answer.
MAX_CITIES = 20
MAX_CITY = INTERVIEW.question(city.QUESTION).max_length or 80
# What a link into the bot may carry (Telegram's rule for a start parameter).
DEEP_LINK_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# A source channel value for people who came without a deep link.
DIRECT = "direct"
NO_CASE = "none"


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"  # expanding, or waiting for its start
    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


# Where a campaign's rows may still be expanded into the outbox.
EXPANDING = frozenset({CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED})


class AppointmentFilter(enum.StrEnum):
    ANY = "any"
    UPCOMING = "upcoming"  # a booked appointment still ahead
    NOT_UPCOMING = "not_upcoming"  # no booked appointment ahead
    NO_SHOW = "no_show"  # missed one


# ── segments ────────────────────────────────────────────────────────────────────────────────────


@dataclasses.dataclass(frozen=True)
class Segment:
    """Who gets a campaign, as data. Empty tuples mean "any"; everyone is reachable and opted in.

    Cities are kept as the officer typed them and matched through the city's lookup hash
    (storage.city): the same name typed differently matches, another spelling does not.
    """

    languages: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()  # case stages; NO_CASE: people without a case
    service_areas: tuple[str, ...] = ()  # of their plan's activities
    sources: tuple[str, ...] = ()  # source channel (deep link code); DIRECT: none
    active_within_days: int | None = None
    inactive_for_days: int | None = None
    appointment: AppointmentFilter = AppointmentFilter.ANY
    cities: tuple[str, ...] = ()  # their interview's city, any of these

    def as_data(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for name in ("languages", "stages", "service_areas", "sources", "cities"):
            data[name] = list(data[name])
        data["appointment"] = str(self.appointment)
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> Segment:
        data = data or {}

        def codes(name: str, known: Iterable[str] | None = None) -> tuple[str, ...]:
            # A list of codes; anything else (a bare string would give its letters) selects nothing.
            given = data.get(name)
            if not isinstance(given, list | tuple):
                return ()
            values = [value for value in given if isinstance(value, str)]
            allowed = set(known) if known is not None else None
            return tuple(sorted({v for v in values if allowed is None or v in allowed}))

        def days(name: str) -> int | None:
            value = data.get(name)
            return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

        def cities() -> tuple[str, ...]:
            # One of each name as the same person's answer would match it, in a stable order.
            named: dict[str, str] = {}
            given = data.get("cities")
            for value in given if isinstance(given, list | tuple) else ():
                if isinstance(value, str) and len(value.strip()) <= MAX_CITY:
                    named.setdefault(city.normalise_city(value), value.strip())
            named.pop("", None)
            return tuple(named[key] for key in sorted(named))[:MAX_CITIES]

        try:
            appointment = AppointmentFilter(data.get("appointment") or "any")
        except ValueError:
            appointment = AppointmentFilter.ANY
        return cls(
            languages=codes("languages", LANGUAGES),
            stages=codes("stages", [*Stage, NO_CASE]),
            service_areas=codes("service_areas", [option.value for option in SERVICE_AREAS]),
            sources=codes("sources"),
            active_within_days=days("active_within_days"),
            inactive_for_days=days("inactive_for_days"),
            appointment=appointment,
            cities=cities(),
        )


def reachable() -> ColumnElement[bool]:
    """Not opted out (/stop), not stopped taking part (/withdraw) and not blocked the bot (a 403
    marked them unreachable)."""
    return and_(
        Beneficiary.opted_out.is_(False),
        Beneficiary.withdrawn_at.is_(None),
        Beneficiary.unreachable_at.is_(None),
    )


def _appointments(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(
        select(Appointment.id)
        .join(Case, Case.id == Appointment.case_id)
        .where(Case.beneficiary_id == Beneficiary.id, *conditions)
    )


def segment_condition(
    segment: Segment, now: dt.datetime, *, crypto: Crypto | None = None
) -> ColumnElement[bool]:
    """The WHERE clause over beneficiaries (one row each, whatever their number of cases); a segment
    with cities needs the keys, to compute their lookup hashes."""
    conditions: list[ColumnElement[bool]] = [reachable()]
    if segment.cities:
        if crypto is None:
            raise ValueError("a segment by city needs the keys to compute the cities' lookup hashes")
        conditions.append(Beneficiary.city_hash.in_(city.lookup_hashes(crypto, segment.cities)))
    if segment.languages:
        conditions.append(Beneficiary.language.in_(segment.languages))
    if segment.stages:
        stages = [stage for stage in segment.stages if stage != NO_CASE]
        either = [
            exists(select(Case.id).where(Case.beneficiary_id == Beneficiary.id, Case.stage.in_(stages)))
        ]
        if NO_CASE in segment.stages:
            either.append(not_(exists(select(Case.id).where(Case.beneficiary_id == Beneficiary.id))))
        conditions.append(or_(*either))
    if segment.service_areas:
        conditions.append(
            exists(
                select(PlanActivity.id)
                .join(Case, Case.id == PlanActivity.case_id)
                .where(
                    Case.beneficiary_id == Beneficiary.id,
                    PlanActivity.service_area.in_(segment.service_areas),
                )
            )
        )
    if segment.sources:
        channels = [source for source in segment.sources if source != DIRECT]
        either = [Beneficiary.source.in_(channels)]
        if DIRECT in segment.sources:
            either.append(Beneficiary.source.is_(None))
        conditions.append(or_(*either))
    if segment.active_within_days:
        conditions.append(Beneficiary.last_active_at >= now - dt.timedelta(days=segment.active_within_days))
    if segment.inactive_for_days:
        conditions.append(Beneficiary.last_active_at < now - dt.timedelta(days=segment.inactive_for_days))
    upcoming = _appointments(Appointment.status == "booked", Appointment.starts_at > now)
    if segment.appointment is AppointmentFilter.UPCOMING:
        conditions.append(upcoming)
    elif segment.appointment is AppointmentFilter.NOT_UPCOMING:
        conditions.append(not_(upcoming))
    elif segment.appointment is AppointmentFilter.NO_SHOW:
        conditions.append(_appointments(Appointment.status == "no_show"))
    return and_(*conditions)


# Filters that narrow a segment by what the programme knows of a person's situation: their case's
# stage, their plan's service areas (health among them), their appointments and their city. The
# figures page offers none of them as a filter; its own (period, language, channel, office) are the
# only ones it treats as safe to narrow by. A segment these narrow under the approval threshold
# (INTAKE_CAMPAIGN_APPROVAL_BELOW) is sent only once a supervisor has approved it (docs/console.md).
SENSITIVE_FILTERS = ("stages", "service_areas", "appointment", "cities")
DEFAULT_APPROVAL_BELOW = 10


def sensitive_filters(segment: Segment) -> list[str]:
    """The sensitive filters the segment uses, by name."""
    used = {
        "stages": bool(segment.stages),
        "service_areas": bool(segment.service_areas),
        "appointment": segment.appointment is not AppointmentFilter.ANY,
        "cities": bool(segment.cities),
    }
    return [name for name in SENSITIVE_FILTERS if used[name]]


def needs_approval(segment: Segment, count: int, *, below: int) -> bool:
    """Sensitive filters narrow it under the threshold: a supervisor approves it before it is sent."""
    return count < below and bool(sensitive_filters(segment))


def approved(campaign: Campaign) -> bool:
    return campaign.approved_at is not None


def approve(campaign: Campaign, *, staff_id: int, at: dt.datetime) -> None:
    campaign.approved_by, campaign.approved_at = staff_id, at


def void_approval(campaign: Campaign) -> bool:
    """The approval is for the segment it was given on: changing who gets it voids it. True if
    there was one."""
    had = approved(campaign)
    campaign.approved_by = campaign.approved_at = None
    return had


async def count_by_language(
    session: AsyncSession, segment: Segment, now: dt.datetime, *, crypto: Crypto | None = None
) -> dict[str | None, int]:
    """How many people the segment holds now, by their language (None: not chosen yet)."""
    rows = await session.execute(
        select(Beneficiary.language, func.count())
        .where(segment_condition(segment, now, crypto=crypto))
        .group_by(Beneficiary.language)
    )
    return {language: count for language, count in rows.all()}


async def known_sources(session: AsyncSession) -> list[str]:
    """The channels people came through, for the segment form."""
    rows = await session.execute(
        select(Beneficiary.source)
        .where(Beneficiary.source.is_not(None))
        .distinct()
        .order_by(Beneficiary.source)
    )
    return [source for source in rows.scalars() if source]


# ── when: quiet hours, spread ───────────────────────────────────────────────────────────────────


@dataclasses.dataclass(frozen=True)
class QuietHours:
    """No sends from `start` to `end`, local times of the office in seconds after midnight; a
    window that wraps midnight (21:00–09:00) is the usual case."""

    start: int
    end: int

    def contains(self, local: dt.datetime) -> bool:
        """Whether the local time is in them; quiet hours that end where they begin hold none."""
        second = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        if self.start <= self.end:
            return self.start <= second < self.end
        return second >= self.start or second < self.end


def _local_at(day: dt.date, second: int, zone: zoneinfo.ZoneInfo, *, fold: int) -> dt.datetime:
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    # Wall-clock arithmetic (a DST change day keeps its hours), then back through UTC; `fold` 1: the
    # second pass of a time the clocks going back make twice.
    return (midnight + dt.timedelta(seconds=second)).replace(fold=fold).astimezone(dt.UTC)


def next_allowed(at: dt.datetime, zone: zoneinfo.ZoneInfo, quiet: QuietHours | None) -> dt.datetime:
    """`at` itself, or the end of the quiet hours it falls in."""
    if quiet is None or not quiet.contains(at.astimezone(zone)):
        return at
    return _first_after(at, zone, quiet, quiet.end, quiet_then=False)


def _next_quiet_start(at: dt.datetime, zone: zoneinfo.ZoneInfo, quiet: QuietHours) -> dt.datetime:
    """The first moment after `at` (outside them) the quiet hours begin."""
    return _first_after(at, zone, quiet, quiet.start, quiet_then=True)


def _first_after(
    at: dt.datetime, zone: zoneinfo.ZoneInfo, quiet: QuietHours, second: int, *, quiet_then: bool
) -> dt.datetime:
    """The first moment after `at` the quiet hours begin (`quiet_then`) or end: where the clock shows
    `second` after midnight, on either pass of an hour the clocks go back make twice, or where the
    clocks change into (or out of) them. A time the clocks skip is none: there the change is (quiet
    hours the clocks skip whole begin the day after)."""
    today = at.astimezone(zone).date()
    moments = [
        _local_at(today + dt.timedelta(days=n), second, zone, fold=fold) for n in range(3) for fold in (0, 1)
    ]
    if (change := _clock_change(at, moments[-1], zone)) is not None:
        moments.append(change)
    return min(
        moment for moment in moments if moment > at and quiet.contains(moment.astimezone(zone)) is quiet_then
    )


def _clock_change(start: dt.datetime, end: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime | None:
    """The moment the clocks change between `start` and `end`, if they do (a few days apart: they
    change once at the most)."""

    def offset(second: int) -> dt.timedelta | None:
        return dt.datetime.fromtimestamp(second, zone).utcoffset()

    # Whole seconds: the first with the offset after (the zone database changes offsets on one).
    low, high = int(start.timestamp()), int(end.timestamp())
    before = offset(low)
    if offset(high) == before:
        return None
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if offset(middle) == before else (low, middle)
    return dt.datetime.fromtimestamp(high, dt.UTC)


class Timeline:
    """Sending time laid over the calendar: offset 0 is the start (moved out of quiet hours), and
    the quiet hours do not count, so an offset never lands in them. Offsets asked for must not
    decrease (each call goes on from the last)."""

    def __init__(self, start: dt.datetime, zone: zoneinfo.ZoneInfo, quiet: QuietHours | None) -> None:
        self._zone = zone
        self._quiet = quiet if quiet is not None and quiet.start != quiet.end else None
        self._at = next_allowed(start, zone, self._quiet)
        self._offset = 0.0  # the offset `_at` stands for
        self._window_end = self._window()

    def _window(self) -> dt.datetime | None:
        return None if self._quiet is None else _next_quiet_start(self._at, self._zone, self._quiet)

    def at(self, offset: float) -> dt.datetime:
        if offset < self._offset:
            raise ValueError("a timeline only goes forward")
        while self._window_end is not None:
            room = (self._window_end - self._at).total_seconds()
            if offset - self._offset < room:
                break
            self._offset += room
            self._at = next_allowed(self._window_end, self._zone, self._quiet)
            self._window_end = self._window()
        return self._at + dt.timedelta(seconds=offset - self._offset)


def sending_seconds(
    start: dt.datetime, end: dt.datetime, zone: zoneinfo.ZoneInfo, quiet: QuietHours | None
) -> float:
    """The sending time from `start` to `end`: the seconds between them outside the quiet hours."""
    if quiet is None or quiet.start == quiet.end:
        return max(0.0, (end - start).total_seconds())
    total = 0.0
    at = next_allowed(start, zone, quiet)
    while at < end:
        window_end = _next_quiet_start(at, zone, quiet)
        total += (min(window_end, end) - at).total_seconds()
        at = next_allowed(window_end, zone, quiet)
    return total


def send_step(*, total: int, spread_seconds: float, rate: float) -> float:
    """Seconds of sending time between two recipients: the spread shared out, never faster than the
    rate (so the schedule is one the sender can keep, and quiet hours hold for the last ones too)."""
    shared = spread_seconds / total if total > 0 else 0.0
    return max(shared, 1.0 / rate)


def quiet_hours(campaign: Campaign) -> QuietHours | None:
    if campaign.quiet_from is None or campaign.quiet_until is None:
        return None
    return QuietHours(campaign.quiet_from, campaign.quiet_until)


# ── what each person gets ───────────────────────────────────────────────────────────────────────


def variant_for(campaign: Campaign, language: str | None) -> str:
    """The language of the text a person gets: theirs if the campaign has it, else the fallback."""
    if language and (campaign.texts.get(language) or "").strip():
        return language
    return campaign.fallback_language


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def render(campaign: Campaign, language: str | None, *, bot_username: str | None) -> dict[str, Any]:
    """The sendMessage fields for a person whose language is `language`: their variant, and the
    /stop line in their own language (in the variant's when they never chose one)."""
    variant = variant_for(campaign, language)
    text = (campaign.texts.get(variant) or "").strip()
    footer = opt_out_line(language if language in LANGUAGES else variant)
    payload: dict[str, Any] = {"text": f"{text}\n\n{footer}"}
    button = campaign.button
    if button:
        labels = button.get("labels") or {}
        label = (labels.get(variant) or labels.get(campaign.fallback_language) or "").strip()
        target = str(button.get("target") or "")
        url = target
        if button.get("kind") == "start":
            # Without the bot's username there is no link into it: the notice goes without the button.
            url = deep_link(bot_username, target) if bot_username else ""
        if label and url:
            payload["reply_markup"] = {"inline_keyboard": [[{"text": label, "url": url}]]}
    return payload


def text_languages(campaign: Campaign) -> list[str]:
    """The languages the campaign has a text in, in the bot's order."""
    return [code for code in LANGUAGES if (campaign.texts.get(code) or "").strip()]


async def send_test(
    session: AsyncSession,
    crypto: Crypto,
    campaign: Campaign,
    *,
    staff_user_id: int,
    languages: Iterable[str],
    bot_username: str | None,
) -> int:
    """Each language's message, exactly as its readers get it (`render`), to a staff member's own
    linked chat, on the replies lane; returns how many went in the outbox.

    The rows name the staff member, not a beneficiary nor the campaign, so no figure, progress or
    result of the campaign counts them and no one is marked as having got it.
    """
    count = 0
    for language in languages:
        payload = render(campaign, language, bot_username=bot_username)
        count += len(
            await enqueue(
                session,
                crypto,
                staff_user_id=staff_user_id,
                text=payload["text"],
                reply_markup=payload.get("reply_markup"),
                lane=Lane.REPLY,
            )
        )
    return count


# ── expansion ───────────────────────────────────────────────────────────────────────────────────


async def lock(session: AsyncSession, campaign_id: uuid.UUID) -> Campaign | None:
    """The campaign, locked against concurrent changes until the transaction ends (PostgreSQL;
    SQLite's transactions take the write lock up front)."""
    statement = select(Campaign).where(Campaign.id == campaign_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def expand_batch(
    session: AsyncSession,
    crypto: Crypto,
    campaign_id: uuid.UUID,
    *,
    zone: zoneinfo.ZoneInfo,
    rate: float,
    bot_username: str | None,
    batch: int = 1000,
    approval_below: int = DEFAULT_APPROVAL_BELOW,
) -> int:
    """The next `batch` recipients' outbox rows, in the caller's transaction; returns how many.

    Recipients are walked in id order from the last one reached, so no list of them is ever held,
    and a worker that dies between batches goes on where the last committed batch ended.
    """
    campaign = await lock(session, campaign_id)
    if campaign is None or campaign.status not in EXPANDING or campaign.expanded_at is not None:
        return 0
    now = utcnow()
    starts = campaign.starts_at or now
    if campaign.segment_at is None:
        campaign.segment_at = now
    condition = and_(
        segment_condition(Segment.from_data(campaign.segment), campaign.segment_at, crypto=crypto),
        Beneficiary.created_at <= campaign.segment_at,
    )
    if campaign.planned is None:
        campaign.planned = (
            await session.execute(select(func.count()).select_from(Beneficiary).where(condition))
        ).scalar_one()
        segment = Segment.from_data(campaign.segment)
        if not approved(campaign) and needs_approval(segment, campaign.planned, below=approval_below):
            # Fewer people than when it was scheduled (people stopped, or a filter of days moved on):
            # back to a draft, for a supervisor to approve, before anyone gets it.
            campaign.status = CampaignStatus.DRAFT
            campaign.segment_at = campaign.planned = None
            campaign.version += 1
            await record_audit(
                session,
                actor="worker",
                action="campaign.held_for_approval",
                object_type="campaign",
                object_id=str(campaign.id),
                details={"filters": sensitive_filters(segment)},
            )
            return 0
    statement = select(Beneficiary.id, Beneficiary.language).where(condition)
    if campaign.expanded_through is not None:
        statement = statement.where(Beneficiary.id > campaign.expanded_through)
    people = (await session.execute(statement.order_by(Beneficiary.id).limit(batch))).all()
    await person_keys.load(session, crypto, [beneficiary_id for beneficiary_id, _ in people])
    step = send_step(total=campaign.planned, spread_seconds=campaign.spread_seconds, rate=rate)
    timeline = Timeline(starts, zone, quiet_hours(campaign))
    payloads: dict[str | None, str] = {}
    status = Status.PAUSED if campaign.status == CampaignStatus.PAUSED else Status.PENDING
    rows = []
    for n, (beneficiary_id, language) in enumerate(people):
        if language not in payloads:
            payloads[language] = json.dumps(
                render(campaign, language, bot_username=bot_username), ensure_ascii=False
            )
        row_id = uuid.uuid4()
        rows.append(
            {
                "id": row_id,
                "beneficiary_id": beneficiary_id,
                "lane": int(Lane.BROADCAST),
                "method": "sendMessage",
                "payload_enc": crypto.encrypt(
                    payloads[language],
                    table=OutboxMessage.__tablename__,
                    column="payload_enc",
                    row=row_id,
                    owner=beneficiary_id,
                ),
                "status": status,
                "attempts": 0,
                "not_before": timeline.at((campaign.expanded + n) * step),
                "created_at": now,
                "campaign_id": campaign.id,
                "language": language,
            }
        )
    if rows:
        await session.execute(insert(OutboxMessage), rows)
        campaign.expanded += len(rows)
        campaign.expanded_through = people[-1][0]
    if len(rows) < batch:
        campaign.expanded_at = now
    return len(rows)


# ── pause, resume, cancel, done ─────────────────────────────────────────────────────────────────


async def pause(session: AsyncSession, campaign: Campaign) -> bool:
    """Its unsent rows are held (rows already handed to Telegram finish); False if it cannot."""
    if campaign.status not in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING):
        return False
    campaign.status = CampaignStatus.PAUSED
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.campaign_id == campaign.id, OutboxMessage.status == Status.PENDING)
        .values(status=Status.PAUSED)
        .execution_options(synchronize_session=False)
    )
    return True


def preparing(campaign: Campaign) -> bool:
    """Part of its recipients are in the outbox and the worker is still adding the rest."""
    return bool(campaign.expanded) and campaign.expanded_at is None


def can_resume(campaign: Campaign) -> bool:
    """Paused, and not while it is being prepared: the rows added after a resume would keep the
    original schedule while those before it got the new one (it takes seconds, even for 100,000)."""
    return campaign.status == CampaignStatus.PAUSED and not preparing(campaign)


async def resume(
    session: AsyncSession,
    campaign: Campaign,
    *,
    zone: zoneinfo.ZoneInfo,
    now: dt.datetime | None = None,
) -> bool:
    """Its held rows go again, in their order, spread as the officer asked: over what is left of
    the spread's sending time (its window from the start, quiet hours not counted); when that has
    passed, over the share of the spread the people left had (a quarter of them: a quarter of the
    hours). Never in quiet hours; without a spread they are due at once, and the rate paces them.
    False if it cannot be resumed (now: see `can_resume`)."""
    if not can_resume(campaign):
        return False
    now = now or utcnow()
    starts = campaign.starts_at or now
    campaign.status = CampaignStatus.RUNNING if starts <= now else CampaignStatus.SCHEDULED
    held = (
        (
            await session.execute(
                select(OutboxMessage.id)
                .where(OutboxMessage.campaign_id == campaign.id, OutboxMessage.status == Status.PAUSED)
                .order_by(OutboxMessage.not_before, OutboxMessage.created_at, OutboxMessage.id)
            )
        )
        .scalars()
        .all()
    )
    if not held:
        return True
    quiet = quiet_hours(campaign)
    begin = max(now, starts)
    window_end = Timeline(starts, zone, quiet).at(campaign.spread_seconds)
    left = sending_seconds(begin, window_end, zone, quiet)
    if left <= 0:
        left = campaign.spread_seconds * len(held) / max(campaign.planned or 0, len(held))
    step = left / len(held)
    timeline = Timeline(begin, zone, quiet)
    for first in range(0, len(held), RESUME_BATCH):
        await session.execute(
            update(OutboxMessage),
            [
                {"id": row_id, "status": Status.PENDING, "not_before": timeline.at(n * step)}
                for n, row_id in enumerate(held[first : first + RESUME_BATCH], start=first)
            ],
        )
    return True


# Rows given their new times per statement when a campaign resumes.
RESUME_BATCH = 1000


async def cancel(session: AsyncSession, campaign: Campaign) -> bool:
    """No row of it is sent any more; what was sent stays counted."""
    if campaign.status not in (*EXPANDING, CampaignStatus.DRAFT):
        return False
    campaign.status = CampaignStatus.CANCELLED
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.campaign_id == campaign.id,
            OutboxMessage.status.in_([Status.PENDING, Status.PAUSED]),
        )
        .values(status=Status.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    return True


UNSETTLED = (Status.PENDING, Status.SENDING, Status.PAUSED)
# Where its uncertain rows may be sent again: not a draft, not cancelled (nothing more goes then).
RESENDABLE = frozenset({CampaignStatus.RUNNING, CampaignStatus.PAUSED, CampaignStatus.DONE})


async def undecided_uncertain(session: AsyncSession, campaign_id: uuid.UUID) -> int:
    """Its rows settled uncertain that the officer has not decided about (exact: for the rule)."""
    return int(
        (
            await session.execute(
                select(func.count()).where(OutboxMessage.campaign_id == campaign_id, outbox.undecided())
            )
        ).scalar_one()
    )


async def send_uncertain_again(
    session: AsyncSession, campaign: Campaign, *, zone: zoneinfo.ZoneInfo, now: dt.datetime | None = None
) -> int:
    """Its undecided uncertain rows go out again, as soon as its quiet hours allow (held, if it
    is paused); a done campaign runs again until they are settled. Returns how many."""
    if campaign.status not in RESENDABLE:
        return 0
    paused = campaign.status == CampaignStatus.PAUSED
    count = await outbox.send_uncertain_again(
        session,
        OutboxMessage.campaign_id == campaign.id,
        not_before=next_allowed(now or utcnow(), zone, quiet_hours(campaign)),
        status=Status.PAUSED if paused else Status.PENDING,
    )
    if count and campaign.status == CampaignStatus.DONE:
        campaign.status = CampaignStatus.RUNNING
    return count


async def leave_uncertain(session: AsyncSession, campaign: Campaign) -> int:
    return await outbox.leave_uncertain(session, OutboxMessage.campaign_id == campaign.id)


async def advance_statuses(session: AsyncSession, *, now: dt.datetime) -> None:
    """Scheduled campaigns whose time came are running; running ones with every row settled, done."""
    await session.execute(
        update(Campaign)
        .where(Campaign.status == CampaignStatus.SCHEDULED, Campaign.starts_at <= now)
        .values(status=CampaignStatus.RUNNING)
        .execution_options(synchronize_session=False)
    )
    unsettled = exists(
        select(OutboxMessage.id).where(
            OutboxMessage.campaign_id == Campaign.id, OutboxMessage.status.in_(UNSETTLED)
        )
    )
    await session.execute(
        update(Campaign)
        .where(Campaign.status == CampaignStatus.RUNNING, Campaign.expanded_at.is_not(None), ~unsettled)
        .values(status=CampaignStatus.DONE)
        .execution_options(synchronize_session=False)
    )


# A campaign is put in the outbox this long before its start, so a large one is ready in time.
EXPAND_AHEAD = dt.timedelta(minutes=10)


async def to_expand(session: AsyncSession, *, now: dt.datetime) -> list[uuid.UUID]:
    """Campaigns due (or nearly) whose rows are not all made yet; the segment is taken then."""
    rows = await session.execute(
        select(Campaign.id)
        .where(
            Campaign.status.in_(list(EXPANDING)),
            Campaign.expanded_at.is_(None),
            Campaign.starts_at <= now + EXPAND_AHEAD,
        )
        .order_by(Campaign.starts_at)
    )
    return list(rows.scalars())


# ── figures ─────────────────────────────────────────────────────────────────────────────────────


@dataclasses.dataclass
class Figures:
    """A campaign's rows by outcome (one row per recipient: texts are kept within one message)."""

    sent: int = 0
    failed: int = 0
    blocked: int = 0  # blocked the bot (403), now or earlier
    opted_out: int = 0  # sent /stop (or stopped taking part) after the campaign was expanded
    uncertain: int = 0
    cancelled: int = 0
    remaining: int = 0  # pending, being sent or paused

    @property
    def total(self) -> int:
        return (
            self.sent
            + self.failed
            + self.blocked
            + self.opted_out
            + self.uncertain
            + self.cancelled
            + self.remaining
        )

    @property
    def settled(self) -> int:
        return self.total - self.remaining

    def add(self, status: str, error: str | None, count: int) -> None:
        if status == Status.SENT:
            self.sent += count
        elif status == Status.FAILED and error in BLOCKED_ERRORS:
            self.blocked += count
        elif status == Status.FAILED and error in (OPTED_OUT, WITHDRAWN):
            self.opted_out += count
        elif status == Status.FAILED:
            self.failed += count
        elif status == Status.UNCERTAIN:
            self.uncertain += count
        elif status == Status.CANCELLED:
            self.cancelled += count
        else:
            self.remaining += count


BLOCKED_ERRORS = frozenset({"blocked", "unreachable"})
OPTED_OUT = "opted out"


def _figure_rows(campaign_id: uuid.UUID) -> Any:
    return (
        select(OutboxMessage.status, OutboxMessage.error, func.count())
        .where(OutboxMessage.campaign_id == campaign_id)
        .group_by(OutboxMessage.status, OutboxMessage.error)
    )


async def figures(session: AsyncSession, campaign_id: uuid.UUID) -> Figures:
    result = Figures()
    for status, error, count in (await session.execute(_figure_rows(campaign_id))).all():
        result.add(status, error, count)
    return result


async def figures_by_language(session: AsyncSession, campaign_id: uuid.UUID) -> dict[str | None, Figures]:
    """The results by the language each row was rendered in (the recipient's when the campaign was
    expanded: that variant, or the fallback), whatever language they have chosen since."""
    rows = await session.execute(
        select(OutboxMessage.language, OutboxMessage.status, OutboxMessage.error, func.count())
        .where(OutboxMessage.campaign_id == campaign_id)
        .group_by(OutboxMessage.language, OutboxMessage.status, OutboxMessage.error)
    )
    result: dict[str | None, Figures] = {}
    for language, status, error, count in rows.all():
        result.setdefault(language, Figures()).add(status, error, count)
    return result


async def estimated_finish(
    session: AsyncSession,
    campaign: Campaign,
    *,
    zone: zoneinfo.ZoneInfo,
    now: dt.datetime | None = None,
) -> dt.datetime | None:
    """When the last unsent row should go: its scheduled time (the spread, outside quiet hours), or
    later if, at the pace of the last minute, the rest cannot be sent by then; the quiet hours on
    the way do not count as sending time. None when nothing is left."""
    now = now or utcnow()
    mine = OutboxMessage.campaign_id == campaign.id
    latest, remaining = (
        await session.execute(
            select(func.max(OutboxMessage.not_before), func.count()).where(
                mine, OutboxMessage.status.in_(UNSETTLED)
            )
        )
    ).one()
    if not remaining:
        return None
    recent = (
        await session.execute(
            select(func.count()).where(
                mine, OutboxMessage.status == Status.SENT, OutboxMessage.sent_at >= now - PACE_WINDOW
            )
        )
    ).scalar_one()
    quiet = quiet_hours(campaign)
    finish = max(latest, next_allowed(now, zone, quiet))
    if recent:
        needed = remaining * PACE_WINDOW.total_seconds() / recent
        finish = max(finish, Timeline(now, zone, quiet).at(needed))
    return finish


PACE_WINDOW = dt.timedelta(minutes=1)
