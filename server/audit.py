"""The access trace to identities (SGL.INS.03): every read or search that returns a Patient is
recorded as an AuditEvent naming who, when, what interaction and which patients."""

from __future__ import annotations

import logging
from typing import Any

from resources.fhirjson import instant
from resources.search.date import now_utc
from resources.store.base import FhirStore
from server.access.agents import caller_reference
from server.access.caller import Caller

log = logging.getLogger(__name__)

_SUBTYPES = {"read": "read", "vread": "vread", "search": "search-type", "history": "history-instance",
             "batch": "batch", "transaction": "transaction"}


def patients_in(body: dict[str, Any] | None) -> list[str]:
    """Ids of the Patients a response carries (a Patient, or Patients inside a Bundle)."""
    if not body:
        return []
    if body.get("resourceType") == "Patient":
        return [body["id"]]
    out: list[str] = []
    for entry in body.get("entry", []):
        res = entry.get("resource") or {}
        if res.get("resourceType") == "Patient":
            out.append(res["id"])
        elif res.get("resourceType") == "Bundle":
            out.extend(patients_in(res))
    return list(dict.fromkeys(out))


def agent_of(who: Caller) -> dict[str, Any]:
    """The AuditEvent agent naming the authenticated caller (SGL.INS.17): account or client id, role, the
    Practitioner it acts as, its network address."""
    agent: dict[str, Any] = {"who": caller_reference(who), "requestor": True,
                             "role": [{"coding": [{"system": "urn:opensgl:role", "code": who.role}]}]}
    if who.address:
        agent["network"] = {"address": who.address, "type": "2"}
    return agent


def audit_event(patient_ids: list[str], *, who: Caller, interaction: str, query: str | None) -> dict[str, Any]:
    agent = agent_of(who)
    entities: list[dict[str, Any]] = [
        {"what": {"reference": f"Patient/{pid}"},
         "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1",
                  "display": "Person"},
         "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"}}
        for pid in patient_ids
    ]
    if query:
        entities.append({"type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2"},
                         "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "24",
                                  "display": "Query"},
                         "description": query[:1000]})
    return {
        "resourceType": "AuditEvent",
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest",
                 "display": "RESTful Operation"},
        "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": _SUBTYPES.get(interaction,
                                                                                               interaction)}],
        "action": "E" if interaction in ("search", "batch", "transaction") else "R",
        "recorded": instant(now_utc()),
        "outcome": "0",
        "agent": [agent],
        "source": {"observer": {"display": "OpenSGL"},
                   "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4",
                             "display": "Application Server"}]},
        "entity": entities,
    }


async def record_patient_access(store: FhirStore, body: dict[str, Any] | None, *, who: Caller, interaction: str,
                                query: str | None = None) -> None:
    ids = patients_in(body)
    if not ids:
        return
    await store.create(audit_event(ids, who=who, interaction=interaction, query=query))
    log.info("audit: %s %s %d patient(s) by %s", interaction, "Patient", len(ids), who.id)
