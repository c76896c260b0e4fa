"""When a broadcast or a reminder may reach Telegram: outside its quiet hours, in office time, and a
reminder before its appointment begins. Replies have no window: they answer what a person just did.

The sender looks the windows up for each round it claims, and keeps them when it sends and when it
puts a message back for a retry (429, 5xx, a connection that failed): a campaign message whose
retry falls in quiet hours waits for their end; a reminder that can no longer go before its
appointment outside quiet hours is dropped with the reason, never sent late. A message that came
back for a retry after its campaign was paused or cancelled, or its appointment no longer booked,
is not sent: it is held with its campaign, cancelled, or its reminder dropped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
import zoneinfo
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from outreach.campaigns import CampaignStatus, QuietHours, next_allowed
from programme import reminders as reminder_rules
from storage.appointments import BOOKED, NO_SHOW
from storage.models_appointments import Appointment, Office
from storage.models_outreach import Campaign
from storage.models_reminders import BEFORE, Reminder
from storage.outbox import Lane

# Why a reminder was dropped: its appointment would have begun, or only the quiet hours were left.
PAST, QUIET = "past", "quiet hours"
# A campaign in these has none of its rows sent.
STOPPED_CAMPAIGN = frozenset({CampaignStatus.PAUSED, CampaignStatus.CANCELLED})


@dataclasses.dataclass(frozen=True, slots=True)
class Window:
    zone: zoneinfo.ZoneInfo
    quiet: QuietHours | None = None
    # Too late from this moment on (a reminder's appointment start).
    deadline: dt.datetime | None = None
    # The reminder it carries, if any, to record a drop on.
    reminder_id: uuid.UUID | None = None
    # Set when it must not go at all any more: its campaign's status (paused, cancelled), or its
    # appointment's (cancelled, attended, no_show).
    stopped: str | None = None

    def place(self, at: dt.datetime) -> tuple[dt.datetime | None, str | None]:
        """(the first moment from `at` it may go, None) or (None, why it never may)."""
        if self.deadline is not None and at >= self.deadline:
            return None, PAST
        allowed = next_allowed(at, self.zone, self.quiet)
        if self.deadline is not None and allowed >= self.deadline:
            return None, QUIET
        return allowed, None


def seconds_quiet(hours: reminder_rules.QuietHours | None) -> QuietHours | None:
    """The reminder setting's quiet hours (local times) as a campaign's (seconds after midnight)."""
    if hours is None:
        return None

    def seconds(time: dt.time) -> int:
        return time.hour * 3600 + time.minute * 60 + time.second

    return QuietHours(seconds(hours.start), seconds(hours.end))


async def windows_of(
    session: AsyncSession,
    rows: Sequence[Row[Any]],
    *,
    zone: zoneinfo.ZoneInfo,
    reminder_quiet: QuietHours | None,
) -> dict[uuid.UUID, Window]:
    """The windows of the claimed broadcast and reminder rows (`storage.outbox.claim`'s), by row id
    (replies have none)."""
    found: dict[uuid.UUID, Window] = {}
    campaign_ids = {row.campaign_id for row in rows if row.lane == Lane.BROADCAST and row.campaign_id}
    if campaign_ids:
        campaign_windows = {
            campaign_id: Window(
                zone,
                QuietHours(start, end) if start is not None and end is not None else None,
                stopped=status if status in STOPPED_CAMPAIGN else None,
            )
            for campaign_id, start, end, status in await session.execute(
                select(Campaign.id, Campaign.quiet_from, Campaign.quiet_until, Campaign.status).where(
                    Campaign.id.in_(campaign_ids)
                )
            )
        }
        for row in rows:
            if row.lane == Lane.BROADCAST and row.campaign_id in campaign_windows:
                found[row.id] = campaign_windows[row.campaign_id]
    reminder_rows = [row.id for row in rows if row.lane == Lane.REMINDER]
    if reminder_rows:
        linked = await session.execute(
            select(
                Reminder.outbox_id,
                Reminder.id,
                Reminder.kind,
                Appointment.starts_at,
                Appointment.status,
                Office.timezone,
            )
            .join(Appointment, Appointment.id == Reminder.appointment_id)
            .join(Office, Office.id == Appointment.office_id)
            .where(Reminder.outbox_id.in_(reminder_rows))
        )
        for outbox_id, reminder_id, kind, starts_at, status, timezone in linked:
            found[outbox_id] = Window(
                zoneinfo.ZoneInfo(timezone) if timezone else zone,
                reminder_quiet,
                # A no-show's follow-up comes after its appointment: it only keeps the quiet hours.
                starts_at if kind == BEFORE else None,
                reminder_id,
                # The appointment's status a reminder is for: booked (before it), no_show (the follow-up).
                stopped=status if status != (BOOKED if kind == BEFORE else NO_SHOW) else None,
            )
        for row_id in reminder_rows:
            # Parts of a long reminder before its last (which the reminder names) keep the quiet hours.
            found.setdefault(row_id, Window(zone, reminder_quiet))
    return found
