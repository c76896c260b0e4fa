"""The city of a beneficiary as a keyed lookup hash, so campaigns can select on it while the answer
itself stays sealed with the interview's other answers.

`beneficiaries.city_hash` holds the blind index of the normalised city of the person's newest
interview response. It is written in the same transaction as that response (bot and console), so it
is always under the key the newest answers were sealed with; `intake rotate-keys` recomputes it. A
database reader sees which people share a city, never which city it is.

Normalisation makes the same name typed differently match ("Bakı", "BAKI ", "baki", "Baku-city" and
"baku city"; "كابل" from an Arabic keyboard and "کابل" from a Persian one); it does not
transliterate, so different spellings or alphabets ("Baku" and "Баку", "Bakou") stay different
cities. Changing it changes the index: a migration then marks every indexed person pending again.
"""

from __future__ import annotations

import logging
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from programme.forms import INTERVIEW
from storage.crypto import Crypto, DecryptionError
from storage.models import Beneficiary, Case, FormResponse
from storage.sealing import unseal_json

log = logging.getLogger(__name__)

PURPOSE = "city"
QUESTION = "city"
# Set by the migration that added the column on people who had an interview then (it has no keys):
# the worker fills these in when it starts (fill_pending). Never a hash: hashes are 64 hex digits.
PENDING = "pending"
# Letters that are not a base letter plus a mark, but are typed as one on keyboards without them;
# the Arabic kaf and yeh that Arabic keyboards type where Persian, Dari, Pashto and Urdu ones type
# their own (one letter in those languages, two code points in Unicode); the tatweel, a stretch of
# the line between joined letters; and digits of every script as ASCII digits.
_FOLD = str.maketrans(
    {
        "ı": "i",
        "ك": "ک",  # ARABIC LETTER KAF → KEHEH
        "ي": "ی",  # ARABIC LETTER YEH → FARSI YEH
        "ى": "ی",  # ARABIC LETTER ALEF MAKSURA → FARSI YEH
        "ـ": None,  # ARABIC TATWEEL
    }
)


def normalise_city(text: str) -> str:
    """Unicode NFKC, case-folded, without diacritics (combining marks) and invisible format
    characters (zero widths, bidi controls; the non-joiner too, which people type or leave out), every run of
    anything else that is not a letter, digit or spacing mark (spaces, punctuation, symbols) one
    space, trimmed. Empty when nothing of a name is left."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    stripped = "".join(
        char
        for char in unicodedata.normalize("NFD", folded)
        if unicodedata.category(char) not in ("Mn", "Cf")
    ).translate(_FOLD)
    stripped = "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in stripped)
    words: list[str] = []
    word: list[str] = []
    for char in stripped:
        if unicodedata.category(char)[0] in "LN" or unicodedata.category(char) == "Mc":
            word.append(char)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    return unicodedata.normalize("NFC", " ".join(words))


def city_hash(crypto: Crypto, answer: object) -> str | None:
    """The index of an interview's city answer under the newest key; None without a usable answer."""
    if not isinstance(answer, str):
        return None
    normalised = normalise_city(answer)
    return crypto.blind_index(PURPOSE, normalised) if normalised else None


def lookup_hashes(crypto: Crypto, cities: Iterable[str]) -> list[str]:
    """What the given cities' people may have stored, under every configured key (so a segment still
    matches everyone while a key rotation is under way)."""
    names = {normalise_city(city) for city in cities} - {""}
    return sorted({value for name in names for value in crypto.blind_indexes(PURPOSE, name)})


async def index_interview(
    session: AsyncSession, crypto: Crypto, *, beneficiary_id: uuid.UUID, answers: Mapping[str, Any]
) -> None:
    """After an interview response was saved: its city becomes the person's; none clears it."""
    beneficiary = await session.get(Beneficiary, beneficiary_id)
    if beneficiary is not None:
        beneficiary.city_hash = city_hash(crypto, answers.get(QUESTION))


