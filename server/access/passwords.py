"""Argon2id hashing (pwdlib) of passwords and client secrets, off the event loop."""

from __future__ import annotations

import asyncio
import secrets

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

_HASHER = PasswordHash((Argon2Hasher(),))
MIN_PASSWORD_LENGTH = 12


def new_secret() -> str:
    """A client secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


async def hash_secret(secret: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, secret)


async def verify_secret(secret: str, hashed: str) -> bool:
    try:
        return await asyncio.to_thread(_HASHER.verify, secret, hashed)
    except Exception:  # a malformed stored hash never lets anyone in
        return False


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
