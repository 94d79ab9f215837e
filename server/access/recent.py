"""A two-second memory of the bearer tokens and workbench sessions this process has just checked (issue 17
item 4).

Why: every API request read the token's record (revoked?) or the session's, and then its client's or user's
record (still active? which role?) before its own work: two database round trips, about a third of ``sgl``'s
time per ``Observation?subject&code`` search. A client polling a worklist, a workbench screen loading its
lists or an interface engine sending many requests a second now pays them once per ``TTL_S``.

The bound, and what still happens on every request:

- the token's issuer, audience and expiry are checked on every request (``tokens.decode``; its signature once
  per token string and key, ``tokens.VerifiedSignatures``), a session's expiry and CSRF token too: an expired
  token or session is refused at once, whatever this memory holds;
- a revocation or a disabling done **in this process** (a replayed refresh token revoking its family, an
  administrator disabling a user or changing a role through the admin API, a logout) empties the memory
  before it answers: the next request reads the database again;
- one done **elsewhere** (``sgl tokens revoke``, ``sgl clients disable``, ``sgl users disable`` from the command
  line, another ``sgl serve`` worker on the same database) takes effect at most ``TTL_S`` seconds after the
  check this process last read from the database.

A check read from the database while the memory was emptied is not kept (the generation changed meanwhile),
so a request that read "active" just before a revocation cannot put it back for another ``TTL_S``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime

from server.access.caller import Caller

TTL_S = 2.0
"""How long a check read from the database answers for a token: the longest a revocation made by another
process waits before this one refuses the token."""
MAX_ENTRIES = 4096
"""Tokens remembered at once (the least recently checked go first): bounded whatever the number of clients."""


@dataclass(frozen=True)
class Checked:
    """What a database check found: the caller (without its address); for a session, what is still checked
    on each request (its CSRF token and its end)."""

    caller: Caller
    csrf: str | None = None
    expires: datetime | None = None


class RecentChecks:
    """Token id or session digest -> what its last database check found, for ``ttl`` seconds."""

    def __init__(self, ttl: float = TTL_S, max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.max_entries, self.clock = ttl, max_entries, clock
        self.generation = 0
        """Bumped by :meth:`forget_all`: a check begun under an older generation is not kept."""
        self._entries: OrderedDict[Hashable, tuple[float, Checked]] = OrderedDict()

    def get(self, key: Hashable) -> Checked | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self.clock() >= entry[0]:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: Hashable, checked: Checked, generation: int) -> None:
        """Remember ``checked`` for ``key``, unless the memory was emptied since ``generation`` was read."""
        if generation != self.generation:
            return
        self._entries[key] = (self.clock() + self.ttl, checked)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget_all(self) -> None:
        self.generation += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


CHECKS = RecentChecks()
"""The process's memory: module-level because every revocation path (tokens, clients, accounts) must empty it
and none of them holds the application."""


def forget_all() -> None:
    """Called by every write that revokes a token, ends a session, or disables or changes a client or user, in
    this process."""
    CHECKS.forget_all()
