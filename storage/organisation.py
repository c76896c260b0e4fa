"""Queries of the organisation's settings and its ready replies: reading them as the bot and the
console use them, saving them from the console.

The bot reads the settings row at each use (one read by primary key, no cache): a change an
administrator saves is in the next consent text, privacy notice or "office closed" answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from programme import organisation as rules
from programme.organisation import Organisation
from storage.models import utcnow
from storage.models_organisation import OrganisationSettings, ReadyReply

SETTINGS_ID = 1
ID_DIGITS = 9


async def stored_organisation(session: AsyncSession) -> Organisation | None:
    """What an administrator saved, or None before they first did."""
    row = await session.get(OrganisationSettings, SETTINGS_ID)
    if row is None:
        return None
    return rules.stored(
        controller=row.controller,
        contact=row.contact,
        controllers=row.controllers or {},
        contacts=row.contacts or {},
        hours=row.hours or {},
    )


async def current_organisation(session: AsyncSession, *, defaults: Organisation) -> Organisation:
    """The organisation as people are told about it now: what was saved, else `defaults` (the
    environment's values on a first start)."""
    return await stored_organisation(session) or defaults


async def organisation_is_set_up(session: AsyncSession) -> bool:
    """Whether an administrator has saved the organisation page (its name is then given: the form
    requires it). Until then the consent text names what the environment gave, or "our organisation"."""
    row = await session.get(OrganisationSettings, SETTINGS_ID)
    return row is not None and bool(row.controller)


async def save_organisation(
    session: AsyncSession, organisation: Organisation, *, staff_id: int | None
) -> None:
    row = await session.get(OrganisationSettings, SETTINGS_ID)
    if row is None:
        row = OrganisationSettings(id=SETTINGS_ID)
        session.add(row)
    row.controller = organisation.controller
    row.contact = organisation.contact
    row.controllers = dict(organisation.controllers)
    row.contacts = dict(organisation.contacts)
    row.hours = organisation.stored_hours()
    row.changed_by = staff_id
    row.changed_at = utcnow()
    await session.flush()


# ── ready replies ───────────────────────────────────────────────────────────────────────────────


async def ready_replies(session: AsyncSession, *, active_only: bool) -> Sequence[ReadyReply]:
    """The ready replies in the order they were added (active ones only, for sending)."""
    statement = select(ReadyReply).order_by(ReadyReply.id)
    if active_only:
        statement = statement.where(ReadyReply.active.is_(True))
    return (await session.execute(statement)).scalars().all()


async def find_ready_reply(session: AsyncSession, *, reply_id: object) -> ReadyReply | None:
    """A reply by the id a form or link carries; None for anything that is not one."""
    raw = str(reply_id or "")
    if not raw.isdigit() or len(raw) > ID_DIGITS:
        return None
    return await session.get(ReadyReply, int(raw))


async def save_ready_reply(
    session: AsyncSession,
    reply: ReadyReply | None,
    *,
    labels: Mapping[str, str],
    texts: Mapping[str, str],
    active: bool,
    staff_id: int | None,
) -> ReadyReply:
    """A new reply (`reply` None) or the given one changed."""
    if reply is None:
        reply = ReadyReply()
        session.add(reply)
    reply.labels = dict(labels)
    reply.texts = dict(texts)
    reply.active = active
    reply.changed_by = staff_id
    reply.changed_at = utcnow()
    await session.flush()
    return reply
