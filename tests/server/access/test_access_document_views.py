"""A CR-Bio read through the plain FHIR API is traced as a view, as ``$cr-bio`` is (SGL.DOC.12): a read of
its DocumentReference or of the Binary holding the document names the caller, the patient and the document.
A Binary that is no CR-Bio records no document view, and a role not entitled to documents is refused."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import httpx
import pytest

from tests.support.access import ActAs, caller_id
from tests.support.dossiers import validated_report
from tests.support.validation_lab import Lab

pytestmark = pytest.mark.db


async def _documents_of(client: httpx.AsyncClient, report_id: str, deadline_s: float = 60.0) -> list[dict[str, Any]]:
    """The report's DocumentReferences, once produced (polled: documents may be made after the validation)."""
    deadline = time.monotonic() + deadline_s
    while True:
        found = (await client.get("DocumentReference", params={"related": f"DiagnosticReport/{report_id}"})).json()
        documents = [e["resource"] for e in found.get("entry", []) if e["search"]["mode"] == "match"]
        if documents or time.monotonic() > deadline:
            return documents
        await asyncio.sleep(0.5)


async def _views_of(client: httpx.AsyncClient, reference: str) -> list[dict[str, Any]]:
    traced = (await client.get("AuditEvent", params={"entity": reference})).json()
    return [e["resource"] for e in traced.get("entry", [])]


@pytest.mark.req("SGL.DOC.12")
async def test_reading_a_crbio_document_reference_or_binary_is_traced_as_a_view_SGL_DOC_12(
        lab: Lab, fhir: httpx.AsyncClient, act_as: ActAs) -> None:
    pid, report, _ = await validated_report(lab, {"GLU": 5.1})
    documents = await _documents_of(fhir, report["id"])
    assert documents, "the validated report has its CR-Bio documents"
    reference = documents[0]
    binary = reference["content"][0]["attachment"]["url"]
    assert binary.startswith("Binary/")
    secretary = await act_as("secretaire")
    assert (await secretary.get(f"DocumentReference/{reference['id']}")).status_code == 200
    assert (await secretary.get(binary)).status_code == 200
    for viewed in (f"DocumentReference/{reference['id']}", binary):
        views = [e for e in await _views_of(fhir, viewed)
                 if any(x.get("description") == f"CR-Bio {viewed}" for x in e["entity"])]
        assert len(views) == 1, views  # one read, one view (a Binary's view also names its DocumentReference)
        event = views[0]
        assert event["agent"][0]["who"]["identifier"]["value"] == caller_id(secretary)
        assert event["action"] == "R" and event["agent"][0]["role"][0]["coding"][0]["code"] == "secretaire"
        entities = {str(e.get("what", {}).get("reference")) for e in event["entity"]}
        assert {f"Patient/{pid}", f"DiagnosticReport/{report['id']}", viewed} <= entities


async def test_a_binary_that_is_no_crbio_records_no_document_view(fhir: httpx.AsyncClient) -> None:
    created = await fhir.post("Binary", json={"resourceType": "Binary", "contentType": "text/plain",
                                              "data": base64.b64encode(b"not a report").decode()})
    assert created.status_code == 201, created.text
    ref = f"Binary/{created.json()['id']}"
    assert (await fhir.get(ref)).status_code == 200
    assert await _views_of(fhir, ref) == []


@pytest.mark.req("SGL.DOC.12")
async def test_a_role_not_entitled_to_documents_cannot_read_a_crbio_binary_SGL_DOC_12(
        lab: Lab, fhir: httpx.AsyncClient, act_as: ActAs) -> None:
    _, report, _ = await validated_report(lab, {"UREA": 6.2})
    documents = await _documents_of(fhir, report["id"])
    binary = documents[0]["content"][0]["attachment"]["url"]
    technician = await act_as("technicien")
    refused = await technician.get(binary)
    assert refused.status_code == 403, refused.text
    assert not [e for e in await _views_of(fhir, binary)
                if e["agent"][0]["who"]["identifier"]["value"] == caller_id(technician)]
