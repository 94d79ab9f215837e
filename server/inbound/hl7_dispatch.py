"""Routes each HL7 v2 message to the handler of its type and event, journal first.

A handler receives the inbound message (and, registered with ``route_settling``, the message's journal
``Settlement`` to settle in its own transaction) and returns an ``AckDecision`` (AA, with warnings) or raises;
what an exception is answered (AE/AR, ERR code and location) is decided by the facade's one table
(``facades.hl7v2.outcome.RULES``), here only to settle the journal entry and then by the MLLP server.
The journal entry names the partner (MSH-3 application, MSH-4 facility) and what was produced. An ACK a
partner sends is journaled ``processed`` with what it acknowledges (MSA-1, MSA-2) and answered by nobody.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bson import ObjectId

from facades.hl7v2 import AckDecision, InboundMessage, PartlyProcessed, UnsupportedMessage
from facades.hl7v2.ack import is_acknowledgment
from facades.hl7v2.errors import (
    UNSUPPORTED_EVENT_CODE,
    UNSUPPORTED_MESSAGE_TYPE,
    UNSUPPORTED_PROCESSING_ID,
    ErrorLocation,
    Hl7ParseError,
)
from resources.errors import Forbidden
from server.database import DATABASE_DOWN, unavailable
from server.inbound.journal import InboundJournal
from server.inbound.processing import PRODUCTION, refusal
from server.inbound.settlement import Settlement
from server.partners.gate import PartnerGate

log = logging.getLogger(__name__)

Hl7Handler = Callable[[InboundMessage], Awaitable[AckDecision]]
SettlingHl7Handler = Callable[[InboundMessage, Settlement], Awaitable[AckDecision]]
"""A handler that settles the journal entry in the transaction storing what the message carried."""


def partner_of(inbound: InboundMessage) -> dict[str, str]:
    """The sender as MSH-3 / MSH-4 name it (namespace id, or universal id when that is all there is)."""
    msh = inbound.message.msh
    return {"application": msh.get("3.1") or msh.get("3.2"), "facility": msh.get("4.1") or msh.get("4.2"),
            "address": inbound.peer}


class Hl7Dispatcher:
    def __init__(self, journal: InboundJournal, gate: PartnerGate | None = None,
                 processing_ids: frozenset[str] = PRODUCTION) -> None:
        self.journal = journal
        self.gate = gate
        """Who may send what (server/partners); None only in tests of the dispatch itself."""
        self.processing_ids = processing_ids
        """MSH-11 values processed; any other is refused (AR, ERR 202) before any handler (``processing.py``)."""
        self.routes: dict[tuple[str, str | None], SettlingHl7Handler] = {}
        self.journaling: set[tuple[str, str | None]] = set()
        """Routes whose handler writes the journal entry in its own transaction (``route_settling``)."""

    def route(self, message_type: str, event: str | None, handler: Hl7Handler) -> None:
        """Register ``handler`` for ``ADT^A28`` (type, event) or every event of a type (event None)."""

        async def plain(inbound: InboundMessage, settlement: Settlement) -> AckDecision:
            return await handler(inbound)  # the dispatcher settles the entry after it
        self.routes[(message_type, event)] = plain
        self.journaling.discard((message_type, event))

    def route_settling(self, message_type: str, event: str | None, handler: SettlingHl7Handler) -> None:
        """As :meth:`route`, for a handler given the message's ``Settlement`` that always settles it in the
        transaction storing what the message carries: the entry is then written there, raw message and
        outcome together, not before the handler (one durable commit less; ``settlement.py``)."""
        self.journaling.add((message_type, event))
        self.routes[(message_type, event)] = handler

    def journals(self, message_type: str, event: str) -> bool:
        """Whether the handler ``handler_for`` picks writes the journal entry itself (``route_settling``)."""
        key = (message_type, event) if (message_type, event) in self.routes else (message_type, None)
        return key in self.journaling

    def handler_for(self, message_type: str, event: str) -> SettlingHl7Handler:
        handler = self.routes.get((message_type, event)) or self.routes.get((message_type, None))
        if handler is not None:
            return handler
        known_type = any(t == message_type for t, _ in self.routes)
        raise UnsupportedMessage(f"message type {message_type}^{event} is not supported by this SGL",
                                 code=UNSUPPORTED_EVENT_CODE if known_type else UNSUPPORTED_MESSAGE_TYPE)

    async def __call__(self, inbound: InboundMessage) -> AckDecision:
        """Journal, then hand over; with the database down, ``Unavailable`` (the MLLP server answers AE)."""
        msh = inbound.message.msh
        message_type, event = msh.get("9.1") or "", msh.get("9.2") or ""
        try:
            doc = self.journal.entry(protocol="hl7v2", peer=inbound.peer, raw=inbound.raw,
                                     message_type=f"{message_type}^{event}",
                                     control_id=inbound.message.control_id, partner=partner_of(inbound))
            if self.journals(message_type, event):
                return await self.process(doc["_id"], inbound, pending=doc)
            return await self.process(await self.journal.write(doc), inbound)
        except DATABASE_DOWN as exc:
            raise unavailable(exc) from exc

    async def process(self, entry: ObjectId, inbound: InboundMessage,
                      pending: dict[str, Any] | None = None) -> AckDecision:
        """Hand a journaled message to its handler and settle its journal entry (also used by the replay).

        ``pending``: the entry, not written yet, of a message whose handler writes it (``settlement.py``).
        A database failure is raised as is (the server answers AE and the entry stays ``received``,
        replayed at the next start; a pending one is not written: the unacknowledged sender resends)."""
        msh = inbound.message.msh
        message_type, event = msh.get("9.1") or "", msh.get("9.2") or ""
        refused = refusal(msh.get("11.1"), "MSH-11", self.processing_ids)
        if refused is not None:
            await self.journal.settle(entry, "rejected", refused, received=pending)
            raise Hl7ParseError(refused, ErrorLocation("MSH", 1, 11), code=UNSUPPORTED_PROCESSING_ID)  # AR
        if self.gate is not None:
            supported = (message_type, event) in self.routes or (message_type, None) in self.routes
            admitted = await self.gate.admit_hl7(inbound, f"{message_type}^{event}", supported=supported)
            if isinstance(admitted, str):
                await self.journal.settle(entry, "rejected", admitted, received=pending)
                raise Forbidden(admitted)  # AR (facades.hl7v2.outcome)
            inbound = admitted
        settlement = Settlement(self.journal, entry, pending)
        if is_acknowledgment(inbound.message):  # the MLLP server's own test: journaled here, answered by nobody
            await settlement.settle_outside("processed", acknowledged(inbound))
            return AckDecision.accept()
        try:
            decision = await self.handler_for(message_type, event)(inbound, settlement)
        except UnsupportedMessage as exc:
            await settlement.settle_outside("rejected", exc.diagnostics)
            raise
        except PartlyProcessed as exc:
            if not settlement.already("partial", exc.diagnostics, list(exc.produced)):
                await settlement.settle_outside("partial", exc.diagnostics, list(exc.produced))
            raise
        except DATABASE_DOWN:
            raise  # the entry stays ``received``: replayed at the next start
        except Exception as exc:
            await settlement.settle_outside("error", getattr(exc, "diagnostics", None) or repr(exc))
            raise
        outcome = ("processed" if decision.code == "AA" else "error",
                   "; ".join(e.message for e in decision.errors) or None, list(decision.produced))
        if not settlement.already(*outcome):  # the handler's transaction did not record it already
            await settlement.settle_outside(*outcome)
        return decision

    async def quarantine(self, raw: bytes, peer: str, reason: str) -> None:
        await self.journal.quarantine(raw, peer, reason, protocol="hl7v2")


def acknowledged(inbound: InboundMessage) -> str:
    """What an incoming ACK acknowledges (MSA-1 and MSA-2), for its journal entry: an acknowledgment is recorded,
    never answered (HL7 v2 chapter 2; ``facades.hl7v2.ack.is_acknowledgment``), and needs no handler."""
    msa = inbound.message.segment("MSA")
    if msa is None:
        return "acknowledgment without MSA: not answered"
    return f"acknowledgment {msa.get(1) or '?'} of message {msa.get(2) or '?'}: not answered"


def describe(routes: dict[tuple[str, str | None], Any]) -> list[str]:
    return sorted(f"{t}^{e or '*'}" for t, e in routes)
