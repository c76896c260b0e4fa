"""Field-level encryption (AES-256-GCM) and keyed lookup hashes for personal data at rest.

Every ciphertext is bound by associated data to its table, column, row and key id, so a value copied
into another row or column fails to decrypt. Lookup hashes use a key derived with HKDF, never the
encryption key itself: Telegram ids and phone numbers are small enough to brute-force if it leaked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT_VERSION = b"\x01"
KEY_ID_BYTES = 4
NONCE_BYTES = 12
KEY_BYTES = 32
_HEADER = len(FORMAT_VERSION) + KEY_ID_BYTES + NONCE_BYTES


class KeyConfigError(ValueError):
    """The configured keys are unusable; the message is one sentence for an operator."""


class DecryptionError(Exception):
    """A value does not decrypt: wrong row, column, table, unknown key or tampered bytes."""


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

    @property
    def current_key_id(self) -> bytes:
        return self._keys[0].key_id

    @staticmethod
    def _associated_data(table: str, column: str, row: object, key_id: bytes) -> bytes:
        return b"\x1f".join((table.encode(), column.encode(), str(row).encode(), key_id))

    def encrypt(self, plaintext: str | bytes, *, table: str, column: str, row: object) -> bytes:
        key = self._keys[0]
        data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
        nonce = os.urandom(NONCE_BYTES)
        sealed = key.aead.encrypt(nonce, data, self._associated_data(table, column, row, key.key_id))
        return FORMAT_VERSION + key.key_id + nonce + sealed

    def decrypt_bytes(self, blob: bytes, *, table: str, column: str, row: object) -> bytes:
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

    def decrypt(self, blob: bytes, *, table: str, column: str, row: object) -> str:
        return self.decrypt_bytes(blob, table=table, column=column, row=row).decode("utf-8")

    def key_id_of(self, blob: bytes) -> bytes:
        return blob[1 : 1 + KEY_ID_BYTES]

    def is_current(self, blob: bytes) -> bool:
        return self.key_id_of(blob) == self.current_key_id

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
