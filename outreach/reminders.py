"""The reminder scheduler: due reminders into the outbox, exactly once, in the worker beside the sender.

Each round is one transaction: the due rows are read (locked on PostgreSQL), each is either put in
the outbox (REMINDER lane) and marked enqueued, or dropped with a reason, and all of it commits
together. A worker killed before the commit leaves them pending for the next one; after it, they
are in the outbox, whose sender never sends a row twice. The scheduler runs under the sender's
leader election (see intake.runtime), so one runs at a time.

Of several reminders of one appointment due at once (the worker was away), only the last goes
out. A reminder that falls due late inside quiet hours waits for their end when its appointment
begins after it, and is dropped when it does not (never sent in quiet hours, never late; the sender
keeps the same rule for retries, see outreach.windows); the no-show follow-up always waits for the
morning.

Reminders are appointment-critical: they go out while a caseworker is handling the conversation
too (short, factual, and what the caseworker would want). The no-show follow-up is a prompt to
book again, so it waits while a caseworker is active and goes out once the case is handed back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import zoneinfo
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach.leader import wait_or_stop
from outreach.windows import QUIET
from programme.cycle import Stage
from programme.reminders import NO_SHOW_WINDOW, QuietHours
from storage.crypto import Crypto
from storage.models import Beneficiary, Case, utcnow
from storage.models_appointments import Appointment, Office
from storage.models_reminders import BEFORE, DROPPED, ENQUEUED, NO_SHOW, Reminder
from storage.outbox import Lane, enqueue
from storage.reminders import WITHDRAWN, add_no_show_follow_ups, due_reminders, has_upcoming_booking

log = logging.getLogger(__name__)

# A no-show follow-up held while a caseworker is active is looked at again this much later.
HOLD = dt.timedelta(minutes=10)


class Render(Protocol):
    def __call__(
        self,
        *,
        kind: str,
        starts_at: dt.datetime,
        office: Office,
        zone: zoneinfo.ZoneInfo,
        language: str | None,
        token: str,
    ) -> tuple[str, dict[str, Any]]: ...


class Scheduler:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        crypto: Crypto,
        render: Render,
        *,
        default_timezone: str,
        quiet_hours: QuietHours | None = None,
        batch_size: int = 200,
        interval: float = 1.0,
        no_show_interval: float = 30.0,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._crypto = crypto
        self._render = render
        self._default_zone = zoneinfo.ZoneInfo(default_timezone)
        self._quiet_hours = quiet_hours
        self._batch_size = batch_size
        self._interval = interval
        self._no_show_interval = dt.timedelta(seconds=no_show_interval)
        self._clock = clock
        self._no_shows_seen_at: dt.datetime | None = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            handled = await self.run_once()
            if handled < self._batch_size:
                await wait_or_stop(stop, self._interval)

    async def run_once(self) -> int:
        """One round; returns how many reminders it settled (enqueued, dropped or held)."""
        now = self._clock()
        async with self._sessionmaker() as session, session.begin():
            if self._no_shows_seen_at is None or now - self._no_shows_seen_at >= self._no_show_interval:
                added = await add_no_show_follow_ups(session, now=now)
                if added:
                    log.info("%d no-show follow-ups scheduled", added)
                self._no_shows_seen_at = now
            due = await due_reminders(session, now=now, limit=self._batch_size)
            # Several reminders of one appointment due at once (the worker was away): the last only.
            latest = {r.appointment_id: r for r, *_ in due if r.kind == BEFORE}
            outcomes: dict[str, int] = {}
            for reminder, appointment, case, person in due:
                if reminder.kind == BEFORE and latest[reminder.appointment_id] is not reminder:
                    reminder.status, reminder.reason = DROPPED, "superseded"
                    outcome = "dropped (superseded)"
                else:
                    outcome = await self._settle(session, now, reminder, appointment, case, person)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if due:
            log.info(
                "reminders: %s", ", ".join(f"{count} {name}" for name, count in sorted(outcomes.items()))
            )
        return len(due)

    async def _settle(
        self,
        session: AsyncSession,
        now: dt.datetime,
        reminder: Reminder,
        appointment: Appointment | None,
        case: Case | None,
        person: Beneficiary | None,
    ) -> str:
        reason = self._why_not(now, reminder, appointment, case, person)
        if reason is None and reminder.kind == NO_SHOW:
            assert case is not None
            if await has_upcoming_booking(session, case_id=case.id, now=now):
                reason = "rebooked"
            elif case.caseworker_active:
                reminder.due_at = now + HOLD
                return "held"
        if reason is not None:
            reminder.status, reminder.reason = DROPPED, reason
            return f"dropped ({reason})"
        assert appointment is not None
        assert person is not None
        assert case is not None
        office = appointment.office
        zone = zoneinfo.ZoneInfo(office.timezone) if office.timezone else self._default_zone
        if self._quiet_hours is not None:
            morning = self._quiet_hours.end_after(now, zone)
            if morning > now:
                if reminder.kind == NO_SHOW or appointment.starts_at > morning:
                    reminder.due_at = morning
                    return "held (quiet hours)"
                reminder.status, reminder.reason = DROPPED, QUIET
                return f"dropped ({QUIET})"
        token = secrets.token_urlsafe(16)
        text, markup = self._render(
            kind=reminder.kind,
            starts_at=appointment.starts_at,
            office=office,
            zone=zone,
            language=person.language or case.language,
            token=token,
        )
        [*_, last] = await enqueue(
            session,
            self._crypto,
            beneficiary_id=person.id,
            text=text,
            lane=Lane.REMINDER,
            reply_markup=markup,
        )
        reminder.status, reminder.outbox_id, reminder.enqueued_at = ENQUEUED, last.id, now
        reminder.tap_token = token
        return "enqueued"

    @staticmethod
    def _why_not(
        now: dt.datetime,
        reminder: Reminder,
        appointment: Appointment | None,
        case: Case | None,
        person: Beneficiary | None,
    ) -> str | None:
        """Why a due reminder must not go out, or None."""
        if appointment is None or case is None or person is None:
            return "gone"
        if case.stage == Stage.CLOSED:
            return "closed"
        if person.unreachable_at is not None:
            return "unreachable"
        if person.withdrawn_at is not None:
            return WITHDRAWN
        if reminder.kind == NO_SHOW:
            if appointment.status != "no_show":
                return "changed"
            return "past" if now - appointment.starts_at > NO_SHOW_WINDOW else None
        if appointment.status != "booked":
            return appointment.status  # cancelled, or marked attended or no-show early
        return "past" if appointment.starts_at <= now else None
