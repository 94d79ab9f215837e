"""``$cr-bio``: the current CR-Bio of a report in one format, to view or download (SGL.DOC.12).

    GET /fhir/DiagnosticReport/{id}/$cr-bio?format=n3|n1|pdf     (default pdf)
        [&audience=patient]   the patient version, when the lab makes two (SGL.DOC.02; N3 and PDF)

Answers the document itself (``application/xml`` / ``application/pdf``) with its file name in
``Content-Disposition``. A GET never writes: a validated report whose documents are still being made
(``documents-status`` ``in-progress``, see ``producer.py``) answers 409 (retry shortly); one whose
production failed answers 422 with the reason (the worklist Task has it too). A report not biologically
validated has none (422 ``SGL.DOC.12``).
Each view or download is traced by an AuditEvent naming the authenticated caller (SGL.DOC.12).
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from resources.errors import Conflict, InvalidInput, RuleViolation
from resources.interactions import WriteRule
from resources.store.base import FhirStore
from server.access.enforce import request_caller
from server.audit import record_document_access
from server.deps import StoreDep, WriteRuleDep
from server.documents.audience import ID_PREFIX, PATIENT
from server.documents.jobs import documents_status
from server.documents.storage import FORMATS
from server.documents.trigger import DOCUMENTED
from server.responses import fhir_response
from server.validation.steps import retried, workflow_step

router = APIRouter()
MEDIA = {"n3": "application/xml", "n1": "application/xml", "pdf": "application/pdf"}


class BeingProduced(Conflict):
    """409: the documents of this version are being made (never made by a GET)."""


async def current_documents(store: FhirStore, report_id: str) -> dict[str, Any]:
    """The report, when it has documents (read only)."""
    report = (await store.read("DiagnosticReport", report_id)).resource or {}
    if report.get("status") not in DOCUMENTED:
        raise RuleViolation("SGL.DOC.12", f"DiagnosticReport/{report_id} is {report.get('status')}: no result is "
                            "biologically validated, so it has no CR-Bio yet", expression="DiagnosticReport.status")
    if report.get("presentedForm"):
        return report
    status = documents_status(report)
    if status == "in-progress":
        raise BeingProduced(f"the CR-Bio of DiagnosticReport/{report_id} is being produced; retry in a few seconds")
    cause = "could not be produced (the worklist Task names the cause)" if status == "failed" else "was never produced"
    raise RuleViolation("SGL.DOC.12", f"the CR-Bio of DiagnosticReport/{report_id} {cause}; once the cause is fixed, "
                        f"POST DiagnosticReport/{report_id}/$produce-documents",
                        expression="DiagnosticReport.extension")


@retried
async def request_documents(store: FhirStore, write_rule: WriteRule | None, report_id: str) -> dict[str, Any]:
    """Pin a document job for the report as it is (the trigger decides whether anything must be made)."""
    report = (await store.read("DiagnosticReport", report_id)).resource or {}
    if report.get("status") not in DOCUMENTED:
        raise RuleViolation("SGL.DOC.12", f"DiagnosticReport/{report_id} is {report.get('status')}: nothing is "
                            "biologically validated", expression="DiagnosticReport.status")
    async with workflow_step(store, write_rule, "documents-request") as writer:
        return await writer.update(report)


def _is_form(form: dict[str, Any], fmt: str, audience: str | None) -> bool:
    """A ``presentedForm`` of that format and version: ``Binary/<report>-[patient-]<fmt>-v<n>``."""
    head, _, _ = str(form.get("url", "")).rpartition("-")
    patient = head.endswith(f"-{ID_PREFIX[PATIENT]}{fmt}")
    return head.endswith(f"-{fmt}") and patient == (audience == PATIENT) and form.get("contentType") == FORMATS[fmt][0]


async def crbio_document(store: FhirStore, report_id: str, fmt: str, audience: str | None = None
                         ) -> tuple[bytes, str, dict[str, Any]]:
    """The bytes and the file name of the report's current document in that format (and version: ``patient``;
    else the single or professional one)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format {fmt!r} must be one of {', '.join(FORMATS)}", expression="format")
    if audience not in (None, "", PATIENT, "professional"):
        raise InvalidInput(f"audience {audience!r} must be patient or professional", expression="audience")
    report = await current_documents(store, report_id)
    form = next((f for f in report.get("presentedForm", ()) if _is_form(f, fmt, audience)), None)
    if form is None:
        which = " patient" if audience == PATIENT else ""
        raise RuleViolation("SGL.DOC.12", f"DiagnosticReport/{report_id} has no{which} {fmt} document",
                            expression="DiagnosticReport.presentedForm")
    binary = (await store.read("Binary", form["url"].removeprefix("Binary/"))).resource or {}
    return base64.b64decode(binary.get("data", "")), str(form.get("title", f"{report_id}.{fmt}")), report


@router.get("/DiagnosticReport/{rid}/$cr-bio")
async def get_crbio(rid: str, request: Request, store: StoreDep, format: str = "pdf",
                    audience: str | None = None) -> Response:
    content, name, report = await crbio_document(store, rid, format, audience)
    which = f" audience={audience}" if audience else ""
    await record_document_access(store, report, who=request_caller(request), detail=f"$cr-bio format={format}{which}")
    return Response(content=content, media_type=MEDIA[format],
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@router.post("/DiagnosticReport/{rid}/$produce-documents")
async def produce_documents(rid: str, store: StoreDep, write_rule: WriteRuleDep) -> Response:
    """Ask for the report's documents again (after a failure whose cause was fixed, or for a report stored
    without them): the answer is the report, whose ``documents-status`` says what happens."""
    return fhir_response(await request_documents(store, write_rule, rid))
