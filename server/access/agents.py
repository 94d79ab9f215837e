"""How the authenticated caller is named in what the server writes (Provenance agents, performers,
resultsInterpreter, AuditEvent agents): the Practitioner it acts as when it has one, always with
the account or client id that authenticated, so a trace never names a process setting.

The AuditEvents the server writes for a caller (patient data access in ``server/audit.py``,
administration changes in ``admin_audit.py``) differ in type and entities but share their agent and
source blocks: both are built here, once."""

from __future__ import annotations

from typing import Any

from server.access.caller import Caller

CALLER_SYSTEM = "urn:opensgl:caller"
ROLE_SYSTEM = "urn:opensgl:role"


def caller_reference(caller: Caller, display: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"identifier": {"system": CALLER_SYSTEM, "value": caller.id},
                           "display": display or caller.display}
    if caller.practitioner:
        ref["reference"] = caller.practitioner
    return ref


def caller_agent(caller: Caller) -> dict[str, Any]:
    """The AuditEvent agent naming the authenticated caller (SGL.INS.17): account or client id, role, the
    Practitioner it acts as, and the network address it called from when it came over the network."""
    agent: dict[str, Any] = {"who": caller_reference(caller), "requestor": True,
                             "role": [{"coding": [{"system": ROLE_SYSTEM, "code": caller.role}]}]}
    if caller.address:
        agent["network"] = {"address": caller.address, "type": "2"}
    return agent


def server_source() -> dict[str, Any]:
    """The AuditEvent source: this application server (a fresh dict, as callers may extend it)."""
    return {"observer": {"display": "OpenSGL"},
            "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4",
                      "display": "Application Server"}]}
