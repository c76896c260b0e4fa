"""Alerts on the staff's own phones, in the worker beside the sender (under the same election:
intake.runtime), through the outbox's reply lane to each account's linked chat.

Every second it sends what the bot noted (storage.staff_alerts: an urgent alert, crisis words, the
first unread message of a handoff) to the case's caseworker, or, for an unassigned case, to the
supervisors on duty (outside their quiet hours; urgent alerts ignore them). An urgent alert goes to
the supervisors too when its caseworker cannot get it (no linked chat, chosen off). Every
`sweep_every` seconds it looks for urgent alerts nobody opened within the setting (to every
supervisor, whatever they chose), handoffs waiting unassigned longer than the setting (to the
supervisors on duty; with none on duty, it is told once one is), and feedback past its due time
without a first answer (to those on duty who may read it by the console's own rule, `reads`: a
complaint about staff to the focal points only; with none on duty, it is told once one is).

Each round is one transaction: the outbox rows and the marks that they were made (the notice
deleted, the alert escalated, the handoff told) commit together, so a worker killed at any point
neither loses an alert nor, restarted, sends one twice (the feedback told is marked on its row).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable, Collection
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach.leader import DATABASE_LOST, wait_or_stop
from programme.feedback import Routing
from programme.staff_alerts import URGENT_KINDS, AlertPolicy, Kind
from storage import feedback as feedback_store
from storage import staff_alerts
from storage.crypto import Crypto
from storage.models import Case, utcnow
from storage.outbox import Lane, enqueue
from storage.staff_alerts import SUPERVISOR, Recipient

log = logging.getLogger(__name__)

# kind, case code ("" for feedback), the reader's console language → the alert's text.
Render = Callable[[Kind, str, str], str]
NO_CASE = ""


class Reads(Protocol):
    """Which feedback an account reads: the console's rule (caseworker_console.permissions
    .feedback_routings), given by intake.runtime, so that a phone is told of no feedback its holder
    could not open."""

    def __call__(self, *, role: str, focal_point: bool) -> Collection[Routing]: ...


class StaffAlerts:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        crypto: Crypto,
        render: Render,
        *,
        policy: AlertPolicy,
        zone: zoneinfo.ZoneInfo,
        reads: Reads,
        batch: int = 200,
        interval: float = 1.0,
        sweep_every: float = 30.0,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._crypto = crypto
        self._render = render
        self._policy = policy
        self._zone = zone
        self._reads = reads
        self._batch = batch
        self._interval = interval
        self._sweep_every = dt.timedelta(seconds=sweep_every)
        self._clock = clock
        self._swept_at: dt.datetime | None = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except DATABASE_LOST as error:
                log.warning("staff alerts paused (%s); they resume in a moment", type(error).__name__)
            await wait_or_stop(stop, self._interval)

    async def run_once(self) -> int:
        """One round; how many messages it put in the outbox."""
        now = self._clock()
        sweep = self._swept_at is None or now - self._swept_at >= self._sweep_every
        async with self._sessionmaker() as session, session.begin():
            sent = await self._notices(session, now)
            if sweep:
                sent += await self._escalate(session, now)
                sent += await self._waiting(session, now)
                sent += await self._feedback_overdue(session, now)
        if sweep:
            self._swept_at = now
        if sent:
            log.info("staff alerts: %d sent to linked chats", sent)
        return sent

    async def _notices(self, session: AsyncSession, now: dt.datetime) -> int:
        found = await staff_alerts.pending(session, limit=self._batch)
        sent = 0
        for notice, case in found:
            kind = Kind(notice.kind)
            sent += await self._send(session, case.code, kind, await self._for_case(session, case, kind, now))
        await staff_alerts.done(session, notice_ids=[notice.id for notice, _ in found])
        return sent

    async def _for_case(
        self, session: AsyncSession, case: Case, kind: Kind, now: dt.datetime
    ) -> list[Recipient]:
        """The case's caseworker, or the supervisors on duty (for an urgent alert also when the
        caseworker cannot get it)."""
        if case.assigned_to is not None:
            owner = await staff_alerts.recipients(session, staff_ids=[case.assigned_to])
            chosen = [each for each in owner if each.choice.receives(kind, now, self._zone)]
            if chosen or kind not in URGENT_KINDS:
                return chosen
        supervisors = await staff_alerts.recipients(session, role=SUPERVISOR)
        return [each for each in supervisors if each.choice.receives(kind, now, self._zone)]

    async def _escalate(self, session: AsyncSession, now: dt.datetime) -> int:
        found = await staff_alerts.to_escalate(
            session, now=now, after=self._policy.escalate_after, limit=self._batch
        )
        if not found:
            return 0
        supervisors = await staff_alerts.recipients(session, role=SUPERVISOR)
        sent = 0
        for alert, case in found:
            sent += await self._send(session, case.code, Kind.ESCALATED, supervisors)
            alert.escalated_at = now
        return sent

    async def _waiting(self, session: AsyncSession, now: dt.datetime) -> int:
        after = self._policy.waiting_after
        if after is None:
            return 0
        cases = await staff_alerts.waiting(session, now=now, after=after, limit=self._batch)
        if not cases:
            return 0
        on_duty = [
            each
            for each in await staff_alerts.recipients(session, role=SUPERVISOR)
            if each.choice.receives(Kind.WAITING, now, self._zone)
        ]
        if not on_duty:
            return 0  # told once a supervisor is on duty
        sent = 0
        for case in cases:
            sent += await self._send(session, case.code, Kind.WAITING, on_duty)
        await staff_alerts.mark_waiting_alerted(session, case_ids=[case.id for case in cases], at=now)
        return sent

    async def _feedback_overdue(self, session: AsyncSession, now: dt.datetime) -> int:
        """Each overdue piece of feedback, once, to its readers on duty; the alert names nothing of it
        (programme.staff_alerts). Feedback nobody on duty may read waits, untold, for one who is."""
        on_duty = [
            each
            for each in await staff_alerts.recipients(session, every=True)
            if each.choice.receives(Kind.FEEDBACK_OVERDUE, now, self._zone)
        ]
        readers: dict[Routing, list[Recipient]] = {}
        for each in on_duty:
            for routing in self._reads(role=each.role, focal_point=each.focal_point):
                readers.setdefault(routing, []).append(each)
        if not readers:
            return 0
        found = await feedback_store.overdue_untold(
            session, routings=list(readers), now=now, limit=self._batch
        )
        sent = 0
        for _, routing in found:
            sent += await self._send(session, NO_CASE, Kind.FEEDBACK_OVERDUE, readers[routing])
        await feedback_store.mark_overdue_told(session, feedback_ids=[id_ for id_, _ in found], at=now)
        return sent

    async def _send(self, session: AsyncSession, code: str, kind: Kind, to: list[Recipient]) -> int:
        for recipient in to:
            await enqueue(
                session,
                self._crypto,
                staff_user_id=recipient.staff_user_id,
                text=self._render(kind, code, recipient.language),
                lane=Lane.REPLY,
                link_preview=False,
            )
        return len(to)
