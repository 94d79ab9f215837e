"""Argon2id hashing (pwdlib) of passwords and client secrets, in a pool of their own, bounded.

Why a pool of their own: a check costs about 64 MiB and a few hundred milliseconds of one core. On asyncio's
default executor, which the server also parses and validates JSON with, a login flood from many addresses (the
per-address throttle, ``throttle.py``, bounds one address only) filled every thread and queued the other
requests' work behind it. Here at most ``threads`` checks run at once (``SGL_PASSWORD_HASH_THREADS``; 0: one per
two cores, at least 1, at most 2) and at most ``queue`` wait (``SGL_PASSWORD_HASH_QUEUE``); one more is refused at
once with :class:`HashingBusy` (503 + Retry-After, no password checked), logged once per burst: the first
refusal, then how many there were when a check is admitted again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from resources.errors import Unavailable

log = logging.getLogger(__name__)
_HASHER = PasswordHash((Argon2Hasher(),))
MIN_PASSWORD_LENGTH = 12
BUSY = "too many password checks at once; try again in a moment"
_T = TypeVar("_T")


class HashingBusy(Unavailable):
    """Every hashing thread is busy and the queue is full: answered 503 with Retry-After."""


def default_threads() -> int:
    """One hashing thread per two cores, at least 1, at most 2: the rest of the machine keeps serving."""
    return max(1, min(2, (os.cpu_count() or 1) // 2))


class HashingPool:
    """At most ``threads`` Argon2id computations at once, ``queue`` more waiting; past that, HashingBusy."""

    def __init__(self, threads: int = 0, queue: int = 16) -> None:
        self.configure(threads, queue)

    def configure(self, threads: int, queue: int) -> None:
        """(Re)size the pool (``sgl serve`` from its settings, before it serves); ``threads`` 0: the default. Checks
        still running on the former threads end there and free no place in the new count."""
        if threads < 0 or queue < 0:
            raise ValueError("the password hashing threads and queue are at least 0")
        self.threads = threads or default_threads()
        self.queue = queue
        self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="sgl-argon2")
        self._count = _Count()

    async def run(self, work: Callable[[], _T]) -> _T:
        """``work`` run on a hashing thread. A place is freed when the work ends, not when its caller stops
        waiting: a client that hangs up leaves its check counted until the check is done."""
        count = self._count
        admitted, refused = count.enter(self.threads + self.queue)
        if not admitted:
            if refused == 1:
                log.warning("password hashing: %d running and %d waiting: further logins and client "
                            "authentications get 503 until one ends, no password checked", self.threads, self.queue)
            raise HashingBusy(BUSY)
        if refused:
            log.warning("password hashing: %d check(s) refused with 503 during that burst", refused)
        future = self._executor.submit(work)
        future.add_done_callback(count.leave)
        return await asyncio.wrap_future(future)


class _Count:
    """Checks admitted (running or waiting) and refusals since the last admission; hashing threads end checks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._admitted = 0
        self._refused = 0

    def enter(self, limit: int) -> tuple[bool, int]:
        """(admitted, refusals counted): the refusals of this burst so far when refused; when admitted, those of
        the burst it ends (0 if none)."""
        with self._lock:
            if self._admitted >= limit:
                self._refused += 1
                return False, self._refused
            self._admitted += 1
            refused, self._refused = self._refused, 0
            return True, refused

    def leave(self, _: object) -> None:
        with self._lock:
            self._admitted -= 1


POOL = HashingPool()
"""The process's pool: module-level as the throttle's is per application, but hashing is called from account
and client code that holds no application (the command line hashes with it too, one at a time)."""


def new_secret() -> str:
    """A client secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


async def hash_secret(secret: str) -> str:
    return await POOL.run(lambda: _HASHER.hash(secret))


async def verify_secret(secret: str, hashed: str) -> bool:
    """Whether ``secret`` matches ``hashed``; HashingBusy (nothing checked) when the pool is full."""
    try:
        return await POOL.run(lambda: _HASHER.verify(secret, hashed))
    except HashingBusy:
        raise
    except Exception:  # a malformed stored hash never lets anyone in
        return False


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
