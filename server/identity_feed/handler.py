"""The PAM-FR identity feed over MLLP: the SGL as "esclave de l'identité" of the hospital's GAM.

``register_identity_feed`` routes every supported ADT event to ``IdentityFeed``, which reads the
identity change (``facades.hl7v2.pam``, with the partner's PID-3 type mapping), writes it through the
FHIR interactions with the write rules of the caller ``partner:<name>`` in role ``source-identite``
(the only partner role that may feed identities: it sets VALI/QUAL and the INS it sends, SGL.INS.39;
the partner gate refuses ADT from any other sender), and answers only once the write is durable:

- AA after the write (with W-severity ERR segments for what was ignored, e.g. an untrusted INS);
- AE when the message cannot be applied, with one ERR naming the spot: unreadable field (its table
  0357 code), rule violation (207, the Ségur rule id in ERR-8, e.g. a wrong INS key at PID-3), unknown
  MRG-1 (204), IPP held by several or by another patient (205). Nothing is written then. The handler
  raises; the codes come from the HL7 facade's outcome table (``facades.hl7v2.outcome.RULES``).
The dispatcher journals the raw message before this handler runs and answers AR for other events.
"""

from __future__ import annotations

import logging

from facades.hl7v2 import AckDecision, AckError, Hl7ContentError, Hl7ParseError, InboundMessage, at
from facades.hl7v2.pam import SUPPORTED_EVENTS, IdentityChange, location_of, read_identity_change
from resources.errors import Forbidden, SglError
from server.access.caller import Caller
from server.access.roles import SOURCE_IDENTITE
from server.context import AppContext
from server.identity_feed.change_id import change_id
from server.identity_feed.lookup import written
from server.identity_feed.merge import merge
from server.identity_feed.serial import IppLocks
from server.identity_feed.upsert import upsert
from server.partners import partner_of

log = logging.getLogger(__name__)

FEED_ROLE = SOURCE_IDENTITE


class IdentityFeed:
    """The inbound handler of the identity feed (one instance serves every connection)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.locks = IppLocks()

    async def __call__(self, inbound: InboundMessage) -> AckDecision:
        message = inbound.message
        try:
            partner = partner_of(inbound)
            if partner is None or partner.role != FEED_ROLE:
                raise Forbidden("SGL.INS.39 only a partner registered as source-identite may feed identities")
            change = read_identity_change(message, identifier_types=partner.identifier_types)
            caller = Caller(id=f"partner:{partner.name}", role=FEED_ROLE, kind="partner", address=inbound.peer)
            async with self.locks.holding(change):
                produced, warnings = await self._apply(change, caller)
        except Hl7ParseError as exc:  # the message was read: a refused value is AE, not AR
            log.warning("ADT^%s %s refused: %s", message.trigger_event, message.control_id, exc.diagnostics)
            raise Hl7ContentError.of(exc) from exc
        except SglError as exc:  # answered by the HL7 outcome table, at the PID field behind a FHIR rule
            log.warning("ADT^%s %s refused: %s", message.trigger_event, message.control_id, exc.diagnostics)
            raise at(exc, location_of(exc)) from exc
        log.info("ADT^%s %s applied to %s (status %s%s)", change.event, message.control_id, ", ".join(produced),
                 change.status, ", INS deleted by the sender" if change.ins_deleted else "")
        return AckDecision.accept(*change.warnings, *warnings, produced=produced)

    async def _apply(self, change: IdentityChange, caller: Caller) -> tuple[list[str], list[AckError]]:
        store, write_rule = self.ctx.store, self.ctx.write_rules.for_caller(caller)
        if change.kind == "merge":
            return await merge(store, change, write_rule=write_rule, who=caller)
        if change.kind == "change-id":
            return await change_id(store, change, write_rule=write_rule), []
        return [written(await upsert(store, change, write_rule=write_rule))], []


def register_identity_feed(ctx: AppContext) -> None:
    """Route ADT^A28/A31/A01/A04/A05/A03/A08/A40/A47 to the identity feed."""
    feed = IdentityFeed(ctx)
    for event in SUPPORTED_EVENTS:
        ctx.hl7.route("ADT", event, feed)
