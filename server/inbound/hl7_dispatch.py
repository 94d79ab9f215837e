"""Routes each HL7 v2 message to the handler of its type and event, journal first.

A handler receives the application context and the inbound message and returns an ``AckDecision``;
an unsupported type or event gets AR with HL7 error 200/201, a handler error AE with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bson import ObjectId

from facades.hl7v2 import AckDecision, InboundMessage
from resources.errors import SglError
from server.database import DATABASE_DOWN, unavailable
from server.inbound.journal import InboundJournal
from server.partners.gate import PARTNER_REFUSED, PartnerGate

log = logging.getLogger(__name__)

Hl7Handler = Callable[[InboundMessage], Awaitable[AckDecision]]
UNSUPPORTED_MESSAGE_TYPE = 200
UNSUPPORTED_EVENT = 201


class Hl7Dispatcher:
    def __init__(self, journal: InboundJournal, gate: PartnerGate | None = None) -> None:
        self.journal = journal
        self.gate = gate
        """Who may send what (server/partners); None only in tests of the dispatch itself."""
        self.routes: dict[tuple[str, str | None], Hl7Handler] = {}

    def route(self, message_type: str, event: str | None, handler: Hl7Handler) -> None:
        """Register ``handler`` for ``ADT^A28`` (type, event) or every event of a type (event None)."""
        self.routes[(message_type, event)] = handler

    def _handler_for(self, message_type: str, event: str) -> tuple[Hl7Handler | None, int]:
        handler = self.routes.get((message_type, event)) or self.routes.get((message_type, None))
        if handler is not None:
            return handler, 0
        known_type = any(t == message_type for t, _ in self.routes)
        return None, UNSUPPORTED_EVENT if known_type else UNSUPPORTED_MESSAGE_TYPE

    async def __call__(self, inbound: InboundMessage) -> AckDecision:
        """Journal, then hand over; with the database down, ``Unavailable`` (the MLLP server answers AE)."""
        msh = inbound.message.msh
        message_type, event = msh.get("9.1") or "", msh.get("9.2") or ""
        try:
            entry = await self.journal.record(protocol="hl7v2", peer=inbound.peer, raw=inbound.raw,
                                              message_type=f"{message_type}^{event}",
                                              control_id=inbound.message.control_id)
            return await self.process(entry, inbound)
        except DATABASE_DOWN as exc:
            raise unavailable(exc) from exc

    async def process(self, entry: ObjectId, inbound: InboundMessage) -> AckDecision:
        """Hand a journaled message to its handler and settle its journal entry (also used by the replay).

        A database failure is raised as is (the server answers AE and the entry stays ``received``,
        replayed at the next start)."""
        msh = inbound.message.msh
        message_type, event = msh.get("9.1") or "", msh.get("9.2") or ""
        handler, code = self._handler_for(message_type, event)
        if self.gate is not None:
            admitted = await self.gate.admit_hl7(inbound, f"{message_type}^{event}", supported=handler is not None)
            if isinstance(admitted, str):
                await self.journal.settle(entry, "rejected", admitted)
                return AckDecision.reject(admitted, PARTNER_REFUSED)
            inbound = admitted
        if handler is None:
            reason = f"message type {message_type}^{event} is not supported by this SGL"
            await self.journal.settle(entry, "rejected", reason)
            return AckDecision.reject(reason, code)
        try:
            decision = await handler(inbound)
        except SglError as exc:
            await self.journal.settle(entry, "error", exc.diagnostics)
            return AckDecision.error(exc.diagnostics)
        await self.journal.settle(entry, "processed" if decision.code == "AA" else "error",
                                  "; ".join(e.message for e in decision.errors) or None)
        return decision

    async def quarantine(self, raw: bytes, peer: str, reason: str) -> None:
        await self.journal.quarantine(raw, peer, reason, protocol="hl7v2")


def describe(routes: dict[tuple[str, str | None], Any]) -> list[str]:
    return sorted(f"{t}^{e or '*'}" for t, e in routes)
