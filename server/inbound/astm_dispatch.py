"""Routes each ASTM message to the results handler or the host-query handler, journal first.

The journal entry names the partner (H.5 sender name and the peer address), the character set the
bytes were read with, and what was produced. ASTM has no AE/AR: a failure raises, and the server
NAKs the final frame (the one place that decides, ``facades.astm.server``), so the analyzer resends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bson import ObjectId

from facades.astm import AstmRecordError, Message, current_peer
from resources.errors import Forbidden
from server.database import DATABASE_DOWN, unavailable
from server.inbound.journal import InboundJournal
from server.inbound.processing import PRODUCTION, refusal
from server.inbound.settlement import Settlement
from server.partners.gate import PartnerGate

ResultsHandler = Callable[[str, Message, Settlement], Awaitable[list[str]]]
"""Stores the results; given the message's ``Settlement`` to settle it in the results' transaction."""
QueryHandler = Callable[[str, Message], Awaitable[Message | None]]


def astm_outcome(message: Message, produced: list[str]) -> tuple[str, str | None, list[str]]:
    """How a handled ASTM message settles: ``partial`` naming the records the facade refused, else ``processed``."""
    refused = "; ".join(f"line {r.line}: {r.diagnostics}" for r in message.refused) or None
    return ("partial" if refused else "processed", refused, list(produced))


def _carries_results(message: Message) -> bool:
    """Whether the message has results to store: R records (or unreadable ones), or no query at all. A message
    may carry a Q record with them (the results of one tube, the work order of the next): both are handled,
    the results first (before: the query alone, the results ACKed and kept nowhere but the raw journal)."""
    return bool(message.results() or message.refused) or not message.queries


class AstmDispatcher:
    def __init__(self, journal: InboundJournal, gate: PartnerGate | None = None,
                 processing_ids: frozenset[str] = PRODUCTION) -> None:
        self.journal = journal
        self.gate = gate
        """Who may send (server/partners): an unknown sender's message is NAKed; None only in dispatch tests."""
        self.processing_ids = processing_ids
        """H.12 values processed; any other is refused (NAK, journaled ``rejected``) before any handler
        (``processing.py``)."""
        self.results: ResultsHandler | None = None
        self.query: QueryHandler | None = None
        self.results_journal = False
        """The results handler writes the journal entry in its own transaction (``settlement.py``)."""

    async def __call__(self, text: str, message: Message) -> Message | None:
        """Journal, then hand over; raising makes the server NAK the last frame so the analyzer retries."""
        charset = message.charset or "latin-1"
        sender = message.header.sender
        peer = current_peer.get() or "astm"
        try:
            doc = self.journal.entry(protocol="astm", peer=peer, raw=text.encode(charset, "replace"),
                                     message_type="results" if _carries_results(message) else "query",
                                     charset=charset, control_id=message.header.message_id or None,
                                     partner={"application": sender[0] if sender else "",
                                              "version": "^".join(sender[1:])})
            if self.results_journal and _carries_results(message):
                return await self.process(doc["_id"], text, message, peer=peer, pending=doc)
            return await self.process(await self.journal.write(doc), text, message, peer=peer)
        except DATABASE_DOWN as exc:
            raise unavailable(exc) from exc

    async def process(self, entry: ObjectId, text: str, message: Message, *, peer: str = "",
                      pending: dict[str, Any] | None = None) -> Message | None:
        """Check the sender, hand a journaled message to its handler and settle its journal entry (also used
        by the replay, with the peer the journal recorded). ``pending``: the entry, not written yet, of a
        message whose handler writes it (``settlement.py``)."""
        refused = refusal(message.header.processing_id, "H.12", self.processing_ids)
        if refused is not None:
            await self.journal.settle(entry, "rejected", refused, received=pending)
            raise Forbidden(refused)  # NAK: ASTM has no AR
        if self.gate is not None:
            admitted = await self.gate.admit_astm(message, peer)
            if isinstance(admitted, str):
                await self.journal.settle(entry, "rejected", admitted, received=pending)
                raise Forbidden(admitted)
            message = admitted
        produced: list[str] = []
        settlement = Settlement(self.journal, entry, pending)
        answer = None
        try:
            query, results = self.query, self.results
            if message.queries and query is None:
                raise LookupError("no host-query handler is configured")
            if _carries_results(message):
                if results is None:
                    raise LookupError("no results handler is configured")
                produced = await results(text, message, settlement)
            if message.queries and query is not None:
                answer = await query(text, message)
        except Exception as exc:
            await settlement.settle_outside("error", f"{type(exc).__name__}: {exc}")
            raise
        outcome = astm_outcome(message, produced)
        if not settlement.already(*outcome):  # the results handler's transaction did not record it already
            await settlement.settle_outside(*outcome)
        return answer

    async def quarantine(self, text: str, error: AstmRecordError) -> None:
        """A message whose records are malformed is kept for a person to look at (then ACKed)."""
        await self.journal.quarantine(text.encode("latin-1", "replace"), "astm", error.diagnostics, protocol="astm")
