"""``$import-crbio``: a subcontractor's CR-Bio (N3, N1, self-presenting) or PDF into a patient file.

    POST /fhir/Patient/{id}/$import-crbio      body: the document (XML or PDF bytes)

SGL.DOC.22 (manual import) and the storage half of SGL.DOC.18. In one transaction: the executing
lab(s) as Organization, the document and its PDF copy as Binary, one DocumentReference (author =
the executing lab, ``relatesTo`` none, never sent on its own: SGL.DOC.14 — delivery only sends our
own reports), and for an N3 its structured results as Observations (``performer`` = the executing
lab, ``derivedFrom`` = the DocumentReference, ``basedOn`` our order when the document's order
number is one of our requisitions). The document's patient (INS, birth name, first names, birth date,
sex) must be the target Patient (``identity_check``): a mismatch is 422 with the reasons, nothing
stored. Those results then appear in our own report's N3 and PDF,
naming the executing lab (SGL.DOC.13, second option). Answers 201 with a ``collection`` Bundle of
what was stored. A document that is neither CDA nor PDF is 400 and nothing is stored.

The writes skip the workflows' write rules on purpose: these results were validated by the
executing lab, and the validation write rules are about our own analyzer results (a final
Observation may only become final through our validation steps). Who may import is the permission
table's ``$import-crbio`` row; the import writes a Provenance naming the authenticated caller.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from concurrent.futures import Executor
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from facades.cda import SubcontractedReport, read_crbio
from resources import interactions
from resources.errors import NotFound
from resources.fhirjson import instant
from resources.interactions import ReferenceCheck
from resources.search.date import now_utc
from resources.store.base import FhirStore, Stored
from server.access.caller import Caller
from server.audit import provenance
from server.deps import CallerDep, ContextDep, StoreDep
from server.documents.gather import Resource
from server.documents.identity_check import check_identity
from server.documents.storage import FORMATS, LAB_REPORT_TYPE, attachment, put
from server.responses import fhir_response

router = APIRouter()
SUBCONTRACTED = {"coding": [{"system": "https://opensgl.org/fhir/CodeSystem/document-origin", "code": "subcontracted",
                             "display": "Compte rendu d'un laboratoire exécutant, jamais transmis tel quel"}]}
"""Category of an imported document: delivery (DMP, MSSanté) must not send it on its own (SGL.DOC.14)."""


async def _order(store: FhirStore, patient_id: str, number: str | None) -> list[dict[str, str]]:
    """Our ServiceRequests of that patient whose requisition is the document's order number."""
    if not number:
        return []
    query = [("requisition", number), ("patient", f"Patient/{patient_id}"), ("_count", "50")]
    bundle = await interactions.search(store, "ServiceRequest", query, base="")
    return [{"reference": f"ServiceRequest/{e['resource']['id']}"} for e in bundle.get("entry", ())
            if e["search"]["mode"] == "match"]


def _relinked(resource: Resource, ids: dict[str, str]) -> Any:
    """Local references of the read document (``Observation/cda-obs-3``) -> the ids stored here; elements the
    document left empty (``None``) dropped, as FHIR JSON has no nulls."""
    if isinstance(resource, dict):
        return {k: (ids.get(v, v) if k == "reference" else _relinked(v, ids)) for k, v in resource.items()
                if v is not None}
    if isinstance(resource, list):
        return [_relinked(v, ids) for v in resource]
    return resource


async def read_off_loop(document: bytes, pool: Executor | None) -> SubcontractedReport:
    """``read_crbio`` in the document pool (parsing a CDA of several MB is CPU work the event loop must not do),
    or in a thread before the pool exists; its ``NotACda`` / ``InvalidInput`` come back as raised there."""
    if pool is None:
        return await asyncio.to_thread(read_crbio, document)
    return await asyncio.get_running_loop().run_in_executor(pool, read_crbio, document)


