"""Field-level encryption (AES-256-GCM) and keyed lookup hashes for personal data at rest.

Every ciphertext is bound by associated data to its table, column, row and key, so a value copied
into another row or column fails to decrypt. Lookup hashes use a key derived with HKDF, never the
encryption key itself: Telegram ids and phone numbers are small enough to brute-force if it leaked.

Two formats (the first byte says which):
- format 1, under a master key of `INTAKE_DATA_KEYS`: staff data, the webhook queue, and each
  person's own data key (wrapped, in `person_keys`);
- format 2, under the data key of the person the value is about (envelope encryption): the blob
  names its owner, whose key the process holds unwrapped in `PERSON_KEYS` once loaded
  (storage.person_keys). Erasing a person deletes their wrapped key, so any copy of their values
  left elsewhere (a backup, a dead tuple, a log segment) can no longer be opened; rotating the
  master keys rewraps the small per-person keys instead of re-encrypting every value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT_VERSION = b"\x01"
PERSON_FORMAT = b"\x02"
KEY_ID_BYTES = 4
OWNER_BYTES = 16
NONCE_BYTES = 12
KEY_BYTES = 32
_HEADER = len(FORMAT_VERSION) + KEY_ID_BYTES + NONCE_BYTES
_PERSON_HEADER = len(PERSON_FORMAT) + OWNER_BYTES + NONCE_BYTES
# Where a person's data key is kept, wrapped under the newest master key (storage.person_keys).
WRAPPED_TABLE, WRAPPED_COLUMN = "person_keys", "wrapped"


class KeyConfigError(ValueError):
    """The configured keys are unusable; the message is one sentence for an operator."""


class DecryptionError(Exception):
    """A value does not decrypt: wrong row, column, table, unknown key or tampered bytes."""


class MissingPersonKey(LookupError):
    """A value was to be sealed for a person whose data key this process has not loaded: a code path
    that writes a person's data must load their key first (storage.person_keys.load)."""


_SECRET_BYTES = 32
_STAMP = struct.Struct("d")
_STAMP_AT = _SECRET_BYTES + KEY_ID_BYTES


def _pack_held(secret: bytes, wrapped_by: bytes, stamp: float) -> bytes:
    if len(secret) != _SECRET_BYTES or len(wrapped_by) != KEY_ID_BYTES:
        raise ValueError("a person's key is 32 bytes, wrapped by a master key of a known id")
    return secret + wrapped_by + _STAMP.pack(stamp)


