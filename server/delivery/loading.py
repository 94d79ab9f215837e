"""Read back what a delivery carries: the stored documents of its version (and of the one it replaces), the
report, its patient and results, as the plain ``DocumentSet`` a channel takes.

The documents are pinned (ids ``<report>-<fmt>-v<n>``); the report and results are read as they are now
(a later version has its own delivery, sent after this one).

Routing of the two versions (SGL.DOC.02): a delivery to the patient (``extra.audience == "patient"``: MSSanté
patient, automatic or chosen by hand) carries the patient version (``<report>-patient-<fmt>-v<n>``: N3 + PDF)
when the lab made one for that version; every other delivery (professionals over MSSanté, EHRs over HL7 v2,
the DMP) carries the professional version, which is the single version's ids. No patient version (a lab with
one version, or a version made before the lab chose two): the patient gets the one there is.
"""

from __future__ import annotations

import base64
from typing import Any

from resources.codes import PATIENT_COPY_ID_PREFIX
from resources.store.base import FhirStore, read_or_none
from server.delivery.channel import Action, DeliveryItem, DeliverySettings, DocumentSet, Resource, StoredDocument
from server.delivery.notices import notice_set

FORMATS = ("n3", "n1", "pdf")
LEVEL = {"n3": "", "n1": ".n1", "pdf": ".pdf"}


async def _document(store: FhirStore, report_id: str, fmt: str, version: int,
                    prefix: str = "") -> StoredDocument | None:
    ident = f"{report_id}-{prefix}{fmt}-v{version}"
    binary = await read_or_none(store, "Binary", ident)
    reference = await read_or_none(store, "DocumentReference", ident)
    if binary is None or reference is None:
        return None
    master = reference.get("masterIdentifier") or {}
    root = str(master.get("system", "")).removeprefix("urn:oid:")
    unique = f"{root}^{master['value']}" if fmt != "pdf" and master.get("value") else None
    set_id = str(master.get("value", "")).removesuffix(f".{version}") if prefix else report_id + LEVEL[fmt]
    return StoredDocument(fmt, base64.b64decode(binary.get("data", "")), str(binary.get("contentType", "")),
                          ident, ident, unique, set_id if fmt != "pdf" else None, version)


async def _documents(store: FhirStore, report_id: str, version: int, patient: bool = False
                     ) -> dict[str, StoredDocument]:
    """The version's documents; for the patient, its own version when the lab made one, else the only one."""
    if version < 1:
        return {}
    if patient:
        own = {fmt: await _document(store, report_id, fmt, version, PATIENT_COPY_ID_PREFIX) for fmt in FORMATS}
        if own["n3"] is not None:
            return {fmt: doc for fmt, doc in own.items() if doc is not None}
    found = {fmt: await _document(store, report_id, fmt, version) for fmt in FORMATS}
    return {fmt: doc for fmt, doc in found.items() if doc is not None}


def tried(stored: dict[str, Any]) -> int:
    """This try's number, counting the tries a ``kill -9`` or a lost lease cut short (``takes``, lease.py): those
    never recorded an attempt, yet the partner may have acted on them, so the channel must know this is a resend
    (the DMP asks ITI-18 first: a second ITI-57 of a deleted entry is refused)."""
    return max(int(stored.get("attempts", 0)) + 1, int(stored.get("takes", 0)))


def delivery_item(stored: dict[str, Any]) -> DeliveryItem:
    return DeliveryItem(id=str(stored["_id"]), idempotency_key=str(stored["_id"]), channel=stored["channel"],
                        recipient=stored["recipient"], action=Action(stored["action"]), report_id=stored["report_id"],
                        document_version=int(stored["version"]), patient_id=str(stored.get("patient") or ""),
                        settings=DeliverySettings.from_dict(stored.get("settings") or {}),
                        attempt=tried(stored), author=stored.get("author"),
                        extra=dict(stored.get("recipient_extra") or {}))


async def _patient(store: FhirStore, reference: str) -> Resource | None:
    kind, _, rid = reference.partition("/")
    return await read_or_none(store, kind, rid) if kind == "Patient" and rid else None


async def document_set(store: FhirStore, item: DeliveryItem) -> DocumentSet:
    if item.action == Action.NOTICE:  # a message without a document (a refused tube's notice)
        return await notice_set(store, item)
    if item.action == Action.IDENTITY:  # a patient's change: the patient(s) as they are now, no report
        merged = str(item.extra.get("merged") or "")
        return DocumentSet({}, await _patient(store, item.patient_id) or {}, (), {},
                           merged_patient=await _patient(store, merged) if merged else None)
    report = await read_or_none(store, "DiagnosticReport", item.report_id) or {"resourceType": "DiagnosticReport",
                                                                         "id": item.report_id}
    patient = await _patient(store, item.patient_id)
    results = []
    for ref in report.get("result", ()):
        kind, _, rid = str(ref.get("reference", "")).partition("/")
        found = await read_or_none(store, kind, rid) if kind == "Observation" else None
        if found is not None:
            results.append(found)
    patient_copy = item.extra.get("audience") == "patient"
    current = {} if item.action == Action.DELETE else await _documents(store, item.report_id, item.document_version,
                                                                       patient_copy)
    previous_version = item.document_version if item.action == Action.DELETE else item.document_version - 1
    previous = await _documents(store, item.report_id, previous_version, patient_copy)
    return DocumentSet(report, patient or {}, results, current, previous)
