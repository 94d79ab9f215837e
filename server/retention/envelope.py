"""Envelope encryption of identity-document copies (SGL.INS.57): AES-256-GCM, a fresh data key per copy.

Why an envelope: the master key (``SGL_IDENTITY_DOCUMENT_KEY_FILE``, 32 random bytes, outside the database and
its backups) never encrypts data itself; it wraps each copy's own random data key. Rotating the master key
rewraps 32-byte keys, not the documents; a database dump without the key file reveals nothing. The copy's
id and patient are the GCM additional data, so a ciphertext moved to another patient's record fails to open.

Algorithm and sizes: AES-GCM with 256-bit keys, 96-bit random nonces (``os.urandom``), 128-bit tags
(``cryptography``'s ``AESGCM``). The key id stored beside each copy is the first 16 hex digits of the
SHA-256 of the master key: it names which key wrapped it without revealing it.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from resources.errors import InvalidInput

KEY_BYTES, NONCE_BYTES = 32, 12


class KeyMismatch(Exception):
    """The copy was wrapped by another master key, or its bytes were altered."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    wrapped_key: bytes
    """The data key, encrypted by the master key (nonce first)."""
    ciphertext: bytes
    """The document, encrypted by the data key (nonce first)."""


def new_master_key() -> str:
    """A new master key as the key file holds it (base64)."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def load_master_key(path: Path) -> bytes:
    try:
        key = base64.b64decode(path.read_text(encoding="ascii").strip(), validate=True)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"identity document key file {path}: {type(exc).__name__}", expression=str(path)) from exc
    if len(key) != KEY_BYTES:
        raise InvalidInput(f"identity document key file {path}: {len(key)} bytes, 32 needed", expression=str(path))
    return key


def key_id(master: bytes) -> str:
    return hashlib.sha256(master).hexdigest()[:16]


def _encrypt(key: bytes, data: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, data, aad)


def _decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except InvalidTag as exc:
        raise KeyMismatch("the copy does not open with this key (another key, or altered bytes)") from exc


def seal(master: bytes, content: bytes, aad: bytes) -> Sealed:
    data_key = AESGCM.generate_key(bit_length=256)
    return Sealed(key_id(master), _encrypt(master, data_key, aad), _encrypt(data_key, content, aad))


def open_sealed(master: bytes, sealed: Sealed, aad: bytes) -> bytes:
    if sealed.key_id != key_id(master):
        raise KeyMismatch(f"the copy was wrapped by key {sealed.key_id}, not by the configured key")
    return _decrypt(_decrypt(master, sealed.wrapped_key, aad), sealed.ciphertext, aad)
