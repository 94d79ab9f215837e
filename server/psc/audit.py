"""AuditEvents of Pro Santé Connect logins and logouts (DICOM 110114 User Authentication), success or
refusal with the reason, naming the professional by national id, never carrying a token."""

from __future__ import annotations

from typing import Any

from resources.fhirjson import instant
from resources.search.date import now_utc
from resources.store.base import FhirStore
from server.access.agents import server_source

_SUBTYPES = {"login": ("110122", "Login"), "logout": ("110123", "Logout")}


def login_event(action: str, *, outcome: str, detail: str, national_id: str | None, username: str | None,
                address: str | None) -> dict[str, Any]:
    code, display = _SUBTYPES[action]
    who: dict[str, Any] = {"display": username or national_id or "unknown professional"}
    if national_id:
        who["identifier"] = {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": national_id}
    agent: dict[str, Any] = {"who": who, "requestor": True,
                             "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleClass",
                                                  "code": "PROV", "display": "healthcare provider"}]}}
    if username:
        agent["altId"] = username
    if address:
        agent["network"] = {"address": address, "type": "2"}
    return {
        "resourceType": "AuditEvent",
        "type": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110114",
                 "display": "User Authentication"},
        "subtype": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": code, "display": display}],
        "action": "E", "recorded": instant(now_utc()), "outcome": outcome,
        "outcomeDesc": f"Pro Santé Connect: {detail}",
        "agent": [agent],
        "source": server_source(),
    }


async def record(store: FhirStore, action: str, *, outcome: str, detail: str, national_id: str | None = None,
                 username: str | None = None, address: str | None = None) -> None:
    await store.create(login_event(action, outcome=outcome, detail=detail, national_id=national_id,
                                   username=username, address=address))
