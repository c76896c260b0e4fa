"""The outbox sender: a global rate, one message per second per chat, Telegram's errors obeyed.

Crash safety: every request is preceded by a committed "attempt started" mark on its row (written
a batch ahead of the requests, in one transaction with the outcomes of the requests before it), so
a sender killed at any point leaves rows that are either unattempted (sent again) or attempted
(settled uncertain, never resent). Rows are claimed with a lease; a stopped sender puts back what
it claimed or marked and did not send.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
import logging
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach.campaigns import CampaignStatus
from outreach.leader import wait_or_stop
from outreach.posting import Answer, Poster, Reply
from outreach.windows import Window, seconds_quiet, windows_of
from programme.reminders import QuietHours
from storage import staff_link
from storage.crypto import Crypto
from storage.models import Beneficiary, OutboxMessage, utcnow
from storage.outbox import FINAL, Lane, Status, claim, mark_attempts_started, settle_many
from storage.queries import mark_unreachable
from storage.reminders import WITHDRAWN, drop_unsent_reminders
from storage.sealing import open_value

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.0
UTC = zoneinfo.ZoneInfo("UTC")
MAX_BACKOFF = 300.0
PAID_BROADCAST_RATE = 1000.0
BENEFICIARIES, OUTBOX = Beneficiary.__tablename__, OutboxMessage.__tablename__
# What the sender reads of a claimed row's recipient.
RECIPIENT = (
    Beneficiary.id,
    Beneficiary.telegram_id_enc,
    Beneficiary.unreachable_at,
    Beneficiary.opted_out,
    Beneficiary.withdrawn_at,
)
NOT_LINKED = "not linked"


# Below this rate sends keep their spacing when the sender falls behind (see RateLimiter).
STEADY_BELOW = 80.0


class RateLimiter:
    """At most `rate` sends in any second as Telegram counts them, evenly spaced, and a pause for
    429's retry_after.

    Three steps per send. `take` reserves slots on an even grid; when the caller fell behind by up
    to `catch_up` seconds (a claim, a database round trip, a busy moment of the event loop) it hands
    out the slots it missed at once, so the average holds the rate; `start` begins a run of sends
    without banking the idle time before it. Below `STEADY_BELOW` sends per second it makes up a
    quarter interval at most: sends never go out in pairs (at 25/s the second would beat the 429
    the first one gets). `admit`, right before the requests go out, checks a sliding window; `done`
    says a send's answer came back (or it was given up on).

    Telegram counts a request when it arrives: after it was admitted here, before its answer is
    back. So a send counts in the window from its admission until one second after its answer: of
    any requests Telegram receives within one second, the last admitted found all the others still
    under way or answered less than a second before, and it was admitted only if they were fewer
    than `rate`. That holds however late requests arrive (a stalled process, a slow network), where
    a fixed margin on the window would only absorb delays shorter than itself; it costs one round
    trip per second of sending (a few milliseconds to a local Bot API). The window is also what
    keeps a catch-up within the rate.
    """

    def __init__(
        self, rate: float, clock: Callable[[], float] = time.monotonic, catch_up: float = 0.25
    ) -> None:
        self._interval = 1.0 / rate
        self._clock = clock
        self._slack = catch_up if rate >= STEADY_BELOW else self._interval / 4
        self._next = 0.0
        self._capacity = max(1, int(rate))
        self._window = self._capacity / rate
        # When the answers of the sends still in the window came back, oldest first.
        self._answered: collections.deque[float] = collections.deque()
        self._under_way = 0
        self._answer = asyncio.Event()
        self._paused_until = 0.0

    def start(self) -> None:
        """Sends begin again after a pause in the work: nothing is made up for the time before."""
        self._next = max(self._next, self._clock())

    async def take(self, most: int = 1) -> int:
        now = self._clock()
        if self._next > now:
            await asyncio.sleep(self._next - now)
            now = self._clock()
        start = max(self._next, now - self._slack)
        granted = max(1, min(most, self._capacity, 1 + int((now - start) / self._interval)))
        self._next = start + granted * self._interval
        return granted

    async def admit(self, count: int = 1) -> None:
        """Returns when `count` more sends fit in the window; each must be followed by a `done`."""
        while True:
            now = self._clock()
            if self._paused_until > now:
                await asyncio.sleep(self._paused_until - now)
                continue
            while self._answered and self._answered[0] <= now - self._window:
                self._answered.popleft()
            excess = self._under_way + len(self._answered) + count - self._capacity
            if excess <= 0:
                self._under_way += count
                return
            if excess <= len(self._answered):
                await asyncio.sleep(self._answered[excess - 1] + self._window - now)
            else:  # the window is full of sends still under way: the next answer starts its second
                self._answer.clear()
                await self._answer.wait()

    def done(self) -> None:
        self._under_way -= 1
        self._answered.append(self._clock())
        self._answer.set()

    def pause(self, seconds: float) -> None:
        until = self._clock() + seconds
        self._next = max(self._next, until)
        self._paused_until = max(self._paused_until, until)


@dataclass(slots=True)
class Delivery:
    message_id: Any
    beneficiary_id: Any
    chat_id: int
    method: str
    payload: dict[str, Any]
    attempts: int
    lane: int = Lane.REPLY
    # Settled as failed with this reason without calling Telegram.
    skip: str | None = None
    # When it may go (broadcasts and reminders; see outreach.windows).
    window: Window | None = None
    # Addressed to a bare chat (its person erased): the sealed chat id is cleared once settled.
    bare_chat: bool = False


class Sender:
    """Sends the outbox in short rounds: each claims up to about `round_seconds` of sends, lanes in
    order, while the round before it sends its last part, so a reply enqueued during a broadcast
    goes out within two rounds.

    Broadcasts keep their campaign's quiet hours and reminders `reminder_quiet_hours`, both in
    office time (`zone`; a reminder in its office's), when they are sent and when they are retried.
    """

    def __init__(
        self,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        crypto: Crypto,
        *,
        rate: float,
        lease: dt.timedelta = dt.timedelta(seconds=60),
        batch_size: int = 500,
        round_seconds: float = 0.25,
        idle_interval: float = 0.5,
        concurrency: int = 64,
        request_timeout: float = 30.0,
        paid_broadcast: bool = False,
        paid_rate: float = PAID_BROADCAST_RATE,
        zone: zoneinfo.ZoneInfo = UTC,
        reminder_quiet_hours: QuietHours | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._poster = Poster(bot, timeout=request_timeout)
        self._sessionmaker = sessionmaker
        self._crypto = crypto
        self._limiter = RateLimiter(rate, clock)
        # Paid broadcasts (allow_paid_broadcast) have Telegram's higher limit; the rest keep `rate`.
        self._paid_limiter = RateLimiter(paid_rate, clock) if paid_broadcast else None
        self._clock = clock
        # The time of day and date where they decide (what is due and its lease, quiet hours, a
        # reminder's deadline, retry times) and the stamps written: utcnow, or a test's set time.
        self._now = wall_clock
        self._zone = zone
        self._reminder_quiet = seconds_quiet(reminder_quiet_hours)
        self._lease = lease
        fastest = max(rate, paid_rate if paid_broadcast else rate)
        self._round_size = max(1, min(batch_size, round(fastest * round_seconds)))
        self._idle_interval = idle_interval
        self._concurrency = concurrency
        # Attempt marks written per transaction: about 20 ms of sends, at most what may be in flight
        # (1 at 25/s, as before). Fewer transactions cost less; a killed sender leaves up to two
        # batches marked and unsent (settled uncertain, not delivered): 40 at 1,000/s.
        self._mark_ahead = max(1, min(concurrency, round(fastest * 0.02)))
        self._chat_ready_at: dict[int, float] = {}
        self._done: list[dict[str, Any]] = []
        self._blocked: list[Any] = []
        # Reminders dropped because they could only have gone late: (reminder id, reason).
        self._dropped: list[tuple[Any, str]] = []
        self._in_flight: set[asyncio.Task[None]] = set()
        # Chats with a request under way: the next message to one waits for it (never overtakes).
        self._chats_in_flight: set[int] = set()
        self._slot_free = asyncio.Event()

    def hold(self, seconds: float) -> None:
        """Send nothing for `seconds` (a new leader does not know what its predecessor just sent)."""
        for limiter in self._limiters():
            limiter.pause(seconds)

    def _limiters(self) -> list[RateLimiter]:
        return [self._limiter] if self._paid_limiter is None else [self._limiter, self._paid_limiter]

    def _start_sending(self) -> None:
        """A run of rounds begins: the limiters make up for stalls from here on, not for idle time."""
        for limiter in self._limiters():
            limiter.start()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            handled = await self.run_rounds(stop)
            if not handled:
                await wait_or_stop(stop, self._idle_interval)

    async def run_once(self) -> int:
        """One round: claim, send, wait for every answer and write it down. How many were claimed."""
        deliveries = await self._claim()
        if not deliveries:
            return 0
        self._start_sending()
        try:
            await self._send_round(self._sort_out(deliveries))
        finally:
            await self._settle_in_flight()
        self._forget_idle_chats()
        return len(deliveries)

    async def run_rounds(self, stop: asyncio.Event | None = None) -> int:
        """Rounds back to back until a claim finds nothing due or `stop` is set; how many were claimed.

        Each round is claimed while the one before it sends its last part (once all its attempt
        marks are written), so the rate does not pause between rounds; the answers of a round are
        written with the next round's attempt marks.
        """
        handled = 0
        next_round: asyncio.Task[list[Delivery]] | None = asyncio.create_task(self._claim())
        try:
            while next_round is not None:
                # Shielded: cancelled while it claims, the claim still ends and its rows go back.
                deliveries = await asyncio.shield(next_round)
                next_round = None
                if not deliveries:
                    break
                if stop is not None and stop.is_set():
                    self._put_back(deliveries)
                    break
                if not handled:
                    self._start_sending()
                handled += len(deliveries)
                next_round = await self._send_round(self._sort_out(deliveries), claim_next=True)
                self._forget_idle_chats()
        finally:
            # Even when cancelled: a round claimed and not begun goes back as it was.
            if next_round is not None:
                self._put_back(await _result_or_nothing(next_round))
            await self._settle_in_flight()
        return handled

    async def _settle_in_flight(self) -> None:
        """What was answered is written (even when cancelled), so it is not resent or doubted."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))
        await self._commit([])

    def _put_back(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            self._outcome(delivery, Status.PENDING, count_attempt=False)

    async def _claim(self) -> list[Delivery]:
        async with self._sessionmaker() as session, session.begin():
            rows = await claim(session, now=self._now(), lease=self._lease, limit=self._round_size)
            if not rows:
                return []
            ids = {row.beneficiary_id for row in rows if row.beneficiary_id is not None}
            recipients = (
                {
                    person.id: person
                    for person in await session.execute(select(*RECIPIENT).where(Beneficiary.id.in_(ids)))
                }
                if ids
                else {}
            )
            staff_chats = await staff_link.chat_ids(
                session,
                self._crypto,
                staff_user_ids={row.staff_user_id for row in rows if row.staff_user_id is not None},
            )
            windows = await windows_of(session, rows, zone=self._zone, reminder_quiet=self._reminder_quiet)
        # Decrypted after the transaction: on SQLite it holds the one writer's turn.
        return [self._delivery(row, recipients, staff_chats, windows.get(row.id)) for row in rows]

    def _delivery(
        self,
        row: Row[Any],
        recipients: dict[Any, Row[Any]],
        staff_chats: dict[int, int],
        window: Window | None,
    ) -> Delivery:
        skip = None
        if row.chat_id_enc is not None:
            # The last message to a person whose rows are erased: their chat, sealed on the row.
            chat_id = int(open_value(self._crypto, OUTBOX, "chat_id_enc", row.id, row.chat_id_enc) or 0)
        elif row.staff_user_id is not None:
            # A test to a staff member's own chat; unlinked since it was queued: not sent.
            chat_id = staff_chats.get(row.staff_user_id, 0)
            if not chat_id:
                skip = NOT_LINKED
        else:
            person = recipients[row.beneficiary_id]
            chat_id = int(
                open_value(self._crypto, BENEFICIARIES, "telegram_id_enc", person.id, person.telegram_id_enc)
                or 0
            )
            if person.unreachable_at is not None or not chat_id:
                skip = "unreachable"  # blocked earlier
            elif person.withdrawn_at is not None and row.lane in (Lane.BROADCAST, Lane.REMINDER):
                skip = WITHDRAWN  # stopped taking part after it was queued: replies still go
            elif person.opted_out and row.lane == Lane.BROADCAST:
                skip = "opted out"  # sent /stop after the campaign was queued
        return Delivery(
            message_id=row.id,
            beneficiary_id=row.beneficiary_id,
            chat_id=chat_id,
            method=row.method,
            payload=json.loads(
                open_value(self._crypto, OUTBOX, "payload_enc", row.id, row.payload_enc) or "null"
            ),
            attempts=row.attempts,
            lane=row.lane,
            skip=skip,
            window=window,
            bare_chat=row.chat_id_enc is not None,
        )

    async def _send_round(
        self, ready: list[Delivery], *, claim_next: bool = False
    ) -> asyncio.Task[list[Delivery]] | None:
        """Sends `ready` at the rate; with `claim_next`, returns the task claiming the next round,
        started once every attempt mark of this one is written.

        The attempt marks are written `mark_ahead` sends at a time, with the answers so far, one
        batch ahead of the sends, in the background: one transaction per batch, and none in the
        sends' way. A sender killed meanwhile leaves at most two batches marked and not sent: they
        are settled uncertain, never resent. Stopped (cancelled) instead, it puts them back.
        """
        position = marked = 0  # sent: ready[:position]; attempt marks written: ready[:marked]
        marking: asyncio.Task[None] | None = None  # writing the marks of ready[marked:asked]
        asked = 0
        next_round: asyncio.Task[list[Delivery]] | None = None

        def mark(upto: int) -> asyncio.Task[None]:
            nonlocal asked
            starting, asked = ready[asked:upto], upto
            return asyncio.create_task(self._commit([delivery.message_id for delivery in starting]))

        try:
            while position < len(ready):
                while len(self._in_flight) >= self._concurrency:
                    self._slot_free.clear()
                    await self._slot_free.wait()
                paid = self._is_paid(ready[position])
                run = 1
                while position + run < len(ready) and self._is_paid(ready[position + run]) == paid:
                    run += 1
                limiter = self._paid_limiter if paid and self._paid_limiter else self._limiter
                granted = await limiter.take(min(run, self._concurrency - len(self._in_flight)))
                end = position + granted
                while end > marked:
                    if marking is None:
                        marking = mark(min(len(ready), max(end, marked + self._mark_ahead)))
                    # Shielded: stopped while it writes, the write ends and says what was marked.
                    await asyncio.shield(marking)
                    marking, marked = None, asked
                if marking is None and marked < min(len(ready), end + self._mark_ahead):
                    marking = mark(min(len(ready), marked + self._mark_ahead))  # the next batch
                if claim_next and next_round is None and marking is None and marked == len(ready):
                    next_round = asyncio.create_task(self._claim())
                await limiter.admit(granted)
                for delivery in ready[position:end]:
                    self._chat_ready_at[delivery.chat_id] = self._clock() + PER_CHAT_INTERVAL
                    self._chats_in_flight.add(delivery.chat_id)
                    task = asyncio.create_task(self._send(delivery, limiter, paid=paid))
                    self._in_flight.add(task)
                    task.add_done_callback(self._finished)
                position = end
        except BaseException:
            if marking is not None and await _succeeded(marking):
                marked = asked
            # Marked and never sent (stopped, or a write failed): back for later, no attempt spent.
            self._put_back(ready[position:marked])
            if next_round is not None:
                self._put_back(await _result_or_nothing(next_round))
            raise
        if claim_next and next_round is None:  # nothing was sent (all deferred or settled)
            next_round = asyncio.create_task(self._claim())
        return next_round

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._slot_free.set()

    def _is_paid(self, delivery: Delivery) -> bool:
        return self._paid_limiter is not None and delivery.lane == Lane.BROADCAST

    def _sort_out(self, deliveries: list[Delivery]) -> list[Delivery]:
        """The deliveries to send this round; the others are settled or put back for later."""
        now, now_utc = self._clock(), self._now()
        # One retry time per busy chat: equal times keep that chat's messages in order.
        deferred: dict[int, dt.datetime] = {}
        ready: list[Delivery] = []
        in_round: set[int] = set()
        for delivery in deliveries:
            if delivery.skip == WITHDRAWN and delivery.lane == Lane.REMINDER:
                self._drop(delivery, WITHDRAWN)
                continue
            if delivery.skip is not None:
                self._outcome(delivery, Status.FAILED, error=delivery.skip, count_attempt=False)
                continue
            if self._stopped(delivery) or not self._in_window(delivery, now_utc):
                continue
            ready_at = self._chat_ready_at.get(delivery.chat_id, 0.0)
            busy = delivery.chat_id in in_round or delivery.chat_id in self._chats_in_flight
            if busy or delivery.chat_id in deferred or ready_at > now:
                # Too soon for this chat: back for later, without spending an attempt's backoff.
                wait = max(ready_at - now, PER_CHAT_INTERVAL if busy else 0.0)
                retry_at = deferred.setdefault(delivery.chat_id, now_utc + dt.timedelta(seconds=wait))
                self._outcome(delivery, Status.PENDING, retry_at=retry_at, count_attempt=False)
                continue
            in_round.add(delivery.chat_id)
            ready.append(delivery)
        return ready

    def _stopped(self, delivery: Delivery) -> bool:
        """True, and settled, if it must not go any more: it came back for a retry after its
        campaign was paused (held with it) or cancelled, or its appointment was cancelled or done."""
        window = delivery.window
        if window is None or window.stopped is None:
            return False
        if delivery.lane == Lane.REMINDER:
            self._drop(delivery, window.stopped)
        elif window.stopped == CampaignStatus.PAUSED:
            self._outcome(delivery, Status.PAUSED, count_attempt=False)
        else:
            self._outcome(delivery, Status.CANCELLED, count_attempt=False)
        return True

    def _in_window(self, delivery: Delivery, now: dt.datetime) -> bool:
        """True if it may go now; else it is put back for when it may (its attempt not counted),
        or, a reminder that only could go late, dropped."""
        if delivery.window is None:
            return True
        at, reason = delivery.window.place(now)
        if at is None:
            self._drop(delivery, reason or "")
        elif at > now:
            self._outcome(delivery, Status.PENDING, retry_at=at, count_attempt=False)
        return at == now

    def _retry(self, delivery: Delivery, error: str, retry_at: dt.datetime) -> None:
        """Back for another attempt at `retry_at`, or when its window next allows it."""
        if delivery.window is not None:
            at, reason = delivery.window.place(retry_at)
            if at is None:
                self._drop(delivery, reason or "", attempted=True)
                return
            retry_at = at
        self._outcome(delivery, Status.PENDING, error=error, retry_at=retry_at)

    def _drop(self, delivery: Delivery, reason: str, *, attempted: bool = False) -> None:
        self._outcome(delivery, Status.CANCELLED, error=f"reminder {reason}", count_attempt=attempted)
        if delivery.window is not None and delivery.window.reminder_id is not None:
            self._dropped.append((delivery.window.reminder_id, reason))

    async def _send(self, delivery: Delivery, limiter: RateLimiter, *, paid: bool) -> None:
        try:
            await self._deliver(delivery, paid=paid)
        finally:
            limiter.done()
            self._chats_in_flight.discard(delivery.chat_id)

    async def _deliver(self, delivery: Delivery, *, paid: bool) -> None:
        # The rate may have held it into the quiet hours (a 429's pause) or up to its deadline.
        if not self._in_window(delivery, self._now()):
            return
        extra: dict[str, Any] = {"allow_paid_broadcast": True} if paid else {}
        try:
            reply = await self._poster.post(delivery.method, delivery.chat_id, delivery.payload, **extra)
        except Exception as error:
            # Anything unforeseen after the request went out: it may have been delivered. Only the
            # kind of error is logged: its text could quote the message itself.
            reply = Reply(Answer.UNEXPECTED, description=type(error).__name__)
        match reply.answer:
            case Answer.SENT:
                self._outcome(delivery, Status.SENT, telegram_message_id=reply.message_id)
            case Answer.RETRY_AFTER:
                log.warning("Telegram asked to slow down: pausing all sends for %s s", reply.retry_after)
                self.hold(reply.retry_after)
                self._retry(delivery, "429", self._now() + dt.timedelta(seconds=reply.retry_after))
            case Answer.FORBIDDEN:
                self._outcome(delivery, Status.FAILED, error="blocked")
                if delivery.beneficiary_id is not None:  # a staff chat marks no beneficiary
                    self._blocked.append(delivery.beneficiary_id)
            case Answer.BAD_REQUEST:
                self._outcome(delivery, Status.FAILED, error=reply.description[:200])
            case Answer.SERVER_ERROR:
                self._retry(delivery, "server error", self._backoff(delivery))
            case Answer.NOT_CONNECTED:
                self._retry(delivery, "connection", self._backoff(delivery))
            case Answer.NO_ANSWER:
                # The request may have reached Telegram: resending could duplicate it.
                self._outcome(delivery, Status.UNCERTAIN, error="no answer after sending")
            case Answer.UNEXPECTED:
                log.error(
                    "outbox message %s: unexpected %s while sending", delivery.message_id, reply.description
                )
                self._outcome(delivery, Status.UNCERTAIN, error="unexpected error")

    def _backoff(self, delivery: Delivery) -> dt.datetime:
        return self._now() + dt.timedelta(seconds=min(MAX_BACKOFF, 2.0 ** (delivery.attempts + 1)))

    def _outcome(
        self,
        delivery: Delivery,
        status: Status,
        *,
        error: str | None = None,
        telegram_message_id: int | None = None,
        retry_at: dt.datetime | None = None,
        count_attempt: bool = True,
    ) -> None:
        """Kept until the next commit, which writes a round's outcomes in one statement per shape."""
        values: dict[str, Any] = {
            "id": delivery.message_id,
            "status": status,
            "error": error,
            "lease_until": None,
            "attempt_started_at": None,
            "attempts": delivery.attempts + (1 if count_attempt else 0),
        }
        if status is Status.SENT:
            values.update(sent_at=self._now(), telegram_message_id=telegram_message_id)
        if retry_at is not None:
            values["not_before"] = retry_at
        if delivery.bare_chat and status in FINAL:
            values["chat_id_enc"] = None  # the chat of an erased person is not kept past the send
        self._done.append(values)
        if status not in (Status.SENT, Status.PENDING) or error is not None:
            log.info("outbox message %s: %s (%s)", delivery.message_id, status, error)

    async def _commit(self, starting: list[Any]) -> None:
        """One transaction: the outcomes so far, and the attempt marks of the sends about to start."""
        done, self._done = self._done, []
        blocked, self._blocked = self._blocked, []
        dropped, self._dropped = self._dropped, []
        if not (done or blocked or dropped or starting):
            return
        try:
            async with self._sessionmaker() as session, session.begin():
                await settle_many(session, done)
                for beneficiary_id in blocked:
                    await mark_unreachable(session, beneficiary_id=beneficiary_id, at=self._now())
                await drop_unsent_reminders(session, dropped)
                if starting:
                    await mark_attempts_started(session, message_ids=starting, at=self._now())
        except BaseException:
            # Kept for the next commit; the sends about to start are not started.
            self._done[:0], self._blocked[:0], self._dropped[:0] = done, blocked, dropped
            raise

    def _forget_idle_chats(self) -> None:
        now = self._clock()
        for chat_id in [chat for chat, ready in self._chat_ready_at.items() if ready <= now]:
            del self._chat_ready_at[chat_id]


async def _result_or_nothing(claiming: asyncio.Task[list[Delivery]]) -> list[Delivery]:
    """The rows a claim took, or none if it failed or was cancelled (its transaction rolled back)."""
    try:
        return await claiming
    except (Exception, asyncio.CancelledError):
        return []


async def _succeeded(task: asyncio.Task[None]) -> bool:
    try:
        await task
    except (Exception, asyncio.CancelledError):
        return False
    return True
