"""How the authenticated caller is named in what the server writes (Provenance agents, performers,
resultsInterpreter, AuditEvent agents): the Practitioner it acts as when it has one, always with
the account or client id that authenticated, so a trace never names a process setting."""

from __future__ import annotations

from typing import Any

from server.access.caller import Caller

CALLER_SYSTEM = "urn:opensgl:caller"


def caller_reference(caller: Caller, display: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"identifier": {"system": CALLER_SYSTEM, "value": caller.id},
                           "display": display or caller.display}
    if caller.practitioner:
        ref["reference"] = caller.practitioner
    return ref