async def _newest_answers(
    session: AsyncSession, crypto: Crypto, beneficiary_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any] | None]:
    """Each person's newest interview answers over all their cases, decrypted; None for answers
    sealed under a key that is not configured (or damaged)."""
    rows = await session.execute(
        select(Case.beneficiary_id, FormResponse)
        .join(Case, Case.id == FormResponse.case_id)
        .where(Case.beneficiary_id.in_(beneficiary_ids), FormResponse.form_id == INTERVIEW.id)
        .order_by(FormResponse.created_at, FormResponse.id)
    )
    newest: dict[uuid.UUID, FormResponse] = {}
    for beneficiary_id, response in rows.all():
        newest[beneficiary_id] = response
    answers: dict[uuid.UUID, dict[str, Any] | None] = {}
    for beneficiary_id, response in newest.items():
        try:
            answers[beneficiary_id] = unseal_json(crypto, response, "answers_enc") or {}
        except DecryptionError:
            answers[beneficiary_id] = None
    return answers


@dataclass
class ReindexReport:
    seen: int = 0
    rewritten: int = 0
    unreadable: int = 0  # left as they were: their answers do not decrypt with the configured keys


_PEOPLE = Beneficiary.__table__
_SET_CITY = (
    update(_PEOPLE)
    .where(_PEOPLE.c.id == bindparam("row_id"), _PEOPLE.c.city_hash == bindparam("stored"))
    .values(city_hash=bindparam("fresh"))
)


async def reindex(
    sessionmaker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    *,
    only_pending: bool = False,
    batch_size: int = 500,
) -> ReindexReport:
    """Recompute the city index of everyone who has one (or, `only_pending`, of those the migration
    marked) from their newest interview, under the newest key, batch by batch.

    A batch's people are locked as they are read and written in one statement; each row is changed
    only if it still holds what was read, so a person whose interview the bot or a caseworker saved
    meanwhile keeps the index written with it. Safe to interrupt and re-run.
    """
    report = ReindexReport()
    condition = Beneficiary.city_hash == PENDING if only_pending else Beneficiary.city_hash.is_not(None)
    last_id: uuid.UUID | None = None
    while True:
        async with sessionmaker() as session, session.begin():
            statement = (
                select(Beneficiary.id, Beneficiary.city_hash)
                .where(condition)
                .order_by(Beneficiary.id)
                .limit(batch_size)
            )
            if last_id is not None:
                statement = statement.where(Beneficiary.id > last_id)
            # Locked as read (FOR UPDATE on PostgreSQL; SQLite's transaction holds its one write
            # lock), so every change below finds what was read: their count is what was rewritten.
            rows = (await session.execute(statement.with_for_update())).all()
            if not rows:
                break
            answers = await _newest_answers(session, crypto, [row.id for row in rows])
            changes = []
            for beneficiary_id, stored in rows:
                if beneficiary_id in answers and answers[beneficiary_id] is None:
                    report.unreadable += 1
                    continue
                fresh = city_hash(crypto, (answers.get(beneficiary_id) or {}).get(QUESTION))
                if fresh != stored:
                    changes.append({"row_id": beneficiary_id, "stored": stored, "fresh": fresh})
            if changes:
                # One statement for the batch (executemany), each row still only if unchanged.
                await session.execute(_SET_CITY, changes)
                report.rewritten += len(changes)
            report.seen += len(rows)
        if len(rows) < batch_size:
            break
        last_id = rows[-1].id
    return report


async def fill_pending(sessionmaker: async_sessionmaker[AsyncSession], crypto: Crypto) -> None:
    """The one-off fill after the upgrade that added the index: cheap when nothing is pending."""
    report = await reindex(sessionmaker, crypto, only_pending=True)
    if report.seen:
        log.info("city index filled for %d people who answered the interview before it existed", report.seen)
    if report.unreadable:
        log.warning("city index: %d interviews do not decrypt with the configured keys", report.unreadable)
