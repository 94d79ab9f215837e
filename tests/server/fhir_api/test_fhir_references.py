"""Referential integrity over real HTTP (a running ``sgl serve``): the hostile probe's ``DocumentReference.subject`` =
``Patient/None`` was answered 201 (session 9, /work/notes/hostile.md); a reference that resolves to nothing is
now 422 with an OperationOutcome naming the element and the reference, and nothing is stored. The absolute URL
of a resource on this server (as a client copies it from a ``Location`` or a ``fullUrl``) resolves."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.db
FHIR = {"Content-Type": "application/fhir+json"}
LOINC = "http://loinc.org"


def _document_reference(subject: str) -> dict[str, Any]:
    return {"resourceType": "DocumentReference", "status": "current",
            "type": {"coding": [{"system": LOINC, "code": "11502-2", "display": "CR d'examens biologiques"}]},
            "subject": {"reference": subject}, "description": f"ref-{uuid.uuid4().hex[:10]}",
            "content": [{"attachment": {"contentType": "application/pdf", "url": "Binary/crbio-http"}}]}


async def test_a_document_for_patient_none_is_422_and_not_stored(fhir: httpx.AsyncClient) -> None:
    body = _document_reference("Patient/None")
    r = await fhir.post("DocumentReference", json=body, headers=FHIR)
    assert r.status_code == 422, r.text
    issue = r.json()["issue"][0]
    assert r.json()["resourceType"] == "OperationOutcome"
    assert issue["code"] == "processing" and issue["expression"] == ["DocumentReference.subject"]
    assert "Patient/None" in issue["diagnostics"]
    found = await fhir.get("DocumentReference", params={"subject": "Patient/None", "_summary": "count"})
    assert found.json()["total"] == 0
    patient = await fhir.post("Patient", json={"resourceType": "Patient", "name": [{"family": "Roux"}]}, headers=FHIR)
    order = {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
             "code": {"coding": [{"system": LOINC, "code": "2345-7"}]},
             "subject": {"reference": f"Patient/{patient.json()['id']}"}}
    stored = await fhir.post("ServiceRequest", json=order, headers=FHIR)
    assert stored.status_code == 201, stored.text
    put = await fhir.put(f"ServiceRequest/{stored.json()['id']}",
                         json={**stored.json(), "subject": {"reference": "Patient/None"}}, headers=FHIR)
    assert put.status_code == 422 and put.json()["issue"][0]["expression"] == ["ServiceRequest.subject"]


async def test_an_existing_patient_by_relative_or_absolute_reference_is_accepted(fhir: httpx.AsyncClient) -> None:
    created = await fhir.post("Patient", json={"resourceType": "Patient", "name": [{"family": "Lefebvre"}]},
                              headers=FHIR)
    pid = created.json()["id"]
    base = str(fhir.base_url).rstrip("/")
    for ref in (f"Patient/{pid}", f"{base}/Patient/{pid}"):
        r = await fhir.post("DocumentReference", json=_document_reference(ref), headers=FHIR)
        assert r.status_code == 201, (ref, r.text)
    assert (await fhir.delete(f"Patient/{pid}")).status_code == 204
    r = await fhir.post("DocumentReference", json=_document_reference(f"Patient/{pid}"), headers=FHIR)
    assert r.status_code == 422 and "was deleted" in r.json()["issue"][0]["diagnostics"]


async def test_a_transaction_with_a_stray_urn_is_refused_whole(fhir: httpx.AsyncClient) -> None:
    family = f"Urn{uuid.uuid4().hex[:8]}"
    patient_urn = f"urn:uuid:{uuid.uuid4()}"
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": patient_urn, "resource": {"resourceType": "Patient", "name": [{"family": family}]},
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": _document_reference(patient_urn), "request": {"method": "POST", "url": "DocumentReference"}},
        {"resource": _document_reference(f"urn:uuid:{uuid.uuid4()}"),
         "request": {"method": "POST", "url": "DocumentReference"}}]}
    r = await fhir.post("", json=bundle, headers=FHIR)
    assert r.status_code == 422, r.text
    assert r.json()["issue"][0]["expression"] == ["Bundle.entry[2]", "DocumentReference.subject"]
    assert (await fhir.get("Patient", params={"family": family, "_summary": "count"})).json()["total"] == 0
    bundle["entry"] = bundle["entry"][:2]
    ok = await fhir.post("", json=bundle, headers=FHIR)
    assert ok.status_code == 200 and [e["response"]["status"] for e in ok.json()["entry"]] == ["201", "201"]