async def import_crbio(store: FhirStore, patient_id: str, document: bytes, caller: Caller,
                       pool: Executor | None = None) -> list[Resource]:
    patient = (await store.read("Patient", patient_id)).resource or {}  # NotFound before anything is read or written
    read = await read_off_loop(document, pool)
    check_identity(patient, read.patient, read.level)  # 422 before any write: never the wrong patient's file
    basis = await _order(store, patient_id, read.order_number)
    prefix = uuid.uuid4().hex[:16]
    ids = {f"{r['resourceType']}/{r['id']}": f"{r['resourceType']}/{prefix}-{r['id']}"
           for r in (*read.organizations, *read.observations, *read.specimens)}
    fmt = {"N3": "n3", "N1": "n1", "PDF": "pdf"}[read.level]
    created, doc_ref = instant(now_utc()), f"{prefix}-imported"
    lab = read.organizations[0] if read.organizations else None
    contents = [(fmt, document)] + ([("pdf", read.pdf)] if read.pdf and fmt != "pdf" else [])
    stored: list[Resource] = []
    refs = ReferenceCheck(deferred=True)  # a panel comes before its members (hasMember): looked up once all are written
    async with store.transaction() as session:
        for resource in (*read.organizations, *read.specimens):
            out = _relinked({**resource, "id": ids[f"{resource['resourceType']}/{resource['id']}"].split("/")[1]}, ids)
            if resource["resourceType"] == "Specimen":  # held by the executing lab, not in our racks
                out.update(subject={"reference": f"Patient/{patient_id}"}, status=out.get("status", "unavailable"))
            await put(store, out, session, refs)
            stored.append(out)
        content = []
        for index, (kind, data) in enumerate(contents):
            binary = {"resourceType": "Binary", "id": f"{doc_ref}-{index}", "contentType": FORMATS[kind][0],
                      "data": base64.b64encode(data).decode("ascii")}
            await put(store, binary, session, refs)
            content.append({"attachment": attachment(FORMATS[kind][0], data, f"Binary/{binary['id']}",
                                                     f"CR sous-traitant ({kind.upper()})", created),
                            "format": FORMATS[kind][1]})
        reference: Resource = {
            "resourceType": "DocumentReference", "id": doc_ref, "status": "current", "docStatus": "final",
            "type": LAB_REPORT_TYPE, "subject": {"reference": f"Patient/{patient_id}"}, "date": created,
            "description": "Compte rendu du laboratoire sous-traitant (import manuel)", "content": content,
            "category": [SUBCONTRACTED],
            "author": [{"reference": ids[f"Organization/{lab['id']}"]}] if lab else [],
        }
        if read.document_id:
            reference["masterIdentifier"] = {"value": read.document_id}
        if basis:
            reference["context"] = {"related": basis}
        await put(store, reference, session, refs)
        stored.append(reference)
        for observation in read.observations:
            out = _relinked({**observation, "id": ids[f"Observation/{observation['id']}"].split("/")[1]}, ids)
            out.update(subject={"reference": f"Patient/{patient_id}"},
                       derivedFrom=[{"reference": f"DocumentReference/{doc_ref}"}])
            if basis:
                out["basedOn"] = basis
            await put(store, out, session, refs)
            stored.append(out)
        await refs.verify(store, session)
        written = [Stored(r["resourceType"], r["id"], 1, now_utc(), r, "PUT") for r in stored]
        await store.create(provenance(written, caller, "CREATE", "$import-crbio: CR-Bio of a subcontracting lab "
                                      f"imported into Patient/{patient_id}"), session=session)
    return stored


@router.post("/Patient/{pid}/$import-crbio")
async def post_import(pid: str, request: Request, store: StoreDep, caller: CallerDep, ctx: ContextDep) -> Response:
    try:
        stored = await import_crbio(store, pid, await request.body(), caller, ctx.document_pool)
    except NotFound as exc:
        raise NotFound(f"Patient/{pid} is not stored", expression="Patient") from exc
    entries = [{"resource": r, "fullUrl": f"{r['resourceType']}/{r['id']}"} for r in stored]
    return fhir_response({"resourceType": "Bundle", "type": "collection", "entry": entries}, status=201)
