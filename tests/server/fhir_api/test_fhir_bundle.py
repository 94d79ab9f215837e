"""batch and transaction Bundles posted to /fhir."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.db
FHIR = {"Content-Type": "application/fhir+json"}


def _tx(entries: list[dict[str, Any]], kind: str = "transaction") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def _obs(patient_ref: str, value: float) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "2951-2"}]},
            "subject": {"reference": patient_ref},
            "valueQuantity": {"value": value, "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                              "code": "mmol/L"}}


async def test_transaction_resolves_urn_uuid_references(fhir: httpx.AsyncClient) -> None:
    ipp = uuid.uuid4().hex
    purl = f"urn:uuid:{uuid.uuid4()}"
    entries = [{"fullUrl": purl, "resource": {"resourceType": "Patient", "identifier": [{"system": "urn:tx",
                                                                                          "value": ipp}]},
                "request": {"method": "POST", "url": "Patient"}}]
    entries += [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": _obs(purl, 140 + i),
                 "request": {"method": "POST", "url": "Observation"}} for i in range(20)]
    r = await fhir.post("", json=_tx(entries), headers=FHIR)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "transaction-response"
    assert all(e["response"]["status"] == "201" for e in body["entry"])
    pid = body["entry"][0]["response"]["location"].split("/")[1]
    obs = (await fhir.get("Observation", params={"subject": f"Patient/{pid}", "_count": "50"})).json()
    assert obs["total"] == 20
    assert {e["resource"]["subject"]["reference"] for e in obs["entry"]} == {f"Patient/{pid}"}


async def test_transaction_with_one_invalid_entry_writes_nothing(fhir: httpx.AsyncClient) -> None:
    ipp = uuid.uuid4().hex
    purl = f"urn:uuid:{uuid.uuid4()}"
    entries = [
        {"fullUrl": purl, "resource": {"resourceType": "Patient", "identifier": [{"system": "urn:tx", "value": ipp}]},
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": _obs(purl, 4.1), "request": {"method": "POST", "url": "Observation"}},
        {"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "bad"},
                      "valueQuantity": {"value": "four"}}, "request": {"method": "POST", "url": "Observation"}},
    ]
    r = await fhir.post("", json=_tx(entries), headers=FHIR)
    assert r.status_code == 422
    outcome = r.json()
    assert outcome["issue"][0]["expression"][0] == "Bundle.entry[2]"
    assert (await fhir.get("Patient", params={"identifier": f"urn:tx|{ipp}"})).json()["total"] == 0


async def test_transaction_failing_during_writes_is_rolled_back(fhir: httpx.AsyncClient) -> None:
    """The second entry passes validation but fails when run (stale If-Match): the first is undone."""
    created = (await fhir.post("Patient", json={"resourceType": "Patient", "gender": "male"}, headers=FHIR)).json()
    ipp = uuid.uuid4().hex
    entries = [
        {"resource": {"resourceType": "Patient", "identifier": [{"system": "urn:tx", "value": ipp}]},
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": {**created, "gender": "female"},
         "request": {"method": "PUT", "url": f"Patient/{created['id']}", "ifMatch": 'W/"7"'}},
    ]
    r = await fhir.post("", json=_tx(entries), headers=FHIR)
    assert r.status_code == 412
    assert (await fhir.get("Patient", params={"identifier": f"urn:tx|{ipp}"})).json()["total"] == 0
    assert (await fhir.get(f"Patient/{created['id']}")).json()["gender"] == "male"


async def test_batch_runs_each_entry_on_its_own(fhir: httpx.AsyncClient) -> None:
    entries = [
        {"resource": {"resourceType": "Patient", "gender": "female"}, "request": {"method": "POST", "url": "Patient"}},
        {"request": {"method": "GET", "url": "Patient/does-not-exist"}},
        {"resource": {"resourceType": "Patient", "gender": "robot"}, "request": {"method": "POST", "url": "Patient"}},
        {"request": {"method": "GET", "url": "Patient?_count=1"}},
    ]
    body = (await fhir.post("", json=_tx(entries, "batch"), headers=FHIR)).json()
    assert body["type"] == "batch-response"
    assert [e["response"]["status"] for e in body["entry"]] == ["201", "404", "422", "200"]
    assert body["entry"][2]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert body["entry"][3]["resource"]["type"] == "searchset"


async def test_transaction_conditional_create_reuses_existing(fhir: httpx.AsyncClient) -> None:
    ipp = uuid.uuid4().hex
    await fhir.post("Patient", json={"resourceType": "Patient", "identifier": [{"system": "urn:tx", "value": ipp}]},
                    headers=FHIR)
    purl = f"urn:uuid:{uuid.uuid4()}"
    entries = [{"fullUrl": purl, "resource": {"resourceType": "Patient", "identifier": [{"system": "urn:tx",
                                                                                          "value": ipp}]},
                "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier=urn:tx|{ipp}"}},
               {"resource": _obs(purl, 3.3), "request": {"method": "POST", "url": "Observation"}}]
    body = (await fhir.post("", json=_tx(entries), headers=FHIR)).json()
    assert body["entry"][0]["response"]["status"] == "200"
    assert (await fhir.get("Patient", params={"identifier": f"urn:tx|{ipp}"})).json()["total"] == 1


async def test_bundle_of_wrong_type_is_refused(fhir: httpx.AsyncClient) -> None:
    r = await fhir.post("", json={"resourceType": "Bundle", "type": "collection"}, headers=FHIR)
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["Bundle.type"]
    r = await fhir.post("", json={"resourceType": "Patient"}, headers=FHIR)
    assert r.status_code == 400


async def test_transaction_entry_whose_body_contradicts_its_url_is_refused(fhir: httpx.AsyncClient) -> None:
    entries = [{"resource": {"resourceType": "Device"}, "request": {"method": "POST", "url": "Patient"}}]
    r = await fhir.post("", json=_tx(entries), headers=FHIR)
    assert r.status_code == 400 and r.json()["issue"][0]["expression"][:2] == ["Bundle.entry[0]", "resourceType"]
