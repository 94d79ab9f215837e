"""Settling a journal entry inside the transaction that stores what its message carried.

The dispatcher journals each message (``received``, durable) before handling it and settles the entry
afterwards. For analyzer results that second write is one more durable commit per message; instead the
handler can settle the entry in its own transaction (``Settlement.settle`` with the session), so the
``processed`` mark and the results commit together or not at all. The dispatcher then sees that the
entry was settled with exactly the outcome it would have written and skips its own write; any other
outcome (an exception, another status or detail) is written by the dispatcher as before, so a handler
that does not take part changes nothing.

The dispatcher hands the ``Settlement`` to the handlers that take part as an argument (HL7: registered
with ``Hl7Dispatcher.route_settling``; ASTM: the results handler), never through hidden state.

A route that always settles in its own transaction (the analyzer results) goes further: the dispatcher
does not write the ``received`` entry first (one durable commit less per message); the handler writes the
whole entry, raw message and outcome, in the results' transaction (``pending``). Nothing is acknowledged
before that commit; when it does not happen (a refusal, an exception) the dispatcher writes the entry
with its outcome before answering, so a refused message keeps its trace; a crash before the commit
leaves nothing, and the unacknowledged sender sends the message again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from resources.store.base import StoreSession
from server.inbound.journal import InboundJournal

Outcome = tuple[str, str | None, list[str]]
"""(status, detail, produced) as ``InboundJournal.settle`` records them."""


@dataclass
class Settlement:
    """The journal entry of the message being handled, and the outcome a handler settled it with."""

    journal: InboundJournal
    entry: ObjectId
    pending: dict[str, Any] | None = None
    """The entry document when the dispatcher has not written it (see the module docstring)."""
    settled: Outcome | None = None

    async def settle(self, status: str, detail: str | None, produced: list[str], session: StoreSession) -> None:
        """Record the outcome in the caller's transaction (it counts only if that transaction commits;
        a retried transaction settles again, and the last attempt's outcome is what is compared)."""
        if self.pending is not None:
            await self.journal.write_settled(self.pending, status, detail, produced, session)
        else:
            await self.journal.settle(self.entry, status, detail, produced, session=session)
        self.settled = (status, detail, list(produced))

    async def settle_outside(self, status: str, detail: str | None, produced: list[str] | None = None) -> None:
        """Record an outcome the handler's transaction did not (durable on its own), writing the entry itself
        if it was never written."""
        await self.journal.settle(self.entry, status, detail, produced, received=self.pending)

    def already(self, status: str, detail: str | None, produced: list[str]) -> bool:
        """True when the handler's committed transaction recorded exactly this outcome."""
        return self.settled == (status, detail, list(produced))