class PersonKeys:
    """The per-person data keys this process holds unwrapped, least recently used dropped first.

    One cache for the process, shared by every `Crypto`: the bot, the console and the sender of one
    process load a person's key once. Each key is held with the id of the master key that wraps it,
    and a `Crypto` uses it only when that master key is one of its own, as for any other value. An
    erased person's key is dropped at once in the process that erased them; every other process (a
    replica, a worker) drops it within `max_age`, after which a key is read again from `person_keys`
    (where an erased person's is gone). Held as its 32 bytes, its AES-GCM context made on each use
    (a few microseconds): contexts are 2.4 KiB each, 240 MB for a 100,000-person campaign."""

    def __init__(
        self,
        capacity: int = 250_000,
        *,
        max_age: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._capacity = capacity
        self._max_age = max_age
        self._clock = clock
        # By the owner's 16 bytes: the key, the wrapping master key's id and when it was loaded, in
        # one bytes object (about 150 bytes a person with the dict's own, a third of a tuple's).
        self._keys: OrderedDict[bytes, bytes] = OrderedDict()
        self._case_owners: OrderedDict[uuid.UUID, uuid.UUID] = OrderedDict()

    def get(self, owner: uuid.UUID) -> tuple[bytes, bytes] | None:
        """The person's key (its 32 bytes) and the id of the master key wrapping it."""
        held = self._held(owner.bytes)
        if held is None:
            return None
        self._keys.move_to_end(owner.bytes)
        return held[:_SECRET_BYTES], held[_SECRET_BYTES:_STAMP_AT]

    def __contains__(self, owner: object) -> bool:
        return isinstance(owner, uuid.UUID) and self._held(owner.bytes) is not None

    def _held(self, owner: bytes) -> bytes | None:
        held = self._keys.get(owner)
        if held is None:
            return None
        if self._clock() - _STAMP.unpack_from(held, _STAMP_AT)[0] > self._max_age:
            del self._keys[owner]
            return None
        return held

    def remember(self, owner: uuid.UUID, secret: bytes, *, wrapped_by: bytes) -> None:
        self._keys[owner.bytes] = _pack_held(secret, wrapped_by, self._clock())
        self._keys.move_to_end(owner.bytes)
        while len(self._keys) > self._capacity:
            self._keys.popitem(last=False)

    def rewrapped(self, owner: uuid.UUID, *, wrapped_by: bytes) -> None:
        """The person's key is now wrapped by another master key (a rotation)."""
        held = self._keys.get(owner.bytes)
        if held is not None:
            stamp = _STAMP.unpack_from(held, _STAMP_AT)[0]
            self._keys[owner.bytes] = _pack_held(held[:_SECRET_BYTES], wrapped_by, stamp)

    def forget(self, owner: uuid.UUID) -> None:
        self._keys.pop(owner.bytes, None)

    def note_case(self, case_id: uuid.UUID, owner: uuid.UUID) -> None:
        """Whose a case is (it never changes), so its rows can be sealed under its person's key."""
        self._case_owners[case_id] = owner
        self._case_owners.move_to_end(case_id)
        while len(self._case_owners) > self._capacity:
            self._case_owners.popitem(last=False)

    def owner_of_case(self, case_id: uuid.UUID) -> uuid.UUID | None:
        return self._case_owners.get(case_id)


PERSON_KEYS = PersonKeys()
# Every master key a `Crypto` of this process was configured with, by key id: what unwraps a person's
# key wherever their values are read (storage.person_keys), whichever front's `Crypto` reads them.
_MASTERS: dict[bytes, AESGCM] = {}


@dataclass(frozen=True, slots=True)
class DataKey:
    key_id: bytes
    aead: AESGCM
    index_key: bytes


def _derive_index_key(secret: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"intake-bridge blind index v1").derive(
        secret
    )


def _key_id(secret: bytes) -> bytes:
    # Derived from the key so that it is stable across restarts and the same on every replica.
    return hashlib.sha256(b"intake-bridge key id v1" + secret).digest()[:KEY_ID_BYTES]


def parse_keys(value: str) -> list[bytes]:
    """Parse INTAKE_DATA_KEYS: comma-separated base64 keys of 32 bytes, newest first."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts:
        raise KeyConfigError("INTAKE_DATA_KEYS is empty: give at least one base64-encoded 32-byte key.")
    keys = []
    for position, part in enumerate(parts, start=1):
        try:
            raw = base64.b64decode(part, validate=True)
        except (binascii.Error, ValueError):
            raise KeyConfigError(f"INTAKE_DATA_KEYS key {position} is not valid base64.") from None
        if len(raw) != KEY_BYTES:
            raise KeyConfigError(
                f"INTAKE_DATA_KEYS key {position} decodes to {len(raw)} bytes; each key must be 32 bytes."
            )
        keys.append(raw)
    return keys


def owner_of(blob: bytes) -> uuid.UUID | None:
    """The person a format-2 value is sealed for; None for a value under a master key."""
    if blob[:1] == PERSON_FORMAT and len(blob) > _PERSON_HEADER:
        return uuid.UUID(bytes=blob[1 : 1 + OWNER_BYTES])
    return None


def hold_person_key(owner: uuid.UUID, wrapped: bytes) -> bool:
    """Unwrap a person's data key with whichever configured master key wrapped it and hold it;
    False (and nothing held) when no configured key opens it."""
    key_id = wrapped[1 : 1 + KEY_ID_BYTES]
    aead = _MASTERS.get(key_id)
    if wrapped[:1] != FORMAT_VERSION or len(wrapped) <= _HEADER or aead is None:
        return False
    associated = Crypto._associated_data(WRAPPED_TABLE, WRAPPED_COLUMN, owner, key_id)
    try:
        secret = aead.decrypt(wrapped[1 + KEY_ID_BYTES : _HEADER], wrapped[_HEADER:], associated)
    except InvalidTag:
        return False
    PERSON_KEYS.remember(owner, secret, wrapped_by=key_id)
    return True


def generate_key() -> str:
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


class Crypto:
    """Encrypts and decrypts field values and computes lookup hashes with a ring of keys."""

    def __init__(self, secrets: Sequence[bytes]) -> None:
        if not secrets:
            raise KeyConfigError("No data-encryption key is configured.")
        self._keys = [
            DataKey(key_id=_key_id(secret), aead=AESGCM(secret), index_key=_derive_index_key(secret))
            for secret in secrets
        ]
        self._by_id = {key.key_id: key for key in self._keys}
        _MASTERS.update((key.key_id, key.aead) for key in self._keys)

    @property
    def current_key_id(self) -> bytes:
        return self._keys[0].key_id

    @staticmethod
    def _associated_data(table: str, column: str, row: object, key_id: bytes) -> bytes:
        return b"\x1f".join((table.encode(), column.encode(), str(row).encode(), key_id))

    def encrypt(
        self, plaintext: str | bytes, *, table: str, column: str, row: object, owner: uuid.UUID | None = None
    ) -> bytes:
        """Sealed under the data key of `owner` (the person the value is about) when given, else
        under the newest master key."""
        data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
        nonce = os.urandom(NONCE_BYTES)
        if owner is not None:
            aead = self._person_key(owner)
            if aead is None:
                raise MissingPersonKey(f"{table}.{column}: the data key of its person is not loaded")
            sealed = aead.encrypt(nonce, data, self._associated_data(table, column, row, owner.bytes))
            return PERSON_FORMAT + owner.bytes + nonce + sealed
        key = self._keys[0]
        sealed = key.aead.encrypt(nonce, data, self._associated_data(table, column, row, key.key_id))
        return FORMAT_VERSION + key.key_id + nonce + sealed

    def decrypt_bytes(self, blob: bytes, *, table: str, column: str, row: object) -> bytes:
        if blob[:1] == PERSON_FORMAT and len(blob) > _PERSON_HEADER:
            return self._decrypt_person(blob, table=table, column=column, row=row)
        if len(blob) <= _HEADER or blob[:1] != FORMAT_VERSION:
            raise DecryptionError(f"{table}.{column}: not a ciphertext of a known format")
        key_id = blob[1 : 1 + KEY_ID_BYTES]
        key = self._by_id.get(key_id)
        if key is None:
            raise DecryptionError(f"{table}.{column}: encrypted under a key that is not configured")
        nonce = blob[1 + KEY_ID_BYTES : _HEADER]
        try:
            return key.aead.decrypt(nonce, blob[_HEADER:], self._associated_data(table, column, row, key_id))
        except InvalidTag:
            raise DecryptionError(f"{table}.{column}: authentication failed") from None

    def _person_key(self, owner: uuid.UUID) -> AESGCM | None:
        """The person's data key, if held and wrapped by one of this ring's master keys."""
        held = PERSON_KEYS.get(owner)
        # The AES-GCM context is made only for a key this ring may use (a stranger's ring reads nothing).
        return AESGCM(held[0]) if held is not None and held[1] in self._by_id else None

    def _decrypt_person(self, blob: bytes, *, table: str, column: str, row: object) -> bytes:
        owner = blob[1 : 1 + OWNER_BYTES]
        aead = self._person_key(uuid.UUID(bytes=owner))
        if aead is None:
            raise DecryptionError(f"{table}.{column}: the data key of its person is erased or not loaded")
        nonce = blob[1 + OWNER_BYTES : _PERSON_HEADER]
        try:
            return aead.decrypt(
                nonce, blob[_PERSON_HEADER:], self._associated_data(table, column, row, owner)
            )
        except InvalidTag:
            raise DecryptionError(f"{table}.{column}: authentication failed") from None

    def decrypt(self, blob: bytes, *, table: str, column: str, row: object) -> str:
        return self.decrypt_bytes(blob, table=table, column=column, row=row).decode("utf-8")

    def key_id_of(self, blob: bytes) -> bytes:
        return blob[1 : 1 + KEY_ID_BYTES]

    def is_current(self, blob: bytes) -> bool:
        """Nothing to re-encrypt on rotation: under the newest master key, or under a person's key
        (which the rotation rewraps instead)."""
        return blob[:1] == PERSON_FORMAT or self.key_id_of(blob) == self.current_key_id

    def new_person_key(self, owner: uuid.UUID) -> bytes:
        """A new random data key for a person, held at once; returned wrapped under the newest
        master key and bound to its row, as `person_keys` stores it."""
        secret = os.urandom(KEY_BYTES)
        PERSON_KEYS.remember(owner, secret, wrapped_by=self.current_key_id)
        return self.encrypt(secret, table=WRAPPED_TABLE, column=WRAPPED_COLUMN, row=owner)

    def blind_index(self, purpose: str, value: str) -> str:
        """The lookup hash under the newest key (what is stored)."""
        return self._hash(self._keys[0], purpose, value)

    def blind_indexes(self, purpose: str, value: str) -> list[str]:
        """Lookup hashes under every configured key, so lookups still work during a key rotation."""
        return [self._hash(key, purpose, value) for key in self._keys]

    @staticmethod
    def _hash(key: DataKey, purpose: str, value: str) -> str:
        message = f"{purpose}\x1f{value}".encode()
        return hmac.new(key.index_key, message, hashlib.sha256).hexdigest()

    def key_ids(self) -> Iterable[bytes]:
        return (key.key_id for key in self._keys)
