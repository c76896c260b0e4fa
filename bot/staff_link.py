"""A console account's holder links their own chat to it: `/start staff-<code>` (the account page's
deep link) or `/link <code>`. Handled before anything of the beneficiary's journey: it makes no
beneficiary, no case and no source channel, and leaves a beneficiary's dialog where it was."""

from __future__ import annotations

import re

from aiogram import html
from aiogram.types import Update, User
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import telegram_locale
from bot.outgoing import Outgoing
from programme.text import N_
from storage import staff_link
from storage.crypto import Crypto
from storage.models import utcnow
from storage.queries import find_beneficiary, record_audit
from wording.languages import LANGUAGES

_START = re.compile(r"/start(?:@\w+)?\s+" + re.escape(staff_link.DEEP_LINK_PREFIX) + "(.*)", re.DOTALL)
_LINK = re.compile(r"/link(?:@\w+)?(?:\s+(.*))?", re.DOTALL)

LINKED = N_(
    "This chat is now linked to the console account {account}. Test messages from the console will "
    "arrive here."
)
NOT_VALID = N_(
    "This code does not work: it may be mistyped, used already or older than 15 minutes. Make a new "
    "one on your account page in the console."
)
TOO_MANY = N_("Too many wrong codes were sent from this chat. Please try again in an hour.")
HOW_TO = N_(
    "To link this chat to your console account, send /link and the code shown on your account page "
    "in the console."
)


def requested_code(update: Update) -> str | None:
    """What came after `/start staff-` or `/link` ("" when nothing did); None: not a link request."""
    message = update.message
    text = (message.text or "").strip() if message is not None else ""
    found = _START.fullmatch(text) or _LINK.fullmatch(text)
    return None if found is None else (found.group(1) or "").strip()


async def answer(
    session: AsyncSession,
    crypto: Crypto,
    i18n: I18n,
    outgoing: Outgoing,
    *,
    update: Update,
    user: User,
    chat_id: int,
    raw_code: str,
) -> None:
    """Link the chat, or say why not, in the chat's language. No code or chat id is logged."""
    beneficiary = await find_beneficiary(session, crypto, telegram_id=user.id)
    language = beneficiary.language if beneficiary is not None else None
    locale = language if language in LANGUAGES else telegram_locale(user)

    def say(text: str) -> None:
        outgoing.send(chat_id, text)

    if not raw_code and update.message is not None and _LINK.fullmatch((update.message.text or "").strip()):
        say(i18n.gettext(HOW_TO, locale=locale))
        return
    now = utcnow()
    if await staff_link.recent_failures(session, crypto, chat_id=chat_id, now=now) >= staff_link.MAX_FAILURES:
        say(i18n.gettext(TOO_MANY, locale=locale))
        return
    code = staff_link.normalise_code(raw_code)
    account = await staff_link.redeem(session, crypto, code=code, chat_id=chat_id, now=now) if code else None
    if account is None:
        await staff_link.record_failure(session, crypto, chat_id=chat_id, now=now)
        say(i18n.gettext(NOT_VALID, locale=locale))
        return
    await record_audit(
        session,
        actor=f"staff:{account.id}",
        action="staff.telegram_linked",
        object_type="staff_user",
        object_id=str(account.id),
        details={},
    )
    name = html.quote(account.display_name or account.username)
    say(i18n.gettext(LINKED, locale=locale).format(account=name))
