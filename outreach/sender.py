"""The outbox sender: a global rate, one message per second per chat, Telegram's errors obeyed."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from outreach.outbox import Status, claim, settle
from storage.crypto import Crypto
from storage.models import Beneficiary, OutboxMessage, utcnow
from storage.queries import mark_unreachable
from storage.sealing import unseal, unseal_json

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.0
MAX_BACKOFF = 300.0


class RateLimiter:
    """Spaces calls evenly, `rate` per second at most, and can be paused (429 retry_after)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = 1.0 / rate
        self._clock = clock
        self._next = 0.0

    async def wait(self) -> None:
        now = self._clock()
        if self._next > now:
            await asyncio.sleep(self._next - now)
        self._next = max(self._clock(), self._next) + self._interval

    def pause(self, seconds: float) -> None:
        self._next = max(self._next, self._clock() + seconds)


class Outcome(enum.Enum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    BLOCKED = "blocked"
    UNCERTAIN = "uncertain"
    THROTTLED = "throttled"


@dataclass(slots=True)
class Delivery:
    message_id: Any
    beneficiary_id: Any
    chat_id: int
    method: str
    payload: dict[str, Any]
    attempts: int


class Sender:
    def __init__(
        self,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        crypto: Crypto,
        *,
        rate: float,
        lease: dt.timedelta = dt.timedelta(seconds=60),
        batch_size: int = 100,
        idle_interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot = bot
        self._sessionmaker = sessionmaker
        self._crypto = crypto
        self._limiter = RateLimiter(rate, clock)
        self._clock = clock
        self._lease = lease
        self._batch_size = batch_size
        self._idle_interval = idle_interval
        self._chat_ready_at: dict[int, float] = {}

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            handled = await self.run_once()
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._idle_interval)

    async def run_once(self) -> int:
        deliveries = await self._claim()
        # One retry time per busy chat in a batch: equal times keep that chat's messages in order.
        deferred: dict[int, dt.datetime] = {}
        for delivery in deliveries:
            await self._handle(delivery, deferred)
        self._forget_idle_chats()
        return len(deliveries)

    async def _claim(self) -> list[Delivery]:
        async with self._sessionmaker() as session, session.begin():
            rows = await claim(session, now=utcnow(), lease=self._lease, limit=self._batch_size)
            if not rows:
                return []
            ids = {row.beneficiary_id for row in rows}
            beneficiaries = {
                b.id: b
                for b in (await session.execute(select(Beneficiary).where(Beneficiary.id.in_(ids)))).scalars()
            }
            return [self._delivery(row, beneficiaries[row.beneficiary_id]) for row in rows]

    def _delivery(self, row: OutboxMessage, beneficiary: Beneficiary) -> Delivery:
        chat_id = int(unseal(self._crypto, beneficiary, "telegram_id_enc") or 0)
        if beneficiary.unreachable_at is not None:
            chat_id = 0  # blocked earlier: settled as failed without calling Telegram
        return Delivery(
            message_id=row.id,
            beneficiary_id=row.beneficiary_id,
            chat_id=chat_id,
            method=row.method,
            payload=unseal_json(self._crypto, row, "payload_enc"),
            attempts=row.attempts,
        )

    async def _handle(self, delivery: Delivery, deferred: dict[int, dt.datetime]) -> None:
        if delivery.chat_id == 0:
            await self._settle(delivery, Status.FAILED, error="unreachable")
            return
        ready_at = self._chat_ready_at.get(delivery.chat_id, 0.0)
        if ready_at > self._clock():
            # Too soon for this chat: put it back for later without spending an attempt's backoff.
            retry_at = deferred.setdefault(
                delivery.chat_id, utcnow() + dt.timedelta(seconds=ready_at - self._clock())
            )
            async with self._sessionmaker() as session, session.begin():
                await settle(
                    session, message_id=delivery.message_id, status=Status.PENDING, retry_at=retry_at
                )
            return
        await self._limiter.wait()
        self._chat_ready_at[delivery.chat_id] = self._clock() + PER_CHAT_INTERVAL
        await self._send(delivery)

    async def _send(self, delivery: Delivery) -> None:
        try:
            message = await self._bot.send_message(delivery.chat_id, **delivery.payload)
        except TelegramRetryAfter as error:
            log.warning("Telegram asked to slow down: pausing all sends for %s s", error.retry_after)
            self._limiter.pause(error.retry_after)
            retry_at = utcnow() + dt.timedelta(seconds=error.retry_after)
            await self._settle(delivery, Status.PENDING, error="429", retry_at=retry_at)
        except TelegramForbiddenError:
            await self._settle(delivery, Status.FAILED, error="blocked", blocked=True)
        except TelegramBadRequest as error:
            await self._settle(delivery, Status.FAILED, error=error.message[:200])
        except TelegramServerError:
            await self._settle(
                delivery, Status.PENDING, error="server error", retry_at=self._backoff(delivery)
            )
        except TelegramNetworkError as error:
            if _sent_before_failure(error):
                # The request may have reached Telegram: resending could duplicate it.
                await self._settle(delivery, Status.UNCERTAIN, error="no answer after sending")
            else:
                await self._settle(
                    delivery, Status.PENDING, error="connection", retry_at=self._backoff(delivery)
                )
        else:
            await self._settle(delivery, Status.SENT, telegram_message_id=message.message_id)

    def _backoff(self, delivery: Delivery) -> dt.datetime:
        return utcnow() + dt.timedelta(seconds=min(MAX_BACKOFF, 2.0 ** (delivery.attempts + 1)))

    async def _settle(
        self,
        delivery: Delivery,
        status: Status,
        *,
        error: str | None = None,
        telegram_message_id: int | None = None,
        retry_at: dt.datetime | None = None,
        blocked: bool = False,
    ) -> None:
        async with self._sessionmaker() as session, session.begin():
            await settle(
                session,
                message_id=delivery.message_id,
                status=status,
                error=error,
                telegram_message_id=telegram_message_id,
                retry_at=retry_at,
            )
            if blocked:
                await mark_unreachable(session, beneficiary_id=delivery.beneficiary_id, at=utcnow())
        if status is not Status.SENT:
            log.info("outbox message %s: %s (%s)", delivery.message_id, status, error)

    def _forget_idle_chats(self) -> None:
        now = self._clock()
        for chat_id in [chat for chat, ready in self._chat_ready_at.items() if ready <= now]:
            del self._chat_ready_at[chat_id]


def _sent_before_failure(error: TelegramNetworkError) -> bool:
    # aiogram wraps both "could not connect" and "no answer in time"; only the first is safe to resend.
    cause = error.__cause__
    connect_errors = ("ClientConnectorError", "ClientConnectionResetError", "ConnectionRefusedError")
    return not (cause is not None and type(cause).__name__ in connect_errors)
