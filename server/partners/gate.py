"""The partner check the HL7 and ASTM dispatchers run before any handler (issue 11 item 6).

An HL7 message is admitted when MSH-3 (and MSH-4 if the partner names one) and the source address
match a registered partner whose role may send that message type; an ASTM message when its H-5
sender and address match an ``automate``. Otherwise it is refused (HL7 AR with the reason in ERR-8;
ASTM NAK) and an AuditEvent (DICOM "Security Alert") names the sender, its address and the reason.
An admitted message reaches its handler as a ``PartnerMessage``/``PartnerAstmMessage`` (the same
message plus ``partner``), so handlers that care (identity feed, analyzers) read the partner there.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from facades.astm import Message
from facades.hl7v2 import InboundMessage
from resources.fhirjson import instant
from resources.search.date import now_utc
from resources.store.base import FhirStore
from server.access.agents import server_source
from server.partners.model import ASTM_ROLES, Partner, allows, peer_address
from server.partners.registry import PartnerRegistry

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class PartnerMessage(InboundMessage):
    partner: Partner | None = None


@dataclasses.dataclass
class PartnerAstmMessage(Message):
    partner: Partner | None = None


def partner_of(message: InboundMessage | Message) -> Partner | None:
    """The partner an admitted message came from (None outside the listeners, e.g. in unit tests)."""
    return message.partner if isinstance(message, PartnerMessage | PartnerAstmMessage) else None


def refusal_event(reason: str, *, sender: str, address: str, protocol: str, message_type: str,
                  control_id: str | None) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2",
                 "display": "System Object"},
        "description": f"{protocol} {message_type}"[:200]}
    if control_id:
        entity["what"] = {"identifier": {"system": f"urn:opensgl:{protocol}:control-id", "value": control_id}}
    return {
        "resourceType": "AuditEvent",
        "type": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110113",
                 "display": "Security Alert"},
        "subtype": [{"system": "urn:opensgl:audit", "code": "partner-refused",
                     "display": "message from an unknown or unauthorised partner refused"}],
        "action": "C", "recorded": instant(now_utc()), "outcome": "8", "outcomeDesc": reason[:1000],
        "agent": [{"who": {"identifier": {"system": f"urn:opensgl:{protocol}:sender", "value": sender or "(none)"},
                           "display": sender or "(none)"},
                   "requestor": True, "network": {"address": address, "type": "2"}}],
        "source": server_source(),
        "entity": [entity],
    }


class PartnerGate:
    def __init__(self, registry: PartnerRegistry, store: FhirStore) -> None:
        self.registry, self.store = registry, store

    async def _refuse(self, reason: str, **where: Any) -> str:
        log.warning("%s message refused: %s", where["protocol"], reason)
        await self.store.create(refusal_event(reason, **where))
        return reason

    async def admit_hl7(self, inbound: InboundMessage, message_type: str, *, supported: bool) -> PartnerMessage | str:
        """The message with its partner, or the reason it is refused (already audited).

        An unsupported type from a known partner passes, so that the dispatcher answers 200/201."""
        msh = inbound.message.msh
        application, facility = msh.get("3.1") or "", msh.get("4.1") or ""
        address = peer_address(inbound.peer)
        where = {"sender": f"{application}|{facility}", "address": address, "protocol": "hl7v2",
                 "message_type": message_type, "control_id": inbound.message.control_id}
        found = await self.registry.identify_hl7(application, facility, address)
        if found.partner is None:
            return await self._refuse(found.reason, **where)
        if supported and not allows(found.partner.role, message_type):
            return await self._refuse(f"partner {found.partner.name} ({found.partner.role}) may not send "
                                      f"{message_type}", **where)
        fields = {f.name: getattr(inbound, f.name) for f in dataclasses.fields(inbound)}
        return PartnerMessage(**{**fields, "partner": found.partner})

    async def admit_astm(self, message: Message, peer: str) -> PartnerAstmMessage | str:
        sender = message.header.sender[0].strip() if message.header.sender else ""
        address = peer_address(peer)
        where = {"sender": sender, "address": address, "protocol": "astm",
                 "message_type": "query" if message.queries else "results", "control_id": message.header.message_id}
        found = await self.registry.identify_astm(sender, address)
        if found.partner is None:
            return await self._refuse(found.reason, **where)
        if found.partner.role not in ASTM_ROLES:
            return await self._refuse(f"partner {found.partner.name} ({found.partner.role}) may not send ASTM",
                                      **where)
        fields = {f.name: getattr(message, f.name) for f in dataclasses.fields(message)}
        return PartnerAstmMessage(**{**fields, "partner": found.partner})
