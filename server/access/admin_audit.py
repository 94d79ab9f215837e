"""The trace of an administration change: a DICOM "Security Roles Changed" (role given or changed) or
"User Security Attributes Changed" (account created, disabled, password reset, partner registered or
removed) AuditEvent naming the administrator and the account or partner. A password never enters it.
Kept in ``server/access`` so that the account and the partner services (``access/administration.py``,
``partners/administration.py``) both write it without importing each other."""

from __future__ import annotations

from typing import Any

from resources.fhirjson import instant
from resources.search.date import now_utc
from resources.store.base import FhirStore
from server.access.agents import caller_agent, server_source
from server.access.caller import Caller

ROLES_CHANGED = ("110136", "Security Roles Changed")
ATTRIBUTES_CHANGED = ("110137", "User Security Attributes Changed")
ADMIN_SYSTEM = "urn:opensgl:admin"
ACCOUNT_SYSTEM = "urn:opensgl:user"
PARTNER_SYSTEM = "urn:opensgl:partner"


def admin_event(who: Caller, action: str, *, target_system: str, target: str, detail: str,
                kind: tuple[str, str] = ATTRIBUTES_CHANGED, outcome: str = "0") -> dict[str, Any]:
    code, display = kind
    return {
        "resourceType": "AuditEvent",
        "type": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": code, "display": display},
        "subtype": [{"system": ADMIN_SYSTEM, "code": action}],
        "action": "D" if action.endswith("remove") else "C" if action.endswith("create") else "U",
        "recorded": instant(now_utc()), "outcome": outcome, "outcomeDesc": detail[:1000],
        "agent": [caller_agent(who)],
        "source": server_source(),
        "entity": [{"what": {"identifier": {"system": target_system, "value": target}, "display": target},
                    "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2",
                             "display": "System Object"},
                    "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "11",
                             "display": "Security User Entity"}}],
    }


async def trace(store: FhirStore, who: Caller, action: str, *, target_system: str, target: str, detail: str,
                kind: tuple[str, str] = ATTRIBUTES_CHANGED) -> None:
    await store.create(admin_event(who, action, target_system=target_system, target=target, detail=detail,
                                   kind=kind))
