"""A socket partner: who may talk to the MLLP and ASTM listeners, from where, and in which role.

A partner is recognised by what it writes in its messages (HL7 MSH-3 sending application, MSH-4
sending facility when configured; ASTM H-5 sender name, first component) *and* by the address it
connects from (CIDR list; empty = any address). Its role says which messages it may send:

- ``automate``: an analyzer: results (ORU^R01, OUL^R22/R23/R24, ORU^R30/R32) and host queries (QBP^Q11;
  ASTM results and queries);
- ``source-identite``: the hospital identity repository (PAM-FR ADT): the only partner that may feed
  identities, and the only one whose qualified status is kept (SGL.INS.39);
- ``dpi``: the hospital EHR: orders in (OML^O21), results out (``send_to``);
- ``sous-traitant``: a subcontracting lab: its results in (ORU^R01, OUL^R22).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from resources.errors import InvalidInput
from server.access.roles import AUTOMATE, DPI, PARTNER_ROLES, SOURCE_IDENTITE, SOUS_TRAITANT
from server.partners.options import parse_options

HL7_MESSAGES: dict[str, frozenset[str]] = {
    AUTOMATE: frozenset({"ORU^R01", "OUL^R22", "OUL^R23", "OUL^R24", "ORU^R30", "ORU^R32", "QBP^Q11"}),
    SOURCE_IDENTITE: frozenset({"ADT^*"}),
    DPI: frozenset({"OML^O21", "OML^O33"}),
    SOUS_TRAITANT: frozenset({"ORU^R01", "OUL^R22"}),
}
"""The HL7 message types each partner role (``server/access/roles.py``) may send (``ADT^*``: every event)."""
assert set(HL7_MESSAGES) == set(PARTNER_ROLES), "every partner role of server/access says what it may send"
ASTM_ROLES = frozenset({AUTOMATE})
"""Roles that may open an ASTM session (analyzer results and host queries)."""
IDENTITY_SOURCE = SOURCE_IDENTITE
IDENTIFIER_TYPES = frozenset({"PI", "PK", "MR", "PN", "PT", "AN", "VN", "NH", "INS", "NIIP", "RRI"})
"""HL7 table 0203 values a PID-3 identifier type may be read as (the IPP is ``PI``)."""


def allows(role: str, message_type: str) -> bool:
    """Whether ``role`` may send ``message_type`` (``ADT^A28``)."""
    allowed = HL7_MESSAGES.get(role, frozenset())
    return message_type in allowed or f"{message_type.split('^')[0]}^*" in allowed


@dataclass(frozen=True)
class Partner:
    name: str
    role: str
    hl7_application: str | None = None
    hl7_facility: str | None = None
    astm_sender: str | None = None
    addresses: tuple[str, ...] = ()
    """CIDR networks the partner connects from; empty: any address (the sender names alone decide)."""
    send_to: str | None = None
    """``HOST:PORT`` where the lab sends to this partner (results to a DPI, orders to an analyzer)."""
    identifier_types: dict[str, str] = field(default_factory=dict)
    """PID-3 / MRG-1 identifier type mapping for this sender (``{"MR": "PI"}``: its MR is the IPP)."""
    options: dict[str, str] = field(default_factory=dict)
    """Per-partner parsing options (``server/partners/options.py``), checked here, read by the analyzer handlers."""
    identity_updates: bool = False
    """A ``dpi`` partner that takes PAM-FR identity messages (ADT^A31 / A40) on its ``send_to`` port: it is told
    of the merges, status changes and trait corrections of the patients it received data of (SGL.INS.34/36).
    Off by default: many EHR result interfaces accept ORU only (an unsolicited ADT would come back as a NACK and
    a failure Task), and a hospital's own identity repository, not the lab, usually tells its EHR."""

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("a partner needs a name", expression="name")
        if self.role not in HL7_MESSAGES:
            raise InvalidInput(f"unknown partner role {self.role!r}; roles: {', '.join(PARTNER_ROLES)}",
                               expression="role")
        if not self.hl7_application and not self.astm_sender:
            raise InvalidInput("a partner needs --hl7-application or --astm-sender (how its messages name it)",
                               expression="hl7_application")
        if self.hl7_facility and not self.hl7_application:
            raise InvalidInput("--hl7-facility needs --hl7-application", expression="hl7_facility")
        if self.astm_sender and self.role not in ASTM_ROLES:
            raise InvalidInput(f"the role {self.role} sends no ASTM; --astm-sender is for an automate",
                               expression="astm_sender")
        parse_options(self.options)  # InvalidInput naming the accepted options
        for cidr in self.addresses:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise InvalidInput(f"--address {cidr!r} is not an IP address or CIDR network",
                                   expression="address") from exc
        if self.send_to is not None:
            host, _, port = self.send_to.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise InvalidInput(f"--send-to {self.send_to!r} is not HOST:PORT", expression="send_to")
        if self.identity_updates and (self.role != DPI or not self.send_to):
            raise InvalidInput("--identity-updates is for a dpi partner with --send-to (where the ADT go)",
                               expression="identity_updates")
        for source, target in self.identifier_types.items():
            if target not in IDENTIFIER_TYPES or not source:
                raise InvalidInput(f"identifier type mapping {source}={target}: the target must be one of "
                                   f"{', '.join(sorted(IDENTIFIER_TYPES))}", expression="identifier_type")

    def from_address(self, address: str | None) -> bool:
        if not self.addresses:
            return True
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(cidr, strict=False) for cidr in self.addresses)

    def to_document(self) -> dict[str, Any]:
        return {"_id": self.name, "role": self.role, "hl7_application": self.hl7_application,
                "hl7_facility": self.hl7_facility, "astm_sender": self.astm_sender,
                "addresses": list(self.addresses), "send_to": self.send_to,
                "identifier_types": dict(self.identifier_types), "options": dict(self.options),
                "identity_updates": self.identity_updates}

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Partner:
        return cls(str(doc["_id"]), str(doc["role"]), doc.get("hl7_application"), doc.get("hl7_facility"),
                   doc.get("astm_sender"), tuple(doc.get("addresses") or ()), doc.get("send_to"),
                   dict(doc.get("identifier_types") or {}), dict(doc.get("options") or {}),
                   bool(doc.get("identity_updates", False)))

    def describe(self) -> str:
        who = " ".join(f"{k}={v}" for k, v in (("hl7", self.hl7_application), ("facility", self.hl7_facility),
                                                ("astm", self.astm_sender)) if v)
        return f"{self.name} ({self.role}; {who}; from {', '.join(self.addresses) or 'any address'})"


def peer_address(peer: str) -> str:
    """The IP of an ``ip:port`` peer string (IPv6 too; ``replay of ip:port`` as the journal replay names it);
    the input when it has no port."""
    peer = peer.split()[-1] if peer.split() else peer
    host, sep, port = peer.rpartition(":")
    return host.strip("[]") if sep and port.isdigit() else peer
