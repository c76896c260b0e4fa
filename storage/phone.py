"""A beneficiary's phone number as a keyed lookup hash, so the console finds a case by phone while the
number itself stays sealed under the person's key.

`beneficiaries.phone_hash` is the blind index of the normalised number in `phone_enc`. It is written
with the number (set_phone: the bot's interview and a caseworker's correction of it) and recomputed
by `intake rotate-keys` from `__blind_indexes__`. Finding a case computes the hash of what was typed
under every configured key and looks it up in the index: no row is decrypted.

Normalisation: the number as the interview stores it (E.164, a local number read as the office
country's), then its digits only, so "+994 50 123 45 67", "050-123-45-67" and "994501234567" are one
number. A text that is not a phone number at all keeps just its digits (of any script).
"""

from __future__ import annotations

import logging
import unicodedata
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from programme.forms import InvalidAnswer, normalise_phone
from storage.crypto import Crypto, DecryptionError
from storage.models import Beneficiary
from storage.sealing import seal, unseal

log = logging.getLogger(__name__)

PURPOSE = "phone"
# Set by the migration that added the column on people who had a phone then (it has no keys): the
# worker fills these in when it starts (fill_pending). Never a hash: hashes are 64 hex digits.
PENDING = "pending"
# Fewer digits than this is no phone number anyone could be found by (and would match many).
MIN_DIGITS = 6
MAX_TYPED = 40


def _digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(char)) for char in text if char.isdecimal())


def index_value(text: str) -> str:
    """What the index is computed from: the digits of the E.164 number, or of the text as it is.
    Empty when it has fewer than MIN_DIGITS digits."""
    text = text[:MAX_TYPED]
    try:
        digits = _digits(normalise_phone(_digits_of_any_script(text)))
    except InvalidAnswer:
        digits = _digits(text)
    return digits if len(digits) >= MIN_DIGITS else ""


def _digits_of_any_script(text: str) -> str:
    # phonenumbers reads ASCII and a few scripts' digits; Persian and Arabic-Indic ones become ASCII.
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in text)


def phone_hash(crypto: Crypto, phone: str | None) -> str | None:
    """The index of a number under the newest key; None without a usable number."""
    value = index_value(phone) if isinstance(phone, str) else ""
    return crypto.blind_index(PURPOSE, value) if value else None


def lookup_hashes(crypto: Crypto, typed: str) -> list[str]:
    """What a typed number's people may have stored, under every configured key (so they are found
    while a key rotation is under way); empty for something that is not a number."""
    value = index_value(typed)
    return sorted(set(crypto.blind_indexes(PURPOSE, value))) if value else []


def set_phone(crypto: Crypto, beneficiary: Beneficiary, phone: str | None) -> None:
    """Seal the person's number and index it in the same write (their key must be held)."""
    seal(crypto, beneficiary, "phone_enc", phone)
    beneficiary.phone_hash = phone_hash(crypto, phone)


@dataclass
class FillReport:
    seen: int = 0
    rewritten: int = 0
    unreadable: int = 0  # left pending: their number does not decrypt with the configured keys


async def fill_pending(
    sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto, *, batch_size: int = 500
) -> FillReport:
    """The one-off fill after the upgrade that added the index (cheap when nothing is pending), batch
    by batch; a row the bot or a caseworker changed meanwhile keeps what was written with it."""
    report = FillReport()
    last_id: uuid.UUID | None = None
    while True:
        async with sessionmaker() as session, session.begin():
            statement = (
                select(Beneficiary)
                .where(Beneficiary.phone_hash == PENDING)
                .order_by(Beneficiary.id)
                .limit(batch_size)
            )
            if last_id is not None:
                statement = statement.where(Beneficiary.id > last_id)
            rows = (await session.execute(statement)).scalars().all()
            for person in rows:
                try:
                    number = unseal(crypto, person, "phone_enc")
                except DecryptionError:
                    report.unreadable += 1
                    continue
                changed = await session.execute(
                    update(Beneficiary)
                    .where(Beneficiary.id == person.id, Beneficiary.phone_hash == PENDING)
                    .values(phone_hash=phone_hash(crypto, number))
                    .execution_options(synchronize_session=False)
                )
                report.rewritten += changed.rowcount  # type: ignore[attr-defined]
            report.seen += len(rows)
        if len(rows) < batch_size:
            break
        last_id = rows[-1].id
    if report.seen:
        log.info("phone index filled for %d people who gave a number before it existed", report.rewritten)
    if report.unreadable:
        log.warning("phone index: %d numbers do not decrypt with the configured keys", report.unreadable)
    return report
