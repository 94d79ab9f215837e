"""The trail: the access trace to identities (SGL.INS.03, INS.17), every read or search that returns a
Patient recorded as an AuditEvent naming the authenticated caller, when, what interaction and which
patients; each view of a CR-Bio (``$cr-bio``, or a read of its DocumentReference or Binary: SGL.DOC.12);
and the Provenance of a write made by a caller (orders, LOINC edits)."""

from __future__ import annotations

import logging
from typing import Any

from resources.codes import LAB_REPORT_LOINC, LOINC_SYSTEM
from resources.errors import Gone, NotFound
from resources.fhirjson import instant
from resources.search.date import now_utc
from resources.store.base import FhirStore, Stored
from server.access.agents import caller_agent, caller_reference, server_source
from server.access.caller import Caller

log = logging.getLogger(__name__)

_SUBTYPES = {"read": "read", "vread": "vread", "search": "search-type", "history": "history-instance",
             "batch": "batch", "transaction": "transaction", "create": "create", "update": "update",
             "delete": "delete"}
_ACTIONS = {"search": "E", "batch": "E", "transaction": "E", "create": "C", "update": "U", "delete": "D"}


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


def audit_event(patient_ids: list[str], *, who: Caller, interaction: str, query: str | None,
                others: tuple[str, ...] = ()) -> dict[str, Any]:
    entities: list[dict[str, Any]] = [
        {"what": {"reference": f"Patient/{pid}"},
         "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1",
                  "display": "Person"},
         "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"}}
        for pid in patient_ids
    ]
    entities += [{"what": {"reference": ref},
                  "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2",
                           "display": "System Object"}} for ref in others]
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
        "action": _ACTIONS.get(interaction, "R"),
        "recorded": instant(now_utc()),
        "outcome": "0",
        "agent": [caller_agent(who)],
        "source": server_source(),
        "entity": entities,
    }


async def record_patient_access(store: FhirStore, body: dict[str, Any] | None, *, who: Caller, interaction: str,
                                query: str | None = None, patient_ids: list[str] | None = None) -> None:
    """Trace the Patients an answer carries (or ``patient_ids``: a delete answers no body)."""
    ids = patient_ids if patient_ids is not None else patients_in(body)
    if not ids:
        return
    await store.create(audit_event(ids, who=who, interaction=interaction, query=query))
    log.info("audit: %s %s %d patient(s) by %s", interaction, "Patient", len(ids), who.id)


async def record_document_access(store: FhirStore, report: dict[str, Any], *, who: Caller, detail: str) -> None:
    """A CR-Bio viewed or downloaded (SGL.DOC.12): the report, its documents and its patient, by the caller."""
    subject = str((report.get("subject") or {}).get("reference", ""))
    patients = [subject.split("/", 1)[1]] if subject.startswith("Patient/") else []
    forms = [str(f["url"]) for f in report.get("presentedForm", ()) if f.get("url")]
    others = (f"DiagnosticReport/{report.get('id')}", *forms)
    await store.create(audit_event(patients, who=who, interaction="read", query=detail, others=others))
    log.info("audit: CR-Bio of DiagnosticReport/%s read by %s", report.get("id"), who.id)


def provenance(written: list[Stored], caller: Caller, activity: str, reason: str) -> dict[str, Any]:
    """A Provenance for the versions in ``written``; ``activity`` is ``CREATE`` or ``UPDATE``."""
    return {
        "resourceType": "Provenance",
        "target": [{"reference": f"{s.resource_type}/{s.id}/_history/{s.vid}"} for s in written],
        "recorded": instant(now_utc()),
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                 "code": activity}]},
        "reason": [{"text": reason}],
        "agent": [{
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                 "code": "enterer", "display": "Enterer"}]},
            "role": [{"text": caller.role}],
            "who": caller_reference(caller),
        }],
    }


def _is_crbio(reference: dict[str, Any] | None) -> bool:
    codings = ((reference or {}).get("type") or {}).get("coding", ())
    return (reference or {}).get("resourceType") == "DocumentReference" and any(
        c.get("system") == LOINC_SYSTEM and c.get("code") == LAB_REPORT_LOINC for c in codings)


async def _reference_of_binary(store: FhirStore, binary_id: str) -> dict[str, Any] | None:
    """The CR-Bio DocumentReference whose content is ``Binary/<id>``: stored under the same id (documents the
    lab made) or the id without its ``-<n>`` suffix (a subcontractor's imported files), checked by its content."""
    for rid in dict.fromkeys((binary_id, binary_id.rpartition("-")[0] or binary_id)):
        try:
            reference = (await store.read("DocumentReference", rid)).resource
        except (NotFound, Gone):
            continue
        urls = {str(c.get("attachment", {}).get("url")) for c in (reference or {}).get("content", ())}
        if _is_crbio(reference) and f"Binary/{binary_id}" in urls:
            return reference
    return None


async def record_document_read(store: FhirStore, resource: dict[str, Any] | None, *, who: Caller,
                               interaction: str) -> None:
    """A CR-Bio viewed through the plain FHIR API (SGL.DOC.12), as ``$cr-bio`` is: a read of its
    DocumentReference, or of the Binary holding the document itself, names the caller, the patient and
    the document. Any other resource is not a document view and records nothing here."""
    rtype = (resource or {}).get("resourceType")
    if resource is None or rtype not in ("Binary", "DocumentReference"):
        return
    reference = resource if rtype == "DocumentReference" else await _reference_of_binary(store, str(resource["id"]))
    if reference is None or not _is_crbio(reference):
        return
    subject = str((reference.get("subject") or {}).get("reference", ""))
    patients = [subject.split("/", 1)[1]] if subject.startswith("Patient/") else []
    related = [str(r["reference"]) for r in (reference.get("context") or {}).get("related", ()) if r.get("reference")]
    viewed = f"{rtype}/{resource['id']}"
    others = tuple(dict.fromkeys((viewed, f"DocumentReference/{reference['id']}", *related)))
    await store.create(audit_event(patients, who=who, interaction=interaction, query=f"CR-Bio {viewed}",
                                   others=others))
    log.info("audit: CR-Bio %s read by %s", viewed, who.id)
