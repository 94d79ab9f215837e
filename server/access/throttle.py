"""Failed authentications counted per source address: past a limit within a window, that address is refused
(429) without any password or secret being checked until the window has moved on.

The per-account lockout (``accounts.py``: 5 failures lock a name for 15 minutes) does not see a client that
tries one password on many names (spraying): probed on a real ``sgl serve``, 40 names tried in a row from one
address were all answered 401, each after a full Argon2id verification (64 MiB, on the thread pool the
server also parses and validates with). Here the address is what is counted, whatever the name, at
``/auth/login``, ``/auth/token`` (a wrong client secret) and ``/auth/password`` (a wrong current password).

Behind a reverse proxy the address is the one uvicorn reads from ``X-Forwarded-For`` when the proxy is
trusted (``FORWARDED_ALLOW_IPS``, 127.0.0.1 by default). State is this process's memory, bounded: a
restart forgets it, which costs an attacker nothing the per-account lockout does not still hold.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)

MAX_ADDRESSES = 10_000
"""Addresses remembered at once; past it, those without a failure in the window are forgotten first."""


class FailureThrottle:
    """Failures per address in a sliding window of ``window`` seconds; ``limit`` of them block the address."""

    def __init__(self, *, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("the failure limit must be at least 1 and the window positive")
        self.limit, self.window, self._clock = limit, window, clock
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, address: str) -> float | None:
        """Seconds until ``address`` may try again (None: it may now)."""
        failures = self._failures.get(address)
        if failures is None:
            return None
        self._forget_old(failures, self._clock())
        if len(failures) < self.limit:
            return None
        return max(failures[0] + self.window - self._clock(), 1.0)

    def failed(self, address: str) -> None:
        """Count one failure of ``address``; the one that reaches the limit is logged (the address only)."""
        now = self._clock()
        failures = self._failures.get(address)
        if failures is None:
            if len(self._failures) >= MAX_ADDRESSES:
                self._prune(now)
            failures = self._failures[address] = deque(maxlen=self.limit)
        self._forget_old(failures, now)
        failures.append(now)
        if len(failures) == self.limit:
            log.warning("authentication: %d failures from %s within %g s: that address is refused for up to "
                        "%g s, no password checked", self.limit, address, self.window, self.window)

    def _forget_old(self, failures: deque[float], now: float) -> None:
        while failures and failures[0] <= now - self.window:
            failures.popleft()

    def _prune(self, now: float) -> None:
        for address in [a for a, f in self._failures.items() if not f or f[-1] <= now - self.window]:
            del self._failures[address]
        if len(self._failures) >= MAX_ADDRESSES:
            self._failures.clear()  # a flood from that many addresses: the per-account lockout still holds
