"""Read back what a delivery carries: the stored documents of its version (and of the one it replaces), the
report, its patient and results, as the plain ``DocumentSet`` a channel takes.

The documents are pinned (ids ``<report>-<fmt>-v<n>``); the report and results are read as they are now
(a later version has its own delivery, sent after this one).
"""

from __future__ import annotations

import base64
from typing import Any

from resources.errors import NotFound
from resources.store.base import FhirStore
from server.delivery.channel import Action, DeliveryItem, DeliverySettings, DocumentSet, Resource, StoredDocument
from server.delivery.notices import notice_set

FORMATS = ("n3", "n1", "pdf")
LEVEL = {"n3": "", "n1": ".n1", "pdf": ".pdf"}


async def _read(store: FhirStore, rtype: str, rid: str) -> Resource | None:
    try:
        return (await store.read(rtype, rid)).resource
    except NotFound:
        return None


async def _document(store: FhirStore, report_id: str, fmt: str, version: int) -> StoredDocument | None:
    ident = f"{report_id}-{fmt}-v{version}"
    binary, reference = await _read(store, "Binary", ident), await _read(store, "DocumentReference", ident)
    if binary is None or reference is None:
        return None
    master = reference.get("masterIdentifier") or {}
    root = str(master.get("system", "")).removeprefix("urn:oid:")
    unique = f"{root}^{master['value']}" if fmt != "pdf" and master.get("value") else None
    return StoredDocument(fmt, base64.b64decode(binary.get("data", "")), str(binary.get("contentType", "")),
                          ident, ident, unique, report_id + LEVEL[fmt] if fmt != "pdf" else None, version)


async def _documents(store: FhirStore, report_id: str, version: int) -> dict[str, StoredDocument]:
    if version < 1:
        return {}
    found = {fmt: await _document(store, report_id, fmt, version) for fmt in FORMATS}
    return {fmt: doc for fmt, doc in found.items() if doc is not None}


def delivery_item(stored: dict[str, Any]) -> DeliveryItem:
    return DeliveryItem(id=str(stored["_id"]), idempotency_key=str(stored["_id"]), channel=stored["channel"],
                        recipient=stored["recipient"], action=Action(stored["action"]), report_id=stored["report_id"],
                        document_version=int(stored["version"]), patient_id=str(stored.get("patient") or ""),
                        settings=DeliverySettings.from_dict(stored.get("settings") or {}),
                        attempt=int(stored.get("attempts", 0)) + 1, author=stored.get("author"),
                        extra=dict(stored.get("recipient_extra") or {}))


async def _patient(store: FhirStore, reference: str) -> Resource | None:
    kind, _, rid = reference.partition("/")
    return await _read(store, kind, rid) if kind == "Patient" and rid else None


async def document_set(store: FhirStore, item: DeliveryItem) -> DocumentSet:
    if item.action == Action.NOTICE:  # a message without a document (a refused tube's notice)
        return await notice_set(store, item)
    if item.action == Action.IDENTITY:  # a patient's change: the patient(s) as they are now, no report
        merged = str(item.extra.get("merged") or "")
        return DocumentSet({}, await _patient(store, item.patient_id) or {}, (), {},
                           merged_patient=await _patient(store, merged) if merged else None)
    report = await _read(store, "DiagnosticReport", item.report_id) or {"resourceType": "DiagnosticReport",
                                                                         "id": item.report_id}
    patient = await _patient(store, item.patient_id)
    results = []
    for ref in report.get("result", ()):
        kind, _, rid = str(ref.get("reference", "")).partition("/")
        found = await _read(store, kind, rid) if kind == "Observation" else None
        if found is not None:
            results.append(found)
    current = {} if item.action == Action.DELETE else await _documents(store, item.report_id, item.document_version)
    previous_version = item.document_version if item.action == Action.DELETE else item.document_version - 1
    previous = await _documents(store, item.report_id, previous_version)
    return DocumentSet(report, patient or {}, results, current, previous)
