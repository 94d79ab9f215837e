"""Log rate limiting: a flood (20,000 connections, a sender looping on a bad message) must not fill the disk.

Records are grouped by the line of code that logged them (logger, file, line). Within a window of
``window`` seconds the first ``burst`` records of a group pass; the rest are counted and dropped. The
counts are written as one summary line per group once the window has passed (at the next record
logged anywhere), so the log still says how much happened. Installed on the root handlers by
``sgl``, so it sees every logger's records.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

Key = tuple[str, str, int]


@dataclass
class _Group:
    started: float
    passed: int = 0
    dropped: int = 0
    sample: str = ""


class RateLimitFilter(logging.Filter):
    """Let ``burst`` records per code location through each ``window`` seconds; summarise the rest."""

    def __init__(self, burst: int, window: float) -> None:
        super().__init__()
        if burst < 1 or window <= 0:
            raise ValueError("burst must be at least 1 and window positive")
        self.burst = burst
        self.window = window
        self._now = time.monotonic
        self._groups: dict[Key, _Group] = {}
        self._next_flush = 0.0
        self._flushing = False

    def filter(self, record: logging.LogRecord) -> bool:
        if self._flushing:  # our own summary lines
            return True
        now = self._now()
        if now >= self._next_flush:
            self._flush(now)
        key = (record.name, record.pathname, record.lineno)
        group = self._groups.get(key)
        if group is None or now - group.started >= self.window:
            if group is not None and group.dropped:
                self._summarise(key, group)
            group = self._groups[key] = _Group(now)
        if group.passed < self.burst:
            group.passed += 1
            return True
        if not group.dropped:
            group.sample = record.getMessage()[:200]
        group.dropped += 1
        return False

    def _flush(self, now: float) -> None:
        """Summarise and forget every group whose window is over."""
        self._next_flush = now + self.window
        for key, group in list(self._groups.items()):
            if now - group.started >= self.window:
                if group.dropped:
                    self._summarise(key, group)
                del self._groups[key]

    def _summarise(self, key: Key, group: _Group) -> None:
        self._flushing = True
        try:
            log.warning("%d more records from %s (%s:%d) dropped within %g s, the first being: %s",
                        group.dropped, key[0], key[1].rsplit("/", 1)[-1], key[2], self.window, group.sample)
        finally:
            self._flushing = False
        group.dropped = 0


def install(burst: int, window: float) -> RateLimitFilter:
    """Put one rate-limit filter on every handler of the root logger (where every record ends)."""
    limit = RateLimitFilter(burst, window)
    for handler in logging.getLogger().handlers:
        handler.addFilter(limit)
    return limit
