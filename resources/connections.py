"""How many socket connections a listener holds at once, in total and per source address.

Shared by the MLLP and ASTM listeners (a facade never imports another facade, so the one copy lives
here). Pure bookkeeping, no sockets: the listener asks ``admit`` when a connection arrives and closes
it at once when the answer is no, and calls ``release`` when an admitted connection ends.

A flood of refused connections must not become a flood of log lines: the first refusal of a run is
logged, the rest are counted, and the count is logged once when a connection is admitted again.
"""

from __future__ import annotations

import logging
from collections import Counter

log = logging.getLogger(__name__)


class ConnectionGate:
    """Admission of connections under two caps; ``name`` says which listener in the log."""

    def __init__(self, name: str, *, max_total: int, max_per_address: int) -> None:
        if max_total < 1 or max_per_address < 1:
            raise ValueError("connection caps must be at least 1")
        self.name = name
        self.max_total = max_total
        self.max_per_address = max_per_address
        self._open: Counter[str] = Counter()
        self.refused = 0
        """Connections refused since the last one admitted (0 while admitting)."""
        self.refused_total = 0

    @property
    def open(self) -> int:
        return sum(self._open.values())

    def admit(self, address: str) -> bool:
        """Count the connection in and say yes, or say no (the caller closes it at once)."""
        total, mine = self.open, self._open[address]
        if total >= self.max_total or mine >= self.max_per_address:
            if self.refused == 0:
                cap = (f"{self.max_total} connections in total" if total >= self.max_total
                       else f"{self.max_per_address} connections from {address}")
                log.warning("%s: at the cap of %s: new connections are closed at once (counted, logged when "
                            "one is admitted again)", self.name, cap)
            self.refused += 1
            self.refused_total += 1
            return False
        if self.refused:
            log.warning("%s: %d connection(s) were refused at the cap", self.name, self.refused)
            self.refused = 0
        self._open[address] += 1
        return True

    def release(self, address: str) -> None:
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]
