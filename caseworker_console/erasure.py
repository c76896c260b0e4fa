"""A supervisor's decision on an erasure request: carry it out, or refuse it with a reason; the
person is told either way, in their language, through the outbox.

Carried out, the message that says so must outlive every row about the person, the outbox rows
addressed to them included. So it is queued addressed to their chat alone (the chat id sealed on the
row, no link to the beneficiary: storage.erasure leaves it), in the same transaction as the erasure:
both happen or neither does, and the worker's sender delivers it with its usual retries, then clears
the chat id from the row. Sending from the console instead would need the bot's token here and
would lose the message to a network error after the data is gone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import erasure
from storage.crypto import Crypto
from storage.models import Beneficiary, Case, OutboxMessage, utcnow
from storage.models_erasure import REQUEST
from storage.outbox import Lane, Status, enqueue, enqueue_call
from storage.queries import record_audit
from wording import erasure as messages
from wording.languages import locale_of

# Telegram lets a bot delete its own messages for 48 hours after they were sent.
DELETABLE_FOR = dt.timedelta(hours=48)
# deleteMessages takes at most this many ids in one call.
DELETE_BATCH = 100


def _locale(beneficiary: Beneficiary, case_language: str | None) -> str:
    return locale_of(beneficiary.language, case_language)


async def _case_language(session: AsyncSession, found: erasure.ErasureRequest) -> str | None:
    if found.request.case_id is None:
        return None
    statement = select(Case.language).where(Case.id == found.request.case_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def _recent_messages(session: AsyncSession, *, beneficiary: Beneficiary, now: dt.datetime) -> list[int]:
    """Ids of the bot's messages to them still young enough to delete (only those sent from the
    outbox are known: the bot's direct replies in a dialog are not recorded)."""
    statement = select(OutboxMessage.telegram_message_id).where(
        OutboxMessage.beneficiary_id == beneficiary.id,
        OutboxMessage.status == Status.SENT,
        OutboxMessage.telegram_message_id.is_not(None),
        OutboxMessage.sent_at > now - DELETABLE_FOR,
    )
    return sorted(int(found) for found in (await session.execute(statement)).scalars())


async def carry_out(
    session: AsyncSession, crypto: Crypto, *, found: erasure.ErasureRequest, actor: str
) -> list[str]:
    """Delete the bot's recent messages in their chat, tell them, and erase them; returns the codes."""
    request = found.request
    beneficiary = await session.get(Beneficiary, request.beneficiary_id)
    if beneficiary is None:
        return []
    now = utcnow()
    overdue = request.due_at is not None and request.due_at < now
    chat = erasure.telegram_id_of(crypto, beneficiary)
    if chat:
        recent = await _recent_messages(session, beneficiary=beneficiary, now=now)
        for start in range(0, len(recent), DELETE_BATCH):
            batch = {"message_ids": recent[start : start + DELETE_BATCH]}
            enqueue_call(session, crypto, chat_id=chat, method="deleteMessages", payload=batch)
        locale = _locale(beneficiary, await _case_language(session, found))
        await enqueue(session, crypto, chat_id=chat, text=messages.erased(locale=locale), lane=Lane.REPLY)
    codes = await erasure.erase_person(
        session, crypto, beneficiary_id=beneficiary.id, reason=REQUEST, actor=actor
    )
    for code in codes:
        await record_audit(
            session,
            actor=actor,
            action="erasure.carried_out",
            object_type="case",
            object_id=code,
            details={"overdue": overdue},
        )
    return codes


async def refuse(
    session: AsyncSession,
    crypto: Crypto,
    *,
    found: erasure.ErasureRequest,
    reason: str,
    staff_id: int,
    actor: str,
) -> None:
    """Record the refusal and send the reason to the person, framed in their language."""
    request = found.request
    beneficiary = await session.get(Beneficiary, request.beneficiary_id)
    await erasure.refuse(
        session, crypto, request=request, code=found.code, reason=reason, staff_id=staff_id, actor=actor
    )
    if beneficiary is not None:
        locale = _locale(beneficiary, await _case_language(session, found))
        await enqueue(
            session,
            crypto,
            beneficiary_id=beneficiary.id,
            text=messages.refused(locale=locale, reason=reason),
            lane=Lane.REPLY,
        )
