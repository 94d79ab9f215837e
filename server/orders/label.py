"""``GET /fhir/Specimen/{id}/$label``: the specimen's barcode label as a PDF (facades/pdf/labels).

Reads the Specimen, its Patient and the exams it was taken for (``Specimen.request``, else the
ServiceRequests pointing at it), and hands them to ``render_specimen_label`` (in a worker thread:
layout is CPU work). Printing an identity is an access to it, so it is audited (SGL.INS.03).
"""

from __future__ import annotations

import asyncio
from typing import Any

from facades.pdf.labels import render_specimen_label
from resources.errors import Unprocessable
from resources.interactions.search import plan_search
from resources.search.query import MAX_COUNT
from resources.search.reference import split
from resources.store.base import FhirStore
from server.access.caller import Caller
from server.audit import record_patient_access


async def specimen_label(store: FhirStore, specimen_id: str, caller: Caller) -> bytes:
    specimen = (await store.read("Specimen", specimen_id)).resource or {}
    subject = split((specimen.get("subject") or {}).get("reference", ""))
    if subject is None or subject[0] != "Patient":
        raise Unprocessable(f"Specimen/{specimen_id} has no Patient subject to print", expression="Specimen.subject")
    patient = (await store.read("Patient", subject[1])).resource or {}
    exams = [_label(r) for r in await _requests(store, specimen)]
    await record_patient_access(store, patient, who=caller, interaction="read",
                                query=f"Specimen/{specimen_id}/$label")
    return await asyncio.to_thread(render_specimen_label, specimen, patient, exams)


async def _requests(store: FhirStore, specimen: dict[str, Any]) -> list[dict[str, Any]]:
    req = await plan_search(store, "ServiceRequest", [("specimen", f"Specimen/{specimen['id']}"),
                                                      ("_count", str(MAX_COUNT))], strict=True)
    return (await store.search(req)).matches


def _label(request: dict[str, Any]) -> str:
    code = request.get("code") or {}
    return str(code.get("text") or next((c.get("display") or c.get("code") for c in code.get("coding", [])), "?"))
